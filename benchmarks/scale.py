"""Scale: seedqa over generated corpora of about 1k, 10k and 100k chunks.

The text is generated, not trivial: a word-bigram model of the SQuAD articles
(fixed seed) writes documents of about 2,000 words, so the chunks have real
vocabulary, sentence lengths and word frequencies, and BM25 and the dense
index see realistic statistics. Two phases, each size in its own process (so
peak memory is that size's):

- ingest: generate the documents and ingest them into a fresh index under
  --workdir (`Assistant.add_documents`): chunks per second end to end, peak
  memory, index size on disk;
- query: open each index, warm it, and ask --questions SQuAD questions through
  `Assistant.answer` (retrieval + default answerer) and `Assistant.retrieve`:
  p50, p95 and peak memory. The sizes take turns for --rounds rounds and the
  medians of the rounds are reported, so a noisy spell hits every size alike.

With --reuse, sizes whose index is already in --workdir skip the ingest phase
(its figures are read back), so a long 100k ingest can run once and the
queries be measured later on a quiet machine.

Target: p50 query latency at 100k chunks <= 2x that at 1k.

    .venv/bin/python -m benchmarks.scale                          # 1k, 10k, 100k
    .venv/bin/python -m benchmarks.scale --sizes 1000,10000       # a subset
    .venv/bin/python -m benchmarks.scale --workdir /tmp/scale --reuse
    .venv/bin/python -m benchmarks.scale --quick                  # 1k only, 20 questions
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import click

from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # offline before any other library loads
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
CHUNKS_PER_DOCUMENT = 16  # about, at the default chunk settings (measured: 10,090 from 625)


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


def ingest_one(squad: Path, chunks: int, folder: Path) -> dict:
    """In this process: generate and ingest one size into `folder`; its ingest figures."""
    from qa import Assistant

    documents = generate(squad, chunks, folder / "docs")
    assistant = Assistant(_settings(folder))
    begin = time.perf_counter()
    report = assistant.add_documents([folder / "docs"])
    seconds = time.perf_counter() - begin
    if report.errors:
        raise click.ClickException(f"seedqa could not ingest: {report.errors[:3]}")
    return {"target_chunks": chunks, "documents": documents, "chunks": report.chunks_added,
            "ingest_seconds": seconds, "chunks_per_second": report.chunks_added / seconds,
            "ingest_peak_rss_mb": peak_rss_mb(), "index_mb": folder_mb(folder / "index")}


def query_one(squad: Path, folder: Path, count: int) -> dict:
    """In this process: open one size's index, warm it, and time `count` questions."""
    from qa import Assistant

    assistant = Assistant(_settings(folder))
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
    return {"first_question_seconds": first_seconds,
            "answer_seconds": {"p50": percentile(answer_seconds, 50),
                               "p95": percentile(answer_seconds, 95)},
            "retrieve_seconds": {"p50": percentile(retrieve_seconds, 50),
                                 "p95": percentile(retrieve_seconds, 95)},
            "peak_rss_mb": peak_rss_mb()}


def _settings(folder: Path):
    from seedqa.settings import Settings

    return Settings(data_dir=folder / "index", chroma_url=None)


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--sizes", default="1000,10000,100000", show_default=True,
              help="Comma-separated target chunk counts.")
@click.option("--questions", "count", type=click.IntRange(1), default=100, show_default=True)
@click.option("--rounds", type=click.IntRange(1), default=3, show_default=True,
              help="Query rounds; the sizes take turns and medians are reported.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the generated documents and indexes here (default: a temporary folder).")
