"""Scripted evaluation: ask a question set, score retrieval, answers and citations.

The question format and every metric are defined in docs/eval-format.md. This
module is a library: `load_questions` reads a set, `evaluate` asks it of an
assistant and returns an `EvalResult` (one `QuestionRecord` per question plus
the metrics), and the small pure functions below (`normalize`, `contains`,
`first_hit_rank`, `recall_at_k`, `mean_reciprocal_rank`, `percentile`,
`abstention_curve`, ...) do the scoring. `benchmarks/` reuses them, so the
baseline and seedqa are scored by the same code. Rendering lives in
`qa/report.py`, the command in `seedqa/eval_command.py`.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import os
import platform
import re
import resource
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from seedqa.errors import SeedqaError

RECALL_KS = (1, 5, 10)
"""The cut-offs every report gives answer recall at."""

_ARTICLES = frozenset({"a", "an", "the"})
_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_FIELDS = {"id", "question", "answers", "answerable", "support", "source", "history"}


class QuestionsFileError(SeedqaError):
    """A questions file is not in the format of docs/eval-format.md."""


# --- questions -------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One line of a questions file (see docs/eval-format.md)."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    answerable: bool = True
    support: tuple[str, ...] = ()
    source: str | None = None
    history: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> Question:
        """Validate one decoded line; raises ValueError naming the bad field."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
        for name in ("id", "question", "answers", "answerable"):
            if name not in data:
                raise ValueError(f"missing field {name!r}")
        if not isinstance(data["id"], str) or not data["id"].strip():
            raise ValueError(f"'id' must be a non-empty string, got {data['id']!r}")
        if not isinstance(data["question"], str) or not data["question"].strip():
            raise ValueError(f"'question' must be a non-empty string, got {data['question']!r}")
        if not isinstance(data["answerable"], bool):
            raise ValueError(f"'answerable' must be true or false, got {data['answerable']!r}")
        answers = _strings(data["answers"], "answers")
        support = _strings(data.get("support", []), "support", single_ok=True)
        history = _strings(data.get("history", []), "history")
        source = data.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            raise ValueError(f"'source' must be a file name, got {source!r}")
        if data["answerable"] and not any(normalize(answer) for answer in answers):
            raise ValueError("an answerable question needs at least one non-empty answer")
        if not data["answerable"] and answers:
            raise ValueError(f"an unanswerable question must have no answers, got {answers!r}")
        return cls(
            id=data["id"],
            question=data["question"],
            answers=answers,
            answerable=data["answerable"],
            support=support,
            source=source,
            history=history,
        )


def _strings(value: Any, name: str, single_ok: bool = False) -> tuple[str, ...]:
    """A list of strings (or, if `single_ok`, one string) as a tuple."""
    if single_ok and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name!r} must be a list of strings, got {value!r}")
    return tuple(value)


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSON Lines questions file; blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise QuestionsFileError(f"Cannot read questions file {path}: {error.strerror}.") from error
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = Question.from_dict(json.loads(line))
        except (json.JSONDecodeError, ValueError) as error:
            raise QuestionsFileError(
                f"{path}:{number}: {error}. See docs/eval-format.md for the format."
            ) from error
        if question.id in seen:
            raise QuestionsFileError(f"{path}:{number}: duplicate id {question.id!r}.")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise QuestionsFileError(f"{path} holds no questions; expected one JSON object per line.")
    return questions


# --- text matching -----------------------------------------------------------


def normalize(text: str) -> str:
    """Lower case, punctuation and symbols turned to spaces, articles dropped, spaces folded.

    Punctuation becomes a space rather than vanishing so that word boundaries
    survive: "Geran-5" and "Geran 5" normalise alike, and so do "Russia's" and
    "Russia s".
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(word for word in text.split() if word not in _ARTICLES)


def contains(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as whole words, both normalised.

    Whole words, so that the answer "3" is not found in "23" or "2023".
    An answer that normalises to nothing (say "the") is never found.
    """
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {normalize(text)} "


