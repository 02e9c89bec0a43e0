"""Features of candidate answer sentences and of the chosen answer, for the reader model.

Shared by fitting (benchmarks/fit_reader.py, over cached retrieval) and the
query path (qa/answerer.py, over an `AnswerRequest`), so both compute exactly
the same numbers. Plain Python and NumPy.

Every sentence of every retrieved passage is a candidate. Besides the word
overlap the previous answerer used, it is described by its neighbours (a
sentence saying "the drone" after one naming it), by whether it holds the
kind of thing the question asks for, by whether it looks like a headline,
caption, photo credit or the document's first line, by the question's cosine
with its in-context vector from ingest, and by its passage's retrieval score
and rank. `SENTENCE_FEATURES` names the columns; `CONFIDENCE_FEATURES` those
of the confidence model, which describes the chosen answer as a whole.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from index.lexicon import packaged_lexicon
from qa.reader import spans as span_lib
from qa.reader.names import name_forms
from qa.reader.paraphrase import Predicate, soft_matches
from qa.reader.question import KINDS, QuestionProfile
from qa.reader.span_rows import short_span_types
from seedqa.text import Span, sentences, terms


@dataclass(frozen=True)
class ReaderInput:
    """What the reader reads: the question and the retrieved passages, best first."""

    question: str
    passages: tuple  # qa.types.Citation
    idf: Callable[[str], float]
    earlier: tuple[str, ...] = ()
    # Per passage, the question's cosine with each of its sentences (None: not stored).
    cosines: tuple[np.ndarray | None, ...] = ()


@dataclass(frozen=True)
class Sentence:
    passage: int
    number: int  # within the passage
    span: Span  # offsets in the passage text
    text: str
    # Its words, split once here for both the sentence and the span features.
    words: tuple[span_lib.Word, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class SentenceTable:
    profile: QuestionProfile
    sentences: tuple[Sentence, ...]
    features: np.ndarray  # one row per sentence, columns TABLE_FEATURES (then SPAN_COLUMNS)
    passage_terms: tuple[frozenset[str], ...]
    passage_stems: tuple[frozenset[str], ...]  # every word, stop words included
    # Per passage, the retrieved passages just before and after it in its document.
    context: tuple[tuple[int | None, int | None], ...]


@dataclass(frozen=True)
class _PassageView:
    """A passage split once into what the features read."""

    spans: list[Span]
    pieces: list[str]
    term_lists: list[list[str]]
    term_sets: list[frozenset[str]]
    word_lists: list[list]
    stem_sets: list[frozenset[str]]  # per sentence: its stems and name forms (_stems)
    terms: frozenset[str]
    stems: frozenset[str]
    credits: list[bool]
    cosines: np.ndarray
    measured: bool  # the cosines are the sentences' own, not their passage's
    # Its sentences in the text's flow: all but photo captions and credits.
    flow: tuple[int, ...]


_CREDIT = re.compile(r"\((?:[A-Z][\w.'’-]*\s*){1,5}(?:/|via\s)[^()]{1,60}\)\s*$|"
                     r"\b(?:Photo|Picture|Image)s?(?::|\s+by)\s", re.I)
_BYLINE = re.compile(r"^\s*(?:By\s+[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}|"
                     r"[A-Z][\w.'’-]+\s+[A-Z][\w.'’-]+,\s+(?:BBC|AP|Reuters)\b)", re.I)
_ANAPHOR = frozenset("it its it's they their them he his she her this these those such "
                     "the that there".split())
_FINAL = '.!?"”’)'
# "What / which / why" questions can be answered by any phrase: no type to look for.
UNTYPED = ("thing", "reason", "other")


def _share(found: set | frozenset, weights: dict[str, float], total: float) -> float:
    return sum(w for t, w in weights.items() if t in found) / total if total > 0 else 0.0


def sentence_table(reader: ReaderInput, profile: QuestionProfile | None = None) -> SentenceTable:
    profile = profile or QuestionProfile.of(reader.question, reader.idf, reader.earlier)
    weights, total = profile.weights, profile.total
    # The question's words other than its names: what it says about them (its predicate).
    predicate = {t: w for t, w in weights.items() if t not in profile.names} or weights
    predicate_total = sum(predicate.values())
    asked, lexicon = Predicate.of(reader.question, predicate), packaged_lexicon()
    typed = profile.kind not in UNTYPED
    exact_kinds = span_lib.typed_kinds(profile.kind) if typed else set()
    loose_kinds = span_lib.LOOSE.get(profile.kind, set()) if typed else set()
    kind_row = [1.0 if profile.kind == kind else 0.0 for kind in KINDS]
    found: list[Sentence] = []
    raw: list[list[float]] = []
    scores = [float(p.score) for p in reader.passages]
    lexical_top = max([p.lexical_score or 0.0 for p in reader.passages] + [1e-9])
    views = [_view(p, reader.cosines[r] if r < len(reader.cosines) else None)
             for r, p in enumerate(reader.passages)]
    context = adjacent(reader.passages)
    for rank, passage in enumerate(reader.passages):
        view = views[rank]
        spans, pieces, cosines, credits = view.spans, view.pieces, view.cosines, view.credits
        term_sets, word_lists = view.term_sets, view.word_lists
        held_types = (short_span_types(word_lists, profile) if typed
                      else [set()] * len(word_lists))
        passage_match = _share(view.terms, weights, total)
        around = [views[i] for i in context[rank] if i is not None]
        context_match = _share(view.terms.union(*(v.terms for v in around)), weights, total)
        context_missing = _missing(profile.names, view.stems.union(*(v.stems for v in around)))
        # A document's lead: its first sentence that is not a headline-like line.
        lead = -1
        if passage.start == 0:
            lead = next((i for i, piece in enumerate(pieces) if not _is_headline(piece)), -1)
        names_missing = _missing(profile.names, view.stems)
        soft = soft_matches(lexicon, asked, word_lists, term_sets)
        for number, (span, piece) in enumerate(zip(spans, pieces)):
            own = term_sets[number]
            listed = view.term_lists[number]
            pairs = set(zip(listed, listed[1:]))
            (prev_terms, prev_cos), (next_terms, next_cos) = _flow(views, context[rank], rank,
                                                                   number)
            match = _share(own, weights, total)
            words = word_lists[number]
            n_words = len(piece.split())
            first_word = words[0].folded if words else ""
            headline = 1.0 if _is_headline(piece) else 0.0
            cosine = float(cosines[number])
            new_terms = [t for t in own if t not in weights]
            sentence_stems = view.stem_sets[number]
            exact = bool(held_types[number] & exact_kinds)
            loose = bool(held_types[number] & loose_kinds) and not exact
            counted = bool(profile.counted) and any(
                w.numeric and any(v.stem in profile.counted for v in words[i + 1 : i + 4])
                for i, w in enumerate(words))
            prev_match = _share(prev_terms, weights, total)
            predicate_match = _share(own, predicate, predicate_total)
            row = [
                match, len(profile.bigrams & pairs) / len(profile.bigrams) if profile.bigrams
                else 0.0, passage_match, prev_match, _share(next_terms, weights, total),
                _share(own | prev_terms, weights, total), _share(own | next_terms, weights, total),
                cosine, prev_cos, next_cos, 1.0 if view.measured else 0.0,
                1.0 / (rank + 1), 1.0 if rank == 0 else 0.0,
                scores[rank] - scores[0], passage.dense_score or 0.0,
                (passage.lexical_score or 0.0) / lexical_top,
                1.0 if exact else 0.0, 1.0 if loose else 0.0,
                1.0 if counted else 0.0,
                1.0 if profile.noun & own else 0.0,
                headline, 1.0 if credits[number] else 0.0,
                1.0 if _BYLINE.match(piece) else 0.0,
                headline if passage.start == 0 and number == 0 else 0.0,
                1.0 if number == lead else 0.0,
                1.0 if number == 0 else 0.0, 1.0 if number + 1 == len(spans) else 0.0,
                math.log1p(n_words), 1.0 if n_words > 40 else 0.0,
                len(new_terms) / max(1, len(own)), math.log1p(len(new_terms)),
                _missing(profile.names, sentence_stems), names_missing,
                prev_match * (1.0 if first_word in _ANAPHOR else 0.0),
                number / max(1, len(spans)), math.log(len(spans)),
                predicate_match, cosine - (passage.dense_score or 0.0),
                context_match, context_missing, soft[number], soft[number] - predicate_match,
                *[(1.0 if exact else 0.0) * k for k in kind_row],
            ]
            found.append(Sentence(rank, number, span, piece, tuple(words)))
            raw.append(row)
    table = np.asarray(raw, dtype=np.float64).reshape(len(raw), len(_BASE) + len(KINDS))
    if len(table):
        # The previous answerer's hand-weighted score (word overlap, phrases, the
        # passage's overlap and rank, type, 0.2 x cosine): one column among the rest.
        c = {name: i for i, name in enumerate(_BASE)}
        hand = (0.5 * table[:, c["match"]] + 0.3 * table[:, c["bigram"]]
                + 0.2 * table[:, c["passage_match"]] + 0.08 * table[:, c["inv_rank"]]
                + 0.1 * table[:, c["type_exact"]] + 0.2 * table[:, c["cosine"]])
        table = np.column_stack([table, hand])
        # Relative to the question's best candidate: what stands out matters, not the level.
        for column in (0, 1, 7, c["predicate_match"], c["soft_predicate"],
                       table.shape[1] - 1):
            table = np.column_stack([table, table[:, column] - table[:, column].max()])
    else:
        table = np.zeros((0, len(TABLE_FEATURES)))
    return SentenceTable(profile, tuple(found), table, tuple(v.terms for v in views),
                         tuple(v.stems for v in views), tuple(context))


def _view(passage, cosines: np.ndarray | None) -> _PassageView:
    split = _split(passage.text)
    measured = cosines is not None and len(cosines) == len(split.spans)
    if not measured:
        # No sentence vectors stored (an index made before them, a chunk of very many
        # lines): each sentence is taken to be as close to the question as its passage.
        cosines = np.full(len(split.spans), passage.dense_score or 0.0)
    return replace(split, cosines=cosines, measured=measured)


@functools.lru_cache(maxsize=256)  # about 90 kB each
def _split(text: str) -> _PassageView:
    """What the features read of a passage's text alone, whatever the question: a chat's
    questions about one document retrieve the same passages again and again."""
    spans = sentences(text)
    pieces = [text[b:e] for b, e in spans]
    term_lists = [terms(piece) for piece in pieces]
    term_sets = [frozenset(listed) for listed in term_lists]
    word_lists = [span_lib.sentence_words(piece) for piece in pieces]
    stem_sets = [_stems(words) for words in word_lists]
    credits = [bool(_CREDIT.search(piece)) for piece in pieces]
    return _PassageView(spans, pieces, term_lists, term_sets, word_lists, stem_sets,
                        frozenset().union(*term_sets), frozenset().union(*stem_sets),
                        credits, np.zeros(0), False,
                        tuple(i for i, credit in enumerate(credits) if not credit))


# Passages this far apart (a paragraph break) are one stretch of their document's text.
_ADJACENT_GAP = 4


def adjacent(passages: Sequence) -> list[tuple[int | None, int | None]]:
    """Per passage, the retrieved passages that end just before and start just after it.

    A news paragraph is often one sentence and one chunk: what "the drones" are,
    or that they were over Odesa, is in the paragraph before, which retrieval
    often returns too. Read together, the two are one text, as in the document.
    """
    found: list[list[int | None]] = [[None, None] for _ in passages]
    for i, a in enumerate(passages):
        for j, b in enumerate(passages):
            if (i != j and a.source == b.source and a.page == b.page
                    and 0 <= b.start - a.end <= _ADJACENT_GAP):
                found[i][1], found[j][0] = j, i  # b follows a
    return [(f[0], f[1]) for f in found]


def _flow(views: Sequence[_PassageView], around: tuple[int | None, int | None], rank: int,
          number: int) -> tuple[tuple[frozenset[str], float], tuple[frozenset[str], float]]:
    """The terms and question cosine of the sentences before and after sentence `number`
    of passage `rank` in the text's flow, reaching into an adjacent retrieved passage.

    A photo caption or credit set between two paragraphs ("... (Michael Shtekel/AP)")
    is not part of the flow, so "The drones targeted ..." still follows the sentence
    naming them."""
    view = views[rank]
    before = [(view, i) for i in view.flow if i < number] or _edge(views, around[0], -1)
    after = [(view, i) for i in view.flow if i > number] or _edge(views, around[1], 0)
    none = (frozenset(), 0.0)
    return (_terms_and_cosine(*before[-1]) if before else none,
            _terms_and_cosine(*after[0]) if after else none)


def _edge(views: Sequence[_PassageView], index: int | None, end: int
          ) -> list[tuple[_PassageView, int]]:
    """The last (`end` -1) or first (0) sentence in the flow of passage `index`, if any."""
    if index is None or not views[index].flow:
        return []
    return [(views[index], views[index].flow[end])]


def _terms_and_cosine(view: _PassageView, number: int) -> tuple[frozenset[str], float]:
    return view.term_sets[number], float(view.cosines[number])


def _stems(words: Sequence[span_lib.Word]) -> frozenset[str]:
    """Every word's stem and the other forms of its names (qa/reader/names.py), and the
    parts of a hyphenated word: the question's "Geran-5" is the key names "geran", "5"."""
    return name_forms(words, (part for w in words if not w.folded.isalnum()
                              for part in span_lib.parts(w.folded)))


