"""Fitting the reader's heads from cached retrieval (benchmarks/reader_data.py).

Feature matrices come from the same code the answerer runs (qa/reader/); the
logistic regressions are scikit-learn's and the sentence ranker LightGBM's (the
`fit` extra), exported as plain mean / scale / coefficients and flat tree arrays
for qa/reader/model.py. Every question belongs to a fold named by its article,
so nothing is ever scored by a head fitted on its own article.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.reader_data import CachedQuestion, CachedSet
from evaluation.questions import find_any, normalize
from qa.answerer import AnswerRequest
from qa.reader.features import ReaderInput, sentence_table
from qa.reader.model import LogisticHead, ReaderModel, TreesHead
from qa.reader.reader import (
    PREDICATE,
    says_what_was_asked,
    span_table,
    with_span_columns,
)

FOLDS = 4
READER_SOURCES = Path(__file__).resolve().parents[1] / "qa" / "reader"
LEXICON_SOURCE = READER_SOURCES.parents[1] / "index" / "lexicon.py"


def span_fold_names(questions: Sequence[CachedQuestion], folds: Sequence[str]) -> list[str]:
    """The folds the span head is cross-fitted over: the sentence folds, with the fitting
    news articles in two halves. The span head's best-span scores are sentence features,
    so every question is read by a span head that never saw its article; odd news is
    read by the head fitted on all the rest ("")."""
    names = []
    for q, fold in zip(questions, folds):
        if fold == "news-even":
            digits = "".join(ch for ch in q.article if ch.isdigit()) or "0"
            names.append(f"news-even-{int(digits) // 2 % 2}")
        elif fold == "news-odd":
            names.append("")
        else:
            names.append(fold)
    return names


def fold_names(questions: Sequence[CachedQuestion]) -> list[str]:
    """Each question's fold: its set and its article's place in the set's sorted articles.

    News articles whose file number is even are fitted on, odd ones only reported on.
    """
    articles: dict[str, list[str]] = {}
    for q in questions:
        articles.setdefault(q.dataset, [])
        if q.article not in articles[q.dataset]:
            articles[q.dataset].append(q.article)
    order = {name: sorted(found) for name, found in articles.items()}
    names = []
    for q in questions:
        if q.dataset.startswith("news"):
            digits = "".join(ch for ch in q.article if ch.isdigit()) or "0"
            names.append("news-even" if int(digits) % 2 == 0 else "news-odd")
        else:
            names.append(f"{q.dataset}-{order[q.dataset].index(q.article) % FOLDS}")
    return names


def idf_of(cached: CachedSet):
    table, missing = cached.idf, cached.idf_missing
    return lambda term: table.get(term, missing)


def reader_of(q: CachedQuestion, cached: CachedSet) -> ReaderInput:
    return ReaderInput(q.question, tuple(q.passages), idf_of(cached), tuple(q.earlier),
                       tuple(q.cosines))


def request_of(q: CachedQuestion, cached: CachedSet) -> AnswerRequest:
    """The answerer's request, rebuilt from the cache (which keeps the sentence cosines)."""
    cosines = tuple(None if c is None else tuple(float(x) for x in c) for c in q.cosines)
    request = AnswerRequest.model_construct(question=q.question, passages=tuple(q.passages),
                                            earlier=tuple(q.earlier), term_weights={},
                                            unknown_weight=1.0, sentence_cosines=cosines)
    return request.attach(idf_of(cached), None)


@dataclass
class Matrices:
    """Sentence and span rows of every question, with labels and the question each belongs to."""

    sentence_x: np.ndarray
    sentence_y: np.ndarray
    sentence_q: np.ndarray
    span_x: np.ndarray
    span_y: np.ndarray
    span_q: np.ndarray
    named: np.ndarray  # per question: it has key names (`says_what_was_asked`)


def _code_hash() -> str:
    digest = hashlib.sha1()
    # The word vectors behind the soft matches are part of what the features compute.
    for path in [*sorted(READER_SOURCES.glob("*.py")), LEXICON_SOURCE]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def matrices(questions: Sequence[CachedQuestion], sets: dict[str, CachedSet],
             workdir: Path) -> Matrices:
    """Feature rows for all questions, cached under `workdir` per version of qa/reader/."""
    key = hashlib.sha1(("|".join(q.id for q in questions) + _code_hash()).encode()).hexdigest()
    path = workdir / f"features-{key[:16]}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    sx, sy, sq, px, py, pq, named = [], [], [], [], [], [], []
    for number, q in enumerate(questions):
        reader = reader_of(q, sets[q.dataset])
        table = sentence_table(reader)
        labels = [q.answerable and find_any(s.text, q.answers) is not None
                  for s in table.sentences]
        sx.append(table.features.astype(np.float32))
        named.append(bool(table.profile.names))
        sy.extend(labels)
        sq.extend([number] * len(labels))
        if any(labels):  # the spans of the first sentence that holds an answer
            sentence = table.sentences[labels.index(True)]
            words, found, features = span_table(sentence.text, table, reader, sentence.words)
            accepted = {normalize(a) for a in q.answers}
            for first, last in found:
                text = sentence.text[words[first].begin : words[last].end]
                py.append(normalize(text) in accepted)
            px.append(features.astype(np.float32))
            pq.extend([number] * len(found))
        if number % 2000 == 0:
            print(f"features: {number}/{len(questions)}", file=sys.stderr)
    result = Matrices(np.vstack(sx), np.asarray(sy, bool), np.asarray(sq),
                      np.vstack(px), np.asarray(py, bool), np.asarray(pq),
                      np.asarray(named, bool))
    path.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return result


