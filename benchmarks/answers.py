"""Answers and abstention on SQuAD 2.0, with the abstention threshold calibrated.

Ingests the 36 articles, asks all 6,078 questions (2,910 answerable, 3,168
unanswerable) through `Assistant.answer` with abstention off, and scores them
with `evaluation` (the code `seedqa eval` uses). Then it picks the
abstention threshold on a fixed development slice, the first `--dev`
answerable questions of the file: the highest confidence below which at most
`--false-abstention` of them would be abstained on. It reports every metric at
that threshold on all questions and on the questions outside the slice.

    .venv/bin/python -m benchmarks.answers                    # everything, ~10-20 min
    .venv/bin/python -m benchmarks.answers --limit 600        # a quick, evenly spread sample

Prints a summary and writes benchmarks/results/answers.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import click
import numpy as np

from seedqa import __version__
from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # keeps every library offline
from benchmarks.common import DEFAULT_SQUAD, RESULTS
from benchmarks.retrieval import spread
from evaluation.metrics import abstention_curve, compute_metrics, curve_area
from evaluation.questions import load_questions
from evaluation.records import QuestionRecord
from evaluation.run import evaluate, machine_info

DEFAULT_OUT = RESULTS / "answers.json"
REPORTED = ("accuracy", "accuracy_when_answered", "span_accuracy", "abstention",
            "false_abstention", "overall", "citation_correctness", "citation_precision",
            "recall@1", "recall@5", "recall@10", "mrr", "seconds_median", "seconds_p95")


def calibrate(confidences: Sequence[float], false_abstention: float) -> float:
    """The highest threshold that abstains on at most `false_abstention` of `confidences`."""
    values = np.sort(np.asarray(confidences, dtype=float))
    allowed = int(np.floor(false_abstention * len(values)))  # this many may fall below
    if allowed >= len(values):
        return float(values[-1])
    return float(values[allowed])


def with_threshold(records: Sequence[QuestionRecord], threshold: float) -> list[QuestionRecord]:
    """The records as they would be had the answerer abstained below `threshold`."""
    out = []
    for record in records:
        if record.abstained or record.confidence >= threshold:
            out.append(record)
            continue
        why = ("abstained on an answerable question" if record.answerable
               else "abstained as expected")
        out.append(replace(record, abstained=True, correct=not record.answerable, citations=(),
                           span_correct=None, why=why))
    return out


def summary(records: Sequence[QuestionRecord], k: int) -> dict:
    metrics = compute_metrics(records, k)
    return {key: metrics.get(key) for key in ("questions", "answerable", *REPORTED)}


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Ask N questions of each kind, taken evenly through the file.")
@click.option("--dev", type=click.IntRange(1), default=1000, show_default=True,
              help="The first N answerable questions calibrate the threshold.")
@click.option("--false-abstention", type=click.FloatRange(0, 1), default=0.04, show_default=True,
              help="Share of the development slice the threshold may abstain on.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True)
@click.option("--progress/--no-progress", default=True)
def main(squad: Path, limit: int | None, dev: int, false_abstention: float, out: Path,
         progress: bool) -> None:
    """Measure answers and calibrate abstention on the SQuAD folder SQUAD."""
    from tqdm import tqdm

    from qa import Assistant
    from seedqa.settings import Settings

    questions = load_questions(squad / "questions.jsonl")
    answerable = [q for q in questions if q.answerable]
    dev_ids = {q.id for q in answerable[:dev]}
    asked = (spread(answerable, limit)
             + spread([q for q in questions if not q.answerable], limit))
    click.echo(f"{len(asked)} questions ({sum(q.answerable for q in asked)} answerable); "
               f"threshold from the first {dev} answerable", err=True)
    with tempfile.TemporaryDirectory(prefix="seedqa-answers-") as workdir:
        settings = Settings(data_dir=Path(workdir), chroma_url=None, abstain_threshold=0.0)
        assistant = Assistant(settings)
        began = time.perf_counter()
        report = assistant.add_documents([squad / "corpus"])
        ingest_seconds = time.perf_counter() - began
        bar = tqdm(total=len(asked), unit="q", disable=not progress, file=sys.stderr)
        result = evaluate(assistant, asked, k=10, progress=lambda _: bar.update())
        bar.close()
    records = list(result.records)
    calibration = [r.confidence for r in records if r.answerable and r.id in dev_ids]
    threshold = calibrate(calibration, false_abstention)
    gated = with_threshold(records, threshold)
    held_out = [r for r in gated if r.id not in dev_ids]
    curve = abstention_curve([r.confidence for r in records if r.answerable],
                             [r.confidence for r in records if not r.answerable])
    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seedqa_version": __version__,
        "machine": machine_info(),
        "command": "python -m benchmarks.answers " + " ".join(sys.argv[1:]),
        "squad": str(squad),
        "limit": limit,
        "chunks": report.chunks_added,
        "ingest_seconds": ingest_seconds,
        "calibration": {
            "method": f"threshold = the confidence below which {false_abstention:.0%} of the "
                      f"first {dev} answerable questions fall",
            "dev_answerable": len(calibration),
            "threshold": round(threshold, 4),
        },
        "abstention_auc": curve_area(curve),
        "no_abstention": summary(records, result.k),
        "at_threshold": summary(gated, result.k),
        "at_threshold_held_out": summary(held_out, result.k),
        "settings": {**settings.model_dump(mode="json"), "abstain_threshold": round(threshold, 4)},
    }
    click.echo(json.dumps({key: results[key] for key in
                           ("calibration", "abstention_auc", "no_abstention", "at_threshold",
                            "at_threshold_held_out")}, indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    click.echo(f"Wrote {out}")


if __name__ == "__main__":
    main()