def title_names(title: str) -> frozenset[str]:
    """The names a document's title holds, in the forms its passages' are matched in."""
    return _stems(span_lib.sentence_words(title or ""))


def _span_type(sentence: Sentence, span: Span) -> str | None:
    words = sentence.words or tuple(span_lib.sentence_words(sentence.text))
    first = next((i for i, w in enumerate(words) if w.begin == span[0]), None)
    last = next((i for i, w in enumerate(words) if w.end == span[1]), None)
    if first is None or last is None:
        return None
    return span_lib.word_type(words, first, last)


def _is_headline(piece: str) -> bool:
    """A short line without final punctuation: a title, a heading, a caption."""
    return len(piece.split()) <= 14 and piece.rstrip()[-1:] not in _FINAL


def _missing(names: Sequence[str], stems: frozenset[str]) -> float:
    """Share of the question's key names absent from `stems` (0 when it names none)."""
    if not names:
        return 0.0
    return sum(1 for name in names if name not in stems) / len(names)


_BASE = (
    "match", "bigram", "passage_match", "prev_match", "next_match", "with_prev_match",
    "with_next_match", "cosine", "prev_cosine", "next_cosine", "has_cosine",
    "inv_rank", "top_passage", "score_gap", "dense", "lexical_rel",
    "type_exact", "type_loose", "counted_number", "asked_noun", "headline", "credit",
    "byline", "title_line", "lead", "passage_first", "passage_last", "log_words", "long",
    "novelty", "log_new_terms", "names_missing_sentence", "names_missing_passage",
    "anaphor_after_match", "position", "log_passage_sentences", "predicate_match",
    "cosine_over_passage", "context_match", "names_missing_context", "soft_predicate",
    "soft_gain",
)
# The columns `sentence_table` computes ...
TABLE_FEATURES = (*_BASE, *[f"type_exact_x_{k}" for k in KINDS], "hand_score",
                  "match_gap", "bigram_gap", "cosine_gap", "predicate_match_gap",
                  "soft_predicate_gap", "hand_score_gap")