@click.option("--reuse", is_flag=True, help="Skip the ingest of sizes already in --workdir.")
@click.option("--quick", is_flag=True, help="1,000 chunks, 20 questions, 1 round.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Result file [default: benchmarks/results/scale.json].")
@click.option("--child", type=click.Choice(["ingest", "query"]), default=None, hidden=True)
@click.option("--child-size", type=int, default=None, hidden=True)
def main(squad: Path, sizes: str, count: int, rounds: int, workdir: Path | None, reuse: bool,
         quick: bool, out: Path | None, child: str | None, child_size: int | None) -> None:
    """Ingest rate, query latency, peak memory and index size at each corpus size."""
    if child is not None:  # one size, one phase, in its own process
        folder = workdir / str(child_size)
        figures = (ingest_one(squad, child_size, folder) if child == "ingest"
                   else query_one(squad, folder, count))
        (folder / f"{child}.json").write_text(json.dumps(figures))
        return
    if quick:
        sizes, count, rounds = "1000", 20, 1
    targets = [int(size) for size in sizes.split(",") if size.strip()]
    with tempfile.TemporaryDirectory(prefix="seedqa-scale-") as scratch:
        root = workdir or Path(scratch)
        ingests = [_ingest(squad, target, root, reuse) for target in targets]
        queries = _query_rounds(squad, targets, root, count, rounds)
    results = [{**ingest, **_medians(rounds_of_size)}
               for ingest, rounds_of_size in zip(ingests, queries)]
    for figures in results:
        click.echo(
            f"  {figures['chunks']:>7,} chunks: ingest {figures['chunks_per_second']:.1f} chunks/s; "
            f"answer p50 {1000 * figures['answer_seconds']['p50']:.1f} ms "
            f"p95 {1000 * figures['answer_seconds']['p95']:.1f} ms; retrieve p50 "
            f"{1000 * figures['retrieve_seconds']['p50']:.1f} ms; peak RSS "
            f"{figures['peak_rss_mb']:.0f} MB; index {figures['index_mb']:.0f} MB", err=True)
    path = _write(squad, count, rounds, results, targets, out)
    growth = results[-1]["answer_seconds"]["p50"] / results[0]["answer_seconds"]["p50"]
    click.echo(f"answer p50 grows {growth:.2f}x from {results[0]['chunks']:,} "
               f"to {results[-1]['chunks']:,} chunks")
    click.echo(f"Wrote {path}")


def _child(phase: str, squad: Path, size: int, root: Path, count: int = 1) -> dict:
    command = [sys.executable, "-m", "benchmarks.scale", str(squad), "--child", phase,
               "--child-size", str(size), "--workdir", str(root), "--questions", str(count)]
    subprocess.run(command, cwd=ROOT, check=True)
    return json.loads((root / str(size) / f"{phase}.json").read_text())


def _ingest(squad: Path, size: int, root: Path, reuse: bool) -> dict:
    done = root / str(size) / "ingest.json"
    if reuse and done.exists():
        click.echo(f"size {size:,}: reusing the index in {done.parent}", err=True)
        return json.loads(done.read_text())
    if (root / str(size)).exists():
        shutil.rmtree(root / str(size))
    click.echo(f"size {size:,}: generating and ingesting ...", err=True)
    return _child("ingest", squad, size, root)


def _query_rounds(squad: Path, sizes: list[int], root: Path, count: int,
                  rounds: int) -> list[list[dict]]:
    measured: list[list[dict]] = [[] for _ in sizes]
    for number in range(rounds):
        for figures, size in zip(measured, sizes):
            click.echo(f"round {number + 1}/{rounds}, size {size:,}: asking {count} questions",
                       err=True)
            figures.append(_child("query", squad, size, root, count))
    return measured


def _medians(rounds: list[dict]) -> dict:
    def middle(key: str, part: str) -> float:
        return statistics.median(r[key][part] for r in rounds)

    return {"answer_seconds": {q: middle("answer_seconds", q) for q in ("p50", "p95")},
            "retrieve_seconds": {q: middle("retrieve_seconds", q) for q in ("p50", "p95")},
            "first_question_seconds": statistics.median(r["first_question_seconds"]
                                                        for r in rounds),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rounds),
            "rounds": rounds}


def _write(squad: Path, count: int, rounds: int, results: list[dict],
           targets: list[int], out: Path | None) -> Path:
    smallest, largest = results[0], results[-1]
    figures = {
        "sizes": results,
        "sizes_asked": targets,
        "latency_growth_p50": {"from_chunks": smallest["chunks"], "to_chunks": largest["chunks"],
                               "ratio": largest["answer_seconds"]["p50"]
                               / smallest["answer_seconds"]["p50"]},
        "target": "answer p50 at 100k chunks <= 2x that at 1k",
    }
    return write_result("scale", {"squad": str(squad), "questions": count, "rounds": rounds,
                                  "words_per_document": WORDS_PER_DOCUMENT}, figures, out)


if __name__ == "__main__":
    main()
