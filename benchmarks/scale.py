"""Scale: seedqa over generated corpora of about 1k, 10k and 100k chunks.

The text is generated, not trivial: a word-bigram model of the SQuAD articles
(fixed seed) writes documents of about 2,000 words, so the chunks have real
vocabulary, sentence lengths and word frequencies, and BM25 and the dense
index see realistic statistics. Each size runs in its own process (so peak
memory is that size's), which:

- ingests the documents into a fresh index (`Assistant.add_documents`):
  chunks per second, end to end;
- asks --questions SQuAD questions, warm, through `Assistant.answer`
  (retrieval + default answerer) and `Assistant.retrieve`: p50 and p95;
- reports its peak resident memory and the index's size on disk.

Target: p50 query latency at 100k chunks <= 2x that at 1k.

    .venv/bin/python -m benchmarks.scale                          # 1k, 10k, 100k
    .venv/bin/python -m benchmarks.scale --sizes 1000,10000       # a subset
    .venv/bin/python -m benchmarks.scale --quick                  # 1k only, 20 questions
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import click

import seedqa  # noqa: F401  (offline before any other library loads)
from benchmarks.common import (
    DEFAULT_SQUAD,
    ROOT,
    folder_mb,
    peak_rss_mb,
    percentile,
    squad_files,
    squad_questions,
    write_result,
)

WORDS_PER_DOCUMENT = 2000
CHUNKS_PER_DOCUMENT = 16  # about, at the default chunk settings (160 tokens, 32 overlap)


def generate(squad: Path, chunks: int, folder: Path, seed: int = 13) -> int:
    """Write about `chunks` chunks' worth of bigram-generated documents; returns the count."""
    words = " ".join(path.read_text(encoding="utf-8") for path in squad_files(squad)).split()
    following: dict[str, list[str]] = defaultdict(list)
    for first, second in zip(words, words[1:]):
        following[first].append(second)
    starts = [w for w in following if w[:1].isupper()]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    documents = max(1, round(chunks / CHUNKS_PER_DOCUMENT))
    for number in range(documents):
        word = rng.choice(starts)
        out = [f"Generated document {number}", ""]
        line: list[str] = []
        for _ in range(WORDS_PER_DOCUMENT):
            line.append(word)
            if word.endswith(".") and len(line) > 60:  # paragraphs of a few sentences
                out.append(" ".join(line))
                line = []
            word = rng.choice(following.get(word) or starts)
        out.append(" ".join(line))
        (folder / f"doc{number:06d}.txt").write_text("\n".join(out) + "\n", encoding="utf-8")
    return documents


def measure_one(squad: Path, chunks: int, workdir: Path, count: int) -> dict:
    """In this process: generate, ingest, ask; returns the figures for one size."""
    from qa import Assistant
    from seedqa.settings import Settings

    documents = generate(squad, chunks, workdir / "docs")
    assistant = Assistant(Settings(data_dir=workdir / "index", chroma_url=None))
    begin = time.perf_counter()
    report = assistant.add_documents([workdir / "docs"])
    ingest_seconds = time.perf_counter() - begin
    if report.errors:
        raise click.ClickException(f"seedqa could not ingest: {report.errors[:3]}")
    questions = squad_questions(squad, count)
    begin = time.perf_counter()
    assistant.answer(questions[0])  # warm: the lexical index is built on the first question
    first_seconds = time.perf_counter() - begin
    answer_seconds, retrieve_seconds = [], []
    for question in questions:
        begin = time.perf_counter()
        assistant.answer(question)
        answer_seconds.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        assistant.retrieve(question)
        retrieve_seconds.append(time.perf_counter() - begin)
    return {
        "target_chunks": chunks,
        "documents": documents,
        "chunks": report.chunks_added,
        "ingest_seconds": ingest_seconds,
        "chunks_per_second": report.chunks_added / ingest_seconds,
        "first_question_seconds": first_seconds,
        "answer_seconds": {"p50": percentile(answer_seconds, 50),
                           "p95": percentile(answer_seconds, 95)},
        "retrieve_seconds": {"p50": percentile(retrieve_seconds, 50),
                             "p95": percentile(retrieve_seconds, 95)},
        "questions": len(questions),
        "peak_rss_mb": peak_rss_mb(),
        "index_mb": folder_mb(workdir / "index"),
    }


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--sizes", default="1000,10000,100000", show_default=True,
              help="Comma-separated target chunk counts.")
@click.option("--questions", "count", type=click.IntRange(1), default=100, show_default=True)
@click.option("--quick", is_flag=True, help="1,000 chunks and 20 questions only.")
@click.option("--child", type=int, default=None, hidden=True)
@click.option("--child-out", type=click.Path(path_type=Path), default=None, hidden=True)
def main(squad: Path, sizes: str, count: int, quick: bool, child: int | None,
         child_out: Path | None) -> None:
    """Ingest rate, query latency, peak memory and index size at each corpus size."""
    if child is not None:  # one size, in its own process
        with tempfile.TemporaryDirectory(prefix="seedqa-scale-") as workdir:
            figures = measure_one(squad, child, Path(workdir), count)
        child_out.write_text(json.dumps(figures))
        return
    if quick:
        sizes, count = "1000", 20
    targets = [int(size) for size in sizes.split(",") if size.strip()]
    results: list[dict] = []
    for target in targets:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, "-m", "benchmarks.scale", str(squad), "--child",
                       str(target), "--child-out", out.name, "--questions", str(count)]
            click.echo(f"size {target:,}: generating, ingesting, asking ...", err=True)
            begin = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True)
            figures = json.loads(Path(out.name).read_text())
            figures["wall_seconds"] = time.perf_counter() - begin
        results.append(figures)
        click.echo(
            f"  {figures['chunks']:>7,} chunks: ingest {figures['chunks_per_second']:.1f} chunks/s; "
            f"answer p50 {1000 * figures['answer_seconds']['p50']:.1f} ms "
            f"p95 {1000 * figures['answer_seconds']['p95']:.1f} ms; retrieve p50 "
            f"{1000 * figures['retrieve_seconds']['p50']:.1f} ms; peak RSS "
            f"{figures['peak_rss_mb']:.0f} MB; index {figures['index_mb']:.0f} MB", err=True)
        # Written after every size: a long run cut short keeps what it measured.
        path = _write(squad, count, results, targets)
    growth = results[-1]["answer_seconds"]["p50"] / results[0]["answer_seconds"]["p50"]
    click.echo(f"answer p50 grows {growth:.2f}x from {results[0]['chunks']:,} "
               f"to {results[-1]['chunks']:,} chunks")
    click.echo(f"Wrote {path}")


def _write(squad: Path, count: int, results: list[dict], targets: list[int]) -> Path:
    smallest, largest = results[0], results[-1]
    figures = {
        "sizes": results,
        "sizes_asked": targets,
        "latency_growth_p50": {"from_chunks": smallest["chunks"], "to_chunks": largest["chunks"],
                               "ratio": largest["answer_seconds"]["p50"]
                               / smallest["answer_seconds"]["p50"]},
        "target": "answer p50 at 100k chunks <= 2x that at 1k",
    }
    return write_result("scale", {"squad": str(squad), "questions": count,
                                  "words_per_document": WORDS_PER_DOCUMENT}, figures)


if __name__ == "__main__":
    main()