# ... and those the reader adds from the span head's best span in each sentence
# (qa/reader/reader.py): a sentence holding a span of the asked kind next to the
# question's words reads as an answer; a lead that only repeats the question does not.
SPAN_COLUMNS = ("span_logit", "span_margin", "span_logit_gap")
SENTENCE_FEATURES = (*TABLE_FEATURES, *SPAN_COLUMNS)


def confidence_features(table: SentenceTable, logits: np.ndarray, chosen: int,
                        span_logit: float | None, reader: ReaderInput,
                        span: Span | None = None) -> list[float]:
    """One row of `CONFIDENCE_FEATURES` for answering with sentence `chosen`, whose best
    span is `span` (offsets in its text)."""
    profile = table.profile
    sentence = table.sentences[chosen]
    # "How old is he?" answered by a sentence whose best span is no number, "how much
    # did he pay" by a percentage: the kind asked for is not what the answer gives.
    typed = profile.kind not in UNTYPED
    of_kind = typed and span is not None and _span_type(sentence, span) in span_lib.typed_kinds(
        profile.kind)
    row = table.features[chosen]
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    best = float(logits[chosen])
    others = np.delete(logits, chosen)
    second = float(others.max()) if len(others) else best - 10.0
    other_passages = [float(logits[i]) for i, s in enumerate(table.sentences)
                      if s.passage != sentence.passage]
    stems = table.passage_stems[sentence.passage]
    around = table.context[sentence.passage]
    context_stems = stems.union(*(table.passage_stems[i] for i in around if i is not None))
    names = profile.names
    absent_everywhere = (sum(1 for n in names if not any(n in s for s in table.passage_stems))
                         / len(names)) if names else 0.0
    asked = {t: w for t, w in profile.weights.items() if t not in profile.noun} or profile.weights
    passage_terms = table.passage_terms[sentence.passage]
    missing = [w for t, w in asked.items() if t not in passage_terms]
    top_idf = max(asked.values(), default=1.0) or 1.0
    kind_row = [1.0 if profile.kind == kind else 0.0 for kind in KINDS]
    return [
        best, best - second, best - (max(other_passages) if other_passages else best - 10.0),
        span_logit if span_logit is not None else -5.0, 1.0 if span_logit is None else 0.0,
        _missing(names, stems), 1.0 if any(n not in stems for n in names) else 0.0,
        _missing(names, context_stems),
        absent_everywhere, min(len(names), 4) / 4.0,
        _share(passage_terms, asked, sum(asked.values())),
        max(missing, default=0.0) / top_idf, len(missing) / max(1, len(asked)),
        row[col["match"]], row[col["cosine"]], row[col["dense"]], row[col["inv_rank"]],
        row[col["type_exact"]], 1.0 if of_kind else 0.0, 1.0 if typed and not of_kind else 0.0,
        row[col["headline"]], float(reader.passages[0].score),
        math.log1p(len(profile.terms)),
        *kind_row,
    ]


CONFIDENCE_FEATURES = (
    "sentence_logit", "margin", "margin_other_passages", "span_logit", "no_span",
    "names_missing", "any_name_missing", "names_missing_context", "names_missing_everywhere",
    "names",
    "coverage", "missing_top_idf", "missing_share", "match", "cosine", "dense", "inv_rank",
    "type_exact", "span_of_kind", "span_not_of_kind", "headline", "top_score", "question_terms",
    *[f"kind_{k}" for k in KINDS],
)