_SPAN_JOB: tuple = ()


def _span_rows(indices: np.ndarray) -> list[np.ndarray]:
    questions, sets, heads, span_folds = _SPAN_JOB
    out = []
    for i in indices:
        q = questions[i]
        reader = reader_of(q, sets[q.dataset])
        table = sentence_table(reader)
        extended, _ = with_span_columns(table, reader, heads[span_folds[i]])
        out.append(extended.features[:, table.features.shape[1]:].astype(np.float32))
    return out


def span_columns(questions: Sequence[CachedQuestion], sets: dict[str, CachedSet],
                 heads: dict[str, LogisticHead], span_folds: Sequence[str],
                 workdir: Path) -> np.ndarray:
    """SPAN_COLUMNS of every sentence, each question read by its span fold's head.

    The slow part of a refit (every sentence's candidate spans), so it runs on both
    cores and is cached per version of qa/reader/ and of the heads."""
    import multiprocessing

    digest = hashlib.sha1(_code_hash().encode() + "|".join(span_folds).encode())
    for name in sorted(heads):
        digest.update(name.encode() + heads[name].coef.tobytes() + heads[name].mean.tobytes())
    path = workdir / f"spans-{digest.hexdigest()[:16]}.npy"
    if path.exists():
        return np.load(path)
    global _SPAN_JOB
    _SPAN_JOB = (questions, sets, heads, list(span_folds))
    chunks = np.array_split(np.arange(len(questions)), 32)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        parts = pool.map(_span_rows, chunks)
    _SPAN_JOB = ()
    result = np.vstack([rows for part in parts for rows in part])
    np.save(path, result)
    return result


def fit_head(x: np.ndarray, y: np.ndarray, names: Sequence[str], strength: float = 1.0,
             weight: np.ndarray | None = None) -> LogisticHead:
    """A standardised logistic regression, exported for NumPy inference."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=strength, max_iter=3000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    return LogisticHead(tuple(names), mean, scale, model.coef_[0].astype(np.float64),
                        float(model.intercept_[0]))


def fit_ranker(x: np.ndarray, y: np.ndarray, question: np.ndarray, names: Sequence[str],
               trees: int = 300, depth: int = 6, bags: int = 1,
               weight: np.ndarray | None = None) -> TreesHead:
    """Gradient-boosted trees ranking each question's sentences (LightGBM's LambdaRank,
    judged on its top 5), exported as flat node arrays for NumPy inference.

    Ranking, not classifying: the answerer takes a question's best sentence, so what
    counts is which sentence beats the others of the same question, not each one's
    absolute chance; on held-out folds this lifted top-1 over the pointwise trees.
    With `bags` > 1, that many rankers, each on 80% of the questions and of the
    features (other seeds), are averaged: one ranker's choice between two close
    sentences moves with its seed. `question` labels the rows' questions, in runs.
    The scores are not probabilities until `calibrated`.
    """
    import lightgbm

    starts = np.flatnonzero(np.r_[True, question[1:] != question[:-1]])
    groups = np.diff(np.r_[starts, len(question)])
    x, y = np.asarray(x, np.float64), np.asarray(y, int)
    bagged = {"subsample": 0.8, "subsample_freq": 1, "bagging_by_query": True,
              "colsample_bytree": 0.8} if bags > 1 else {}
    info, check = [], np.zeros(min(len(x), 500))
    for seed in range(bags):
        model = lightgbm.LGBMRanker(n_estimators=trees, learning_rate=0.05, num_leaves=31,
                                    max_depth=depth, min_child_samples=50,
                                    lambdarank_truncation_level=5, random_state=seed, n_jobs=2,
                                    verbose=-1, **bagged)
        model.fit(x, y, group=groups, sample_weight=weight)
        info += model.booster_.dump_model()["tree_info"]
        check += model.predict(x[:500], raw_score=True) / bags
    head = calibrated(trees_head(info, names), 1.0 / bags, 0.0)
    assert np.allclose(head.logits(x[:500]), check, atol=1e-6)
    return head


def trees_head(tree_info: list[dict], names: Sequence[str]) -> TreesHead:
    """LightGBM's dumped trees (`dump_model()["tree_info"]`) as one TreesHead."""
    flat = [_flat_tree(tree["tree_structure"]) for tree in tree_info]
    width = max(len(nodes) for nodes in flat)

    def column(field: int, fill, dtype) -> np.ndarray:
        out = np.full((len(flat), width), fill, dtype=dtype)
        for i, nodes in enumerate(flat):
            out[i, : len(nodes)] = [node[field] for node in nodes]
        return out

    return TreesHead(tuple(names), column(0, 0, np.int64), column(1, 0.0, np.float64),
                     column(2, 0, np.int64), column(3, 0, np.int64), column(4, True, bool),
                     column(5, 0.0, np.float64), 0.0,
                     max(node[6] for nodes in flat for node in nodes) + 1)


