"""The expensive half of fitting the reader: indexes, retrieval, cached per question.

For each question set it builds (once) a seedqa index of its documents under
`--workdir`, asks every question open-domain through the shipped retrieval
(`Assistant._request`: the same passages and sentence vectors the answerer
gets at query time) and caches what the reader's features need: the question,
its accepted answers, its article, the retrieved passages, the question's
cosine with each of their sentences and the idf of every term involved. It
also records the previous answerer's answer (benchmarks/legacy_answerer.py)
for the before/after comparison. Refits then read the cache in seconds.

Sets: the SQuAD training articles of ../shared/train (written out as text files,
title first, paragraphs separated by blank lines, like ../shared/eval/squad/corpus),
the SQuAD evaluation set, the news set (tests/data/news_questions.jsonl) and the
news questions written for fitting only (benchmarks/data/news_fit_questions.jsonl,
all on even-numbered articles), both asked of one index of ../shared/news.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT

# ../shared beside the checkout (a worktree sits one level deeper).
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "train").exists()),
              ROOT.parent / "shared")
INDEX_OF = {"newsfit": "news"}  # sets asked of another set's index
TRAIN_FILES = ("squad-v2.0-train-first10.json.gz", "squad-v1.1-dev-13articles.json.gz")


@dataclass
class CachedQuestion:
    """One question with what retrieval gave the answerer for it."""

    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool
    article: str  # the file the question was written on: the unit of every fold
    dataset: str  # "train", "squad", "news", "newsfit"
    passages: tuple = ()  # qa.types.Citation
    cosines: tuple = ()  # per passage: the question's cosine with each sentence, or None
    earlier: tuple[str, ...] = ()
    legacy: dict = field(default_factory=dict)  # the previous answerer's text, span, confidence


@dataclass
class CachedSet:
    name: str
    questions: list[CachedQuestion]
    idf: dict[str, float]  # every term of the questions and passages
    idf_missing: float  # the idf of a term no chunk holds
    seconds: float = 0.0


def write_train_corpus(folder: Path) -> list[dict]:
    """The training articles as text files in `folder`; returns their questions (eval format)."""
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for name in TRAIN_FILES:
        data = json.load(gzip.open(SHARED / "train" / name))
        for article in data["data"]:
            title = article["title"].replace("_", " ")
            stem = re.sub(r"[^\w.-]+", "_", article["title"]).strip("_")
            paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
            (folder / f"{stem}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n")
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    answers = list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                    impossible = bool(qa.get("is_impossible")) or not answers
                    questions.append({"id": f"train-{qa['id']}", "question": qa["question"],
                                      "answers": [] if impossible else answers,
                                      "answerable": not impossible, "source": f"{stem}.txt"})
    return questions


@functools.lru_cache(maxsize=2)  # four sets load per refit; the training articles are written once
def sets(workdir: Path) -> dict[str, tuple[Path, list[dict]]]:
    """name -> (documents folder, questions as dicts) for every set available now."""
    found = {"train": (workdir / "train-corpus", write_train_corpus(workdir / "train-corpus"))}
    squad = SHARED / "eval" / "squad"
    found["squad"] = (squad / "corpus", _read_jsonl(squad / "questions.jsonl"))
    articles = SHARED / "news" / "articles"
    found["news"] = (articles, _read_jsonl(ROOT / "tests" / "data" / "news_questions.jsonl"))
    # Questions written for fitting only, all on even-numbered articles (never held out).
    found["newsfit"] = (articles,
                        _read_jsonl(ROOT / "benchmarks" / "data" / "news_fit_questions.jsonl"))
    return found


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def article_of(item: dict, dataset: str) -> str:
    """The document a question was written on: `source`, else the news id's article stem."""
    if item.get("source"):
        return item["source"]
    if dataset.startswith("news"):  # ids are news-<article stem>-<n>
        return item["id"].removeprefix("news-").rsplit("-", 1)[0] + ".txt"
    return "?"


def _has_documents(assistant) -> bool:
    from seedqa.errors import IndexNotReadyError

    try:  # a fresh workdir has no index yet: reads never create one
        return bool(assistant.documents())
    except IndexNotReadyError:
        return False


