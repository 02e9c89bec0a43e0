"""Retrieval on SQuAD 2.0: seedqa against the LangChain RAG-tutorial baseline, in one run.

Both systems index the same 36 Wikipedia articles (`corpus/`) and are asked
the same answerable questions (`questions.jsonl`), on the same machine in the
same process. Scored by the code `seedqa eval` uses (`evaluation`):

- answer recall@k: a top-k passage contains an accepted answer (normalised,
  whole words); MRR of the first such passage;
- correct-passage recall@k: a top-k passage from the question's article holds
  an accepted answer (what `seedqa eval` counts as a correct citation).

The baseline is the LangChain RAG tutorial's recipe: RecursiveCharacterTextSplitter
(chunk_size=1000, chunk_overlap=200), all-MiniLM-L6-v2 through
HuggingFaceEmbeddings, Chroma.from_documents, similarity_search(question, k).

    .venv/bin/python -m benchmarks.retrieval                 # all 2,910 questions
    .venv/bin/python -m benchmarks.retrieval --limit 300     # a quick, evenly spread sample

Prints a table and writes benchmarks/results/retrieval.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import click

from seedqa import __version__
from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # keeps every library offline
from benchmarks.common import (
    DEFAULT_SQUAD,
    RESULTS,
    baseline_embeddings,
    baseline_splits,
    baseline_store,
)
from evaluation.metrics import answer_rank, first_hit_rank, latency_stats, retrieval_metrics
from evaluation.questions import Question, is_correct_passage, load_questions
from evaluation.run import machine_info

DEFAULT_OUT = RESULTS / "retrieval.json"

Hit = tuple[str, str]  # (passage text, source path)


class LangChainBaseline:
    """The LangChain RAG tutorial's retrieval, verbatim but for a local model path."""

    name = "langchain-tutorial"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.store = None

    def config(self) -> dict:
        return {
            "splitter": "RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)",
            "embeddings": "HuggingFaceEmbeddings(all-MiniLM-L6-v2)",
            "store": "Chroma.from_documents, similarity_search(question, k)",
        }

    def ingest(self, files: Sequence[Path]) -> int:
        splits = baseline_splits(files)
        self.store = baseline_store(splits, baseline_embeddings(), self.workdir / "baseline")
        return len(splits)

    def search(self, question: str, k: int) -> list[Hit]:
        return [
            (document.page_content, document.metadata["source"])
            for document in self.store.similarity_search(question, k=k)
        ]


class Seedqa:
    """seedqa's `Assistant.retrieve`, with the settings in effect (SEEDQA_* variables)."""

    name = "seedqa"

    def __init__(self, workdir: Path) -> None:
        from qa import Assistant
        from seedqa.settings import Settings

        self.settings = Settings(data_dir=workdir / "seedqa", chroma_url=None)
        self.assistant = Assistant(self.settings)

    def config(self) -> dict:
        return {"settings": self.settings.model_dump(mode="json")}

    def ingest(self, files: Sequence[Path]) -> int:
        report = self.assistant.add_documents(list(files))
        if report.errors:
            raise click.ClickException(f"seedqa could not ingest: {report.errors}")
        return report.chunks_added

    def search(self, question: str, k: int) -> list[Hit]:
        return [(c.text, c.source) for c in self.assistant.retrieve(question, k=k)]


SYSTEMS = {"baseline": LangChainBaseline, "seedqa": Seedqa}