def _flat_tree(root: dict) -> list[tuple]:
    """A LightGBM tree dump as (feature, threshold, left, right, is_leaf, value, depth) rows,
    the root first."""
    nodes: list[tuple] = []

    def visit(node: dict, depth: int) -> int:
        index = len(nodes)
        nodes.append(())
        if "leaf_value" in node:
            nodes[index] = (0, 0.0, 0, 0, True, float(node["leaf_value"]), depth)
            return index
        # Numerical "x <= threshold" splits only: the features hold no NaN or categories.
        assert node["decision_type"] == "<=", node["decision_type"]
        left = visit(node["left_child"], depth + 1)
        right = visit(node["right_child"], depth + 1)
        nodes[index] = (int(node["split_feature"]), float(node["threshold"]), left, right,
                        False, 0.0, depth)
        return index

    visit(root, 0)
    return nodes


def calibrated(head: TreesHead, slope: float, intercept: float) -> TreesHead:
    """`head` whose logits are slope * logits + intercept: ranking scores made log-odds."""
    return replace(head, value=head.value * slope, baseline=head.baseline * slope + intercept)


def platt(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The slope and intercept turning scores into log-odds of the labels (Platt scaling)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000).fit(np.asarray(scores)[:, None], labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def zero_head(names: Sequence[str]) -> LogisticHead:
    size = len(names)
    return LogisticHead(tuple(names), np.zeros(size), np.ones(size), np.zeros(size), 0.0)


def with_heads(sentence, span: LogisticHead, confidence: LogisticHead | None = None,
               abstain: float = 0.0, sure: float = 0.0, span_threshold: float = 0.0,
               card: dict | None = None, span_typed: float | None = None,
               margin: float = 2.0) -> ReaderModel:
    from qa.reader.features import CONFIDENCE_FEATURES

    return ReaderModel(sentence, span, confidence or zero_head(CONFIDENCE_FEATURES), abstain,
                       sure, span_threshold, card or {}, span_typed, margin)


MARGINS = (0.0, 0.5, 0.6, 1.0, 1.5, 2.0, 3.0)


def margin_choice(logits: np.ndarray, mats: Matrices, weight: np.ndarray
                  ) -> tuple[float, dict[float, float]]:
    """The predicate margin (`says_what_was_asked`) whose first sentence holds an answer
    most often, weighted by question, over the sentences with held-out `logits` (NaN
    elsewhere); and the share each margin reached."""
    rows = np.flatnonzero(~np.isnan(logits))
    groups = np.split(rows, np.flatnonzero(np.diff(mats.sentence_q[rows])) + 1)
    predicate = mats.sentence_x[:, PREDICATE]
    shares = {}
    for margin in MARGINS:
        hits = total = 0.0
        for group in groups:
            order = np.argsort(-logits[group], kind="stable")
            question = mats.sentence_q[group[0]]
            first = says_what_was_asked(order, logits[group], predicate[group], margin,
                                        bool(mats.named[question]))[0]
            w = weight[question]
            hits += w * mats.sentence_y[group[first]]
            total += w
        shares[margin] = hits / total
    return max(MARGINS, key=lambda m: (shares[m], -m)), shares


def false_abstention_threshold(confidences: Sequence[float], allowed: float) -> float:
    """The highest threshold below which at most `allowed` of `confidences` fall."""
    values = np.sort(np.asarray(confidences, dtype=float))
    count = int(np.floor(allowed * len(values)))
    return float(values[min(count, len(values) - 1)]) if len(values) else 0.0


def sure_threshold(confidences: Sequence[float], correct: Sequence[bool], precision: float,
                   least: int = 50) -> float:
    """The lowest confidence above which at least `precision` of the answers are right."""
    order = np.argsort(-np.asarray(confidences))
    values = np.asarray(confidences)[order]
    right = np.cumsum(np.asarray(correct, float)[order])
    shares = right / np.arange(1, len(values) + 1)
    ok = [i for i in range(least, len(values)) if shares[i] >= precision]
    return float(values[max(ok)]) if ok else 1.0


def span_threshold(probabilities: Sequence[float], correct: Sequence[bool],
                   precision: float) -> float:
    """The lowest span probability above which at least `precision` of spans hold an answer."""
    return sure_threshold(probabilities, correct, precision, least=50)