def find_any(text: str, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` that `text` contains (see `contains`), or None."""
    haystack = f" {normalize(text)} "
    for phrase in phrases:
        needle = normalize(phrase)
        if needle and f" {needle} " in haystack:
            return phrase
    return None


def answer_body(text: str) -> str:
    """An answer's text without its `[n]` citation markers, which would read as numbers."""
    return _MARKER.sub(" ", text)


def is_correct_passage(question: Question, text: str, source: str | None = None) -> bool:
    """Whether a passage backs `question`'s answer.

    With `support` quotes: the passage contains one of them. Otherwise it
    contains an accepted answer and, when the question names a `source`, it
    comes from that file (compared by file name).
    """
    if question.support:
        return find_any(text, question.support) is not None
    if question.source is not None and Path(source or "").name != question.source:
        return False
    return find_any(text, question.answers) is not None


# --- ranking metrics ----------------------------------------------------------


def first_hit_rank(hits: Iterable[bool]) -> int | None:
    """The 1-based rank of the first true item, or None when there is none."""
    for rank, hit in enumerate(hits, start=1):
        if hit:
            return rank
    return None


def answer_rank(passages: Sequence[str], answers: Sequence[str]) -> int | None:
    """The rank of the first passage that contains an accepted answer."""
    return first_hit_rank(find_any(text, answers) is not None for text in passages)


def recall_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of ranks that are at most `k` (None: nothing found). None for no ranks."""
    if not ranks:
        return None
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """Mean of 1/rank, counting 0 where nothing was found. None for no ranks."""
    if not ranks:
        return None
    return sum(1.0 / rank for rank in ranks if rank is not None) / len(ranks)


def retrieval_metrics(ranks: Sequence[int | None], ks: Iterable[int] = RECALL_KS) -> dict:
    """`recall@k` for each k, and `mrr`, from 1-based first-hit ranks."""
    metrics: dict[str, float | None] = {f"recall@{k}": recall_at_k(ranks, k) for k in ks}
    metrics["mrr"] = mean_reciprocal_rank(ranks)
    return metrics


def share(count: int, total: int) -> float | None:
    """count / total, or None when there is nothing to count."""
    return count / total if total else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), interpolating linearly between ranks (as numpy does)."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_stats(seconds: Sequence[float]) -> dict:
    """Median, 95th percentile, mean and maximum of per-question seconds."""
    return {
        "median": percentile(seconds, 50),
        "p95": percentile(seconds, 95),
        "mean": sum(seconds) / len(seconds) if seconds else None,
        "max": max(seconds) if seconds else None,
    }


def abstention_curve(
    answerable: Sequence[float], unanswerable: Sequence[float]
) -> list[dict]:
    """What abstaining below each confidence threshold would do.

    Takes the confidences given to answerable and to unanswerable questions.
    For every threshold t among them (and +inf), abstaining when
    confidence < t abstains on `abstention` of the unanswerable questions and
    wrongly on `false_abstention` of the answerable ones. Points run from
    (0, 0) to (1, 1).
    """
    yes, no = sorted(answerable), sorted(unanswerable)
    thresholds = sorted(set(yes) | set(no)) + [math.inf]
    return [
        {
            "threshold": threshold,
            "abstention": share(bisect.bisect_left(no, threshold), len(no)),
            "false_abstention": share(bisect.bisect_left(yes, threshold), len(yes)),
        }
        for threshold in thresholds
    ]


def curve_area(curve: Sequence[dict]) -> float | None:
    """Area under abstention (y) against false abstention (x); 1.0 separates perfectly."""
    points = [(p["false_abstention"], p["abstention"]) for p in curve]
    if any(x is None or y is None for x, y in points):
        return None
    points.sort()
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(points, points[1:]))


def peak_memory_mb() -> float:
    """This process's resident set high-water mark, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def machine_info() -> dict:
    """What the numbers were measured on."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model() or platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gb": round(memory, 1) if memory else None,
        "python": platform.python_version(),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


# --- evaluation records -------------------------------------------------------


@dataclass(frozen=True)
class CitationCheck:
    """A cited passage and whether it backs the answer."""

    source: str
    title: str
    text: str
    score: float
    chunk_id: str
    correct: bool


@dataclass(frozen=True)
class QuestionRecord:
    """What happened to one question: the answer, the retrieval, and the verdict."""

    id: str
    question: str
    history: tuple[str, ...]
    answerable: bool
    accepted: tuple[str, ...]
    answer: str
    span: str | None
    abstained: bool
    confidence: float
    citations: tuple[CitationCheck, ...]
    correct: bool
    why: str
    span_correct: bool | None  # the answer's exact phrase holds an accepted answer; None: no phrase
    answer_rank: int | None  # first retrieved passage holding an accepted answer
    passage_rank: int | None  # first retrieved passage that is a correct citation
    retrieved: tuple[str, ...]  # "file name#chunk id" of each retrieved passage
    seconds: float  # answering `question`, not its history
    retrieve_seconds: float

    @property
    def cited_correct(self) -> bool:
        """Whether any cited passage backs the answer."""
        return any(check.correct for check in self.citations)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cited_correct"] = self.cited_correct if self.answerable else None
        return data


@dataclass(frozen=True)
class IngestStats:
    """How long building the index took."""

    files: int
    chunks: int
    seconds: float
    errors: tuple[str, ...] = ()

    @property
    def chunks_per_second(self) -> float | None:
        return self.chunks / self.seconds if self.seconds > 0 else None

    @classmethod
    def from_report(cls, report: Any) -> IngestStats:
        """From the `IngestReport` that `Assistant.add_documents` returns."""
        return cls(
            files=len(report.files),
            chunks=int(report.chunks_added),
            seconds=float(report.seconds),
            errors=tuple(f"{error.source}: {error.message}" for error in report.errors),
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "chunks_per_second": self.chunks_per_second}


@dataclass(frozen=True)
class EvalResult:
    """A finished evaluation: per-question records and what was measured around them."""

    records: tuple[QuestionRecord, ...]
    k: int
    started_at: str  # ISO 8601, UTC
    seconds: float
    peak_memory_mb: float
    warmup_seconds: float | None = None  # the untimed first answer: loads models and indexes
    ingest: IngestStats | None = None
    info: dict = field(default_factory=dict)  # settings, files, machine: anything to record

    @functools.cached_property
    def metrics(self) -> dict:
        metrics = compute_metrics(self.records, self.k, self.ingest, self.peak_memory_mb)
        return {**metrics, "warmup_seconds": self.warmup_seconds}

    def recall_curve(self) -> dict[str, list[float | None]]:
        """Answer recall and correct-passage recall at k = 1..k, over answerable questions."""
        answerable = [r for r in self.records if r.answerable]
        ks = range(1, self.k + 1)
        return {
            "k": list(ks),
            "answer": [recall_at_k([r.answer_rank for r in answerable], k) for k in ks],
            "passage": [recall_at_k([r.passage_rank for r in answerable], k) for k in ks],
        }

    def abstention_curve(self) -> list[dict]:
        return abstention_curve(
            [r.confidence for r in self.records if r.answerable],
            [r.confidence for r in self.records if not r.answerable],
        )

    def to_dict(self) -> dict:
        """Everything but the per-question records (those go to results.jsonl)."""
        return {
            "date": self.started_at,
            "seconds": self.seconds,
            "k": self.k,
            "metrics": self.metrics,
            "ingest": self.ingest.to_dict() if self.ingest else None,
            "curves": {"recall_at_k": self.recall_curve(), "abstention": self.abstention_curve()},
            **self.info,
        }


def compute_metrics(
    records: Sequence[QuestionRecord],
    k: int = 10,
    ingest: IngestStats | None = None,
    peak_memory: float | None = None,
) -> dict:
    """Every metric of docs/eval-format.md, keyed by name; None where nothing was measured.

    Recall at a cut-off above `k` is None: it was not retrieved that deep.
    """
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    correct = [r for r in answerable if r.correct]
    cited = [check for r in correct for check in r.citations]
    ks = sorted({*RECALL_KS, k})

    metrics: dict[str, Any] = {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
    }
    answer_ranks = [r.answer_rank for r in answerable]
    passage_ranks = [r.passage_rank for r in answerable]
    for cutoff in ks:
        measured = cutoff <= k
        metrics[f"recall@{cutoff}"] = recall_at_k(answer_ranks, cutoff) if measured else None
    metrics["mrr"] = mean_reciprocal_rank(answer_ranks)
    for cutoff in ks:
        measured = cutoff <= k
        metrics[f"passage_recall@{cutoff}"] = (
            recall_at_k(passage_ranks, cutoff) if measured else None
        )
    metrics["passage_mrr"] = mean_reciprocal_rank(passage_ranks)
    metrics.update(
        accuracy=share(len(correct), len(answerable)),
        accuracy_when_answered=share(len(correct), len(answered)),
        span_accuracy=share(
            sum(bool(r.span_correct) for r in answered if r.span_correct is not None),
            sum(r.span_correct is not None for r in answered),
        ),
        abstention=share(sum(r.abstained for r in unanswerable), len(unanswerable)),
        false_abstention=share(sum(r.abstained for r in answerable), len(answerable)),
        abstention_auc=curve_area(
            abstention_curve(
                [r.confidence for r in answerable], [r.confidence for r in unanswerable]
            )
        )
        if answerable and unanswerable
        else None,
        citation_correctness=share(sum(r.cited_correct for r in correct), len(correct)),
        citation_precision=share(sum(check.correct for check in cited), len(cited)),
        overall=share(sum(r.correct for r in records), len(records)),
    )
    latency = latency_stats([r.seconds for r in records])
    metrics.update(
        seconds_median=latency["median"],
        seconds_p95=latency["p95"],
        seconds_mean=latency["mean"],
        seconds_max=latency["max"],
        retrieve_seconds_median=percentile([r.retrieve_seconds for r in records], 50),
        ingest_seconds=ingest.seconds if ingest else None,
        ingest_chunks=ingest.chunks if ingest else None,
        chunks_per_second=ingest.chunks_per_second if ingest else None,
        peak_memory_mb=peak_memory,
    )
    return metrics


@dataclass(frozen=True)
class Floor:
    """A bound a metric must meet: at least `bound`, or at most it when `at_most`."""

    metric: str
    bound: float
    at_most: bool = False
    option: str = ""  # how it was set (say "--min-accuracy"), for messages

    def check(self, metrics: dict) -> dict:
        """{option, metric, bound, value, verdict, message}; verdict is "passed" or "failed"."""
        value = metrics.get(self.metric)
        name = self.option or self.metric
        if value is None:
            passed = False
            message = (
                f"floor failed: {self.metric} was not measured in this run, "
                f"but {name} {self.bound} needs it"
            )
        else:
            passed = value <= self.bound if self.at_most else value >= self.bound
            relation = "above" if self.at_most else "below"
            message = (
                f"floor passed: {self.metric} = {value:.4g} ({name} {self.bound})"
                if passed
                else f"floor failed: {self.metric} = {value:.4g} is {relation} {name} {self.bound}"
            )
        return {
            "option": name,
            "metric": self.metric,
            "bound": self.bound,
            "value": value,
            "verdict": "passed" if passed else "failed",
            "message": message,
        }


# --- running -----------------------------------------------------------------


def cited_citations(answer: Any) -> list[Any]:
    """The citations an answer points at with `[n]` markers; all of them if it has none."""
    numbers = {
        int(number)
        for marker in _MARKER.findall(answer.text)
        for number in re.findall(r"\d+", marker)
    }
    picked = [c for n, c in enumerate(answer.citations, start=1) if n in numbers]
    return picked or list(answer.citations)


def score(
    question: Question,
    answer: Any,
    retrieved: Sequence[Any],
    seconds: float = 0.0,
    retrieve_seconds: float = 0.0,
) -> QuestionRecord:
    """Judge one answer (an `Answer`) and the passages retrieved for its question."""
    checks = tuple(
        CitationCheck(
            source=c.source,
            title=c.title,
            text=c.text,
            score=float(c.score),
            chunk_id=c.chunk_id,
            correct=question.answerable and is_correct_passage(question, c.text, c.source),
        )
        for c in (cited_citations(answer) if not answer.abstained else [])
    )
    if question.answerable:
        matched = None if answer.abstained else find_any(answer_body(answer.text), question.answers)
        correct = matched is not None
        if answer.abstained:
            why = "abstained on an answerable question"
        elif matched is not None:
            why = f"answer contains {matched!r}"
        else:
            why = "answer contains none of " + " | ".join(repr(a) for a in question.answers)
        if correct and not any(check.correct for check in checks):
            why += "; no cited passage backs it"
    else:
        correct = bool(answer.abstained)
        why = (
            "abstained as expected"
            if correct
            else "answered a question the documents do not answer"
        )
    ranks: tuple[int | None, int | None] = (None, None)
    span_correct = None
    if question.answerable:
        ranks = (
            answer_rank([c.text for c in retrieved], question.answers),
            first_hit_rank(is_correct_passage(question, c.text, c.source) for c in retrieved),
        )
        if answer.span and not answer.abstained:
            span_correct = find_any(answer.span, question.answers) is not None
    return QuestionRecord(
        id=question.id,
        question=question.question,
        history=question.history,
        answerable=question.answerable,
        accepted=question.answers,
        answer=answer.text,
        span=answer.span,
        abstained=bool(answer.abstained),
        confidence=float(answer.confidence),
        citations=checks,
        correct=correct,
        why=why,
        span_correct=span_correct,
        answer_rank=ranks[0],
        passage_rank=ranks[1],
        retrieved=tuple(f"{Path(c.source).name}#{c.chunk_id}" for c in retrieved),
        seconds=seconds,
        retrieve_seconds=retrieve_seconds,
    )


def chat_history(assistant: Any, questions: Sequence[str], cache: dict) -> list[dict]:
    """Ask earlier questions in order, feeding each answer back, as Gradio-style messages.

    `cache` maps a conversation prefix to its last answer, so that questions
    sharing a history ask it once.
    """
    history: list[dict] = []
    for index, question in enumerate(questions):
        key = tuple(questions[: index + 1])
        if key not in cache:
            cache[key] = assistant.answer(question, history=list(history) or None).text
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": cache[key]},
        ]
    return history


def evaluate(
    assistant: Any,
    questions: Sequence[Question],
    k: int = 10,
    progress: Callable[[QuestionRecord], None] | None = None,
) -> EvalResult:
    """Ask every question of `assistant` (an `Assistant` over an index) and score it.

    For each question: its `history` is asked first, then the question is
    answered (timed: `seconds`) and the top `k` passages retrieved (timed
    apart). `progress`, if given, is called with each finished record.
    The first question is asked once before timing starts, so that loading
    the model and the lexical index shows up as `warmup_seconds`, not as
    one slow question.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    begin = time.perf_counter()
    warmup_seconds = None
    if questions:
        assistant.answer(questions[0].question)
        warmup_seconds = time.perf_counter() - begin
    cache: dict = {}
    records = []
    for question in questions:
        history = chat_history(assistant, question.history, cache) or None
        tick = time.perf_counter()
        answer = assistant.answer(question.question, history=history)
        seconds = time.perf_counter() - tick
        tick = time.perf_counter()
        retrieved = assistant.retrieve(question.question, k=k, history=history)
        retrieve_seconds = time.perf_counter() - tick
        record = score(question, answer, retrieved, seconds, retrieve_seconds)
        records.append(record)
        if progress:
            progress(record)
    return EvalResult(
        records=tuple(records),
        k=k,
        started_at=started_at,
        seconds=time.perf_counter() - begin,
        peak_memory_mb=peak_memory_mb(),
        warmup_seconds=warmup_seconds,
    )