def spread(questions: Sequence[Question], limit: int | None) -> list[Question]:
    """`limit` questions taken evenly through the file (all when limit is None)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def measure(system, files: Sequence[Path], questions: Sequence[Question], k: int,
            progress: bool) -> dict:
    """Ingest `files` into `system`, ask every question, and score the top `k` passages."""
    from tqdm import tqdm

    begin = time.perf_counter()
    chunks = system.ingest(files)
    ingest_seconds = time.perf_counter() - begin
    answer_ranks, passage_ranks, seconds = [], [], []
    max_chars = 0  # of any passage returned: the budget both systems are held to is 1,000
    for question in tqdm(questions, desc=system.name, unit="q", disable=not progress,
                         file=sys.stderr):
        tick = time.perf_counter()
        hits = system.search(question.question, k)
        seconds.append(time.perf_counter() - tick)
        max_chars = max([max_chars, *(len(text) for text, _ in hits)])
        answer_ranks.append(answer_rank([text for text, _ in hits], question.answers))
        passage_ranks.append(
            first_hit_rank(is_correct_passage(question, text, source) for text, source in hits)
        )
    ks = list(range(1, k + 1))  # every cut-off, for the recall@k curve in BENCHMARKS.md
    answer = retrieval_metrics(answer_ranks, ks)
    passage = retrieval_metrics(passage_ranks, ks)
    return {
        "config": system.config(),
        "chunks": chunks,
        "max_chunk_chars": max_chars,
        "ingest_seconds": ingest_seconds,
        "chunks_per_second": chunks / ingest_seconds if ingest_seconds else None,
        "metrics": answer,
        "passage_metrics": {f"passage_{key}": value for key, value in passage.items()},
        "recall_at_k": {
            "k": ks,
            "answer": [answer[f"recall@{n}"] for n in ks],
            "passage": [passage[f"recall@{n}"] for n in ks],
        },
        "query_seconds": latency_stats(seconds),
    }


def table(results: dict[str, dict]) -> str:
    columns = ["chunks", "ingest s", "chunks/s", "R@1", "R@5", "R@10", "MRR",
               "pR@1", "pR@5", "pR@10", "pMRR", "query ms (med/p95)"]
    rows = []
    for name, r in results.items():
        m, p, q = r["metrics"], r["passage_metrics"], r["query_seconds"]

        def pct(value):
            return "n/a" if value is None else f"{100 * value:.1f}%"

        rows.append([
            name, f"{r['chunks']:,}", f"{r['ingest_seconds']:.1f}", f"{r['chunks_per_second']:.1f}",
            pct(m.get("recall@1")), pct(m.get("recall@5")), pct(m.get("recall@10")),
            f"{m['mrr']:.3f}",
            pct(p.get("passage_recall@1")), pct(p.get("passage_recall@5")),
            pct(p.get("passage_recall@10")), f"{p['passage_mrr']:.3f}",
            f"{1000 * q['median']:.0f}/{1000 * q['p95']:.0f}",
        ])
    header = ["system", *columns]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).rjust(w) if i else str(cell).ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths)))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Ask N answerable questions, taken evenly through the file.")
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--systems", default="baseline,seedqa", show_default=True,
              help="Comma-separated: baseline, seedqa.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True)
@click.option("--progress/--no-progress", default=True)
def main(squad: Path, limit: int | None, k: int, systems: str, out: Path, progress: bool) -> None:
    """Measure retrieval of seedqa and the LangChain baseline on the SQuAD folder SQUAD."""
    names = [name.strip() for name in systems.split(",") if name.strip()]
    unknown = [name for name in names if name not in SYSTEMS]
    if unknown or not names:
        raise click.BadParameter(f"unknown system(s) {unknown}; choose from {sorted(SYSTEMS)}",
                                 param_hint="--systems")
    files = sorted((squad / "corpus").glob("*.txt"))
    questions = spread([q for q in load_questions(squad / "questions.jsonl") if q.answerable],
                       limit)
    click.echo(f"{len(files)} articles, {len(questions)} answerable questions, k={k}", err=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="seedqa-bench-") as workdir:
        for name in names:
            system = SYSTEMS[name](Path(workdir))
            results[system.name] = measure(system, files, questions, k, progress)
    click.echo(table(results))
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seedqa_version": __version__,
        "machine": machine_info(),
        "squad": str(squad),
        "articles": len(files),
        "questions": len(questions),
        "limit": limit,
        "k": k,
        "systems": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"Wrote {out}")


if __name__ == "__main__":
    main()
