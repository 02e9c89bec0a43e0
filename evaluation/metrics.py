"""The metrics of docs/eval-format.md, as small pure functions over ranks and records."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evaluation.questions import find_any

if TYPE_CHECKING:
    from evaluation.records import IngestStats, QuestionRecord

RECALL_KS = (1, 5, 10)
"""The cut-offs every report gives answer recall at."""


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
