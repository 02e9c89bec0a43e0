"""`seedqa eval`: ask a question set, write a report, and fail below the given floors.

A thin shell over the `evaluation` package (asking, scoring, writing the
report). The question format and the metrics: docs/eval-format.md.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import click

from cli.common import backend_option, data_dir_option, settings_from
from cli.progress import ingest_with_progress
from seedqa import __version__

# option name → (metric, at most?). Shares are fractions: 0.9 means 90%.
FLOORS: dict[str, tuple[str, bool]] = {
    "min_accuracy": ("accuracy", False),
    "min_recall_at_1": ("recall@1", False),
    "min_recall_at_5": ("recall@5", False),
    "min_recall_at_10": ("recall@10", False),
    "min_mrr": ("mrr", False),
    "min_abstention": ("abstention", False),
    "max_false_abstention": ("false_abstention", True),
    "min_citation_correctness": ("citation_correctness", False),
    "min_citation_precision": ("citation_precision", False),
    "max_p95_seconds": ("seconds_p95", True),
}


def _floor_options(function):
    share = click.FloatRange(0, 1)
    helps = {
        "min_accuracy": "Fail if fewer answerable questions are answered correctly.",
        "min_recall_at_1": "Fail if answer recall@1 is lower.",
        "min_recall_at_5": "Fail if answer recall@5 is lower.",
        "min_recall_at_10": "Fail if answer recall@10 is lower.",
        "min_mrr": "Fail if the MRR is lower.",
        "min_abstention": "Fail if fewer unanswerable questions are abstained on.",
        "max_false_abstention": "Fail if more answerable questions are abstained on.",
        "min_citation_correctness": "Fail if fewer correct answers cite a correct passage.",
        "min_citation_precision": "Fail if fewer cited passages are correct.",
        "max_p95_seconds": "Fail if the 95th percentile of seconds per question is higher.",
    }
    for name in reversed(FLOORS):
        kind = click.FloatRange(0) if name == "max_p95_seconds" else share
        option = "--" + name.replace("_", "-")
        function = click.option(option, name, type=kind, default=None, help=helps[name])(function)
    return function


def _fresh_index(out: Path) -> Path:
    """OUT/index, emptied: refuses to delete a folder that is not a Chroma index."""
    index = out / "index"
    if index.exists():
        if not (index / "chroma.sqlite3").exists():
            raise click.ClickException(
                f"{index} exists and is not a seedqa index; remove it or choose another --out."
            )
        shutil.rmtree(index)
    return index


def _ingest(assistant, docs: Path, progress: bool):
    """Ingest `docs` with a progress bar; the `IngestStats`, warning about files left out."""
    from evaluation import IngestStats

    stats = IngestStats.from_report(ingest_with_progress(assistant, [docs], show=progress))
    for error in stats.errors:
        click.echo(f"warning: not ingested: {error}", err=True)
    if stats.chunks == 0:
        raise click.ClickException(f"No text could be ingested from {docs}.")
    return stats


@contextlib.contextmanager
def _question_bar(total: int, progress: bool) -> Iterator[Callable]:
    """A progress bar over the questions, showing how many were right so far."""
    from tqdm import tqdm

    right = 0
    with tqdm(total=total, desc="questions", unit="q", disable=not progress,
              file=sys.stderr) as bar:

        def on_record(record) -> None:
            nonlocal right
            right += record.correct
            bar.set_postfix(right=f"{right}/{bar.n + 1}", refresh=False)
            bar.update()

        yield on_record


@click.command("eval")
@data_dir_option
@click.argument(
    "questions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--docs",
    type=click.Path(exists=True, path_type=Path),
    help="Ingest these files or folder into a fresh index (OUT/index) first. "
    "Without it, the questions go to the current index.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-out"),
    show_default=True,
    help="Folder for results.json, results.jsonl, report.md and report.html.",
)
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Passages retrieved per question for recall@k and MRR.")
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Ask only the first N questions.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show progress bars on standard error.")
@backend_option
@_floor_options
def eval_command(
    questions_file: Path,
    docs: Path | None,
    out: Path,
    k: int,
    limit: int | None,
    progress: bool,
    backend: str | None = None,
    **floors: float | None,
) -> None:
    """Ask every question in QUESTIONS_FILE (JSON Lines) and report how seedqa did.

    Writes OUT/results.json (metrics, settings, machine), OUT/results.jsonl (one
    line per question), OUT/report.md and a self-contained OUT/report.html.
    Exits with status 1 when a --min-*/--max-* floor is not met. The format
    and every metric are described in docs/eval-format.md.
    """
    from evaluation import Floor, evaluate, load_questions, machine_info, summary_table, write_report
    from qa import Assistant

    context = click.get_current_context()
    settings = settings_from(context, backend)
    questions = load_questions(questions_file)[:limit]
    if docs is not None:
        settings = settings.model_copy(update={"data_dir": _fresh_index(out), "chroma_url": None})
    assistant = Assistant(settings)
    ingest = _ingest(assistant, docs, progress) if docs is not None else None
    with _question_bar(len(questions), progress) as on_record:
        result = evaluate(assistant, questions, k=k, progress=on_record)

    result = replace(
        result,
        ingest=ingest,
        info={
            "seedqa_version": __version__,
            "questions_file": str(questions_file),
            "docs": str(docs) if docs else None,
            "index": str(settings.chroma_url or settings.data_dir),
            "limit": limit,
            "settings": settings.model_dump(mode="json"),
            "machine": machine_info(),
        },
    )
    checks = [
        Floor(metric, bound, at_most, option="--" + name.replace("_", "-")).check(result.metrics)
        for name, bound in floors.items()
        if bound is not None
        for metric, at_most in [FLOORS[name]]
    ]
    result = replace(result, info={**result.info, "floors": checks})
    written = write_report(result, out)
    click.echo(summary_table(result))
    click.echo(f"\nWrote {', '.join(sorted(written))} to {out}/")
    failed = [check for check in checks if check["verdict"] == "failed"]
    for check in checks:
        click.echo(check["message"], err=check["verdict"] == "failed")
    if failed:
        context.exit(1)
