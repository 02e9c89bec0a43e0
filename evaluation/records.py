"""What an evaluation produces: a record per question, ingest figures, the result."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any

from evaluation.metrics import abstention_curve, compute_metrics, recall_at_k


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