def collect(name: str, documents: Path, items: list[dict], workdir: Path,
            limit: int | None = None) -> CachedSet:
    """Index `documents`, ask `items`, and cache what the reader needs."""
    from benchmarks.legacy_answerer import ExtractiveAnswerer as LegacyAnswerer
    from benchmarks.legacy_answerer import legacy_request
    from evaluation.questions import Question
    from qa import Assistant
    from seedqa.settings import Settings
    from seedqa.text import sentences, terms

    settings = Settings(data_dir=workdir / f"index-{INDEX_OF.get(name, name)}", chroma_url=None,
                        abstain_threshold=0.0)
    assistant = Assistant(settings)
    if not _has_documents(assistant):
        report = assistant.add_documents([documents])
        print(f"{name}: ingested {report.chunks_added} chunks in {report.seconds:.0f} s",
              file=sys.stderr)
    corpus = assistant._corpus()
    legacy = LegacyAnswerer(settings.max_answer_words, 0.0)
    if limit:
        step = max(1, len(items) // limit)
        items = items[::step][:limit]
    began = time.perf_counter()
    questions, vocabulary = [], set()
    history_cache: dict = {}
    for number, item in enumerate(items):
        question = Question.from_dict(item)
        history = _history(assistant, question.history, history_cache)
        request = assistant._request(question.question, history, corpus)
        old = legacy.invoke(legacy_request(request))
        cosines = []
        for passage, found in zip(request.passages, request.sentence_cosines):
            spans = sentences(passage.text)
            ok = found is not None and len(found) == len(spans) and len(spans) > 0
            cosines.append(np.asarray(found, np.float32) if ok else None)
            vocabulary.update(terms(passage.text))
        for text in (question.question, *request.earlier):
            vocabulary.update(terms(text))
        questions.append(CachedQuestion(
            id=question.id, question=question.question, answers=question.answers,
            answerable=question.answerable, article=article_of(item, name), dataset=name,
            passages=request.passages, cosines=tuple(cosines), earlier=request.earlier,
            legacy={"text": old.text, "span": old.span, "confidence": old.confidence,
                    "source": old.citations[0].source if old.citations else None},
        ))
        if number % 500 == 0:
            print(f"{name}: {number}/{len(items)} questions, "
                  f"{time.perf_counter() - began:.0f} s", file=sys.stderr)
    lexical = corpus.lexical
    idf = {term: lexical.idf(term) for term in vocabulary}
    return CachedSet(name, questions, idf, lexical.idf("\x00never"),
                     time.perf_counter() - began)


def _history(assistant, earlier: tuple[str, ...], cache: dict) -> list[dict] | None:
    """The conversation before a follow-up. Retrieval reads only its questions, so the
    earlier answers are left empty (they would need the model being fitted)."""
    messages = []
    for question in earlier:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": ""}]
    return messages or None


def load_or_collect(name: str, workdir: Path, limit: int | None = None,
                    refresh: bool = False) -> CachedSet | None:
    """The cached set `name` (collected first when missing or `refresh`); None if unavailable.

    The cache is named by a digest of the questions, so that questions added to a set's
    file are asked, not read back from an older cache."""
    available = sets(workdir)
    if name not in available:
        return None
    documents, items = available[name]
    digest = hashlib.sha1(json.dumps(items, sort_keys=True).encode()).hexdigest()[:12]
    path = workdir / f"cache-{name}{'-' + str(limit) if limit else ''}-{digest}.pkl"
    if path.exists() and not refresh:
        return pickle.loads(path.read_bytes())
    cached = collect(name, documents, items, workdir, limit)
    path.write_bytes(pickle.dumps(cached, protocol=pickle.HIGHEST_PROTOCOL))
    return cached


if __name__ == "__main__":
    # python -m benchmarks.reader_data NAME [LIMIT]: fill the cache for one set. Imported
    # back by name, so that the pickled classes are this module's, not __main__'s.
    from benchmarks import reader_data

    target = sys.argv[1]
    cap = int(sys.argv[2]) if len(sys.argv) > 2 else None
    result = reader_data.load_or_collect(target, Path("/tmp/reader"), cap, refresh=True)
    print(f"{target}: {len(result.questions)} questions in {result.seconds:.0f} s")
