"""Warm latency: seedqa's retrieval + default answerer against the baseline's similarity_search.

On the SQuAD corpus (36 articles), in one process, after one warm-up question
each: every question is asked of seedqa (`Assistant.answer`: hybrid retrieval
plus the extractive answerer, as `seedqa ask` and the chat do), of seedqa's
retrieval alone (`Assistant.retrieve`), and of the baseline
(`Chroma.similarity_search(question, k=5)` over the tutorial's index),
alternating question by question so that load from elsewhere hits all three
alike. Every question is new to the process: each run and each system gets
questions of its own, so that no remembered question vector flatters a
system. p50 and p95 per run; the medians over runs are reported.
Target: seedqa p50 <= 40 ms, p95 <= 100 ms on 2 cores (the fitted reader's issue; 30 ms
before the reader read every sentence's spans).

With `--chat`, it also starts `seedqa chat` on the same index in a new
process, asks it questions through its HTTP API, and reads the process's
peak resident memory (target: <= 1 GB).

The indexes are built in --index-dir and reused by later runs (seedqa's
ingest skips unchanged files; the baseline's folder is kept).

    .venv/bin/python -m benchmarks.latency                    # 3 runs x 200 questions
    .venv/bin/python -m benchmarks.latency --quick            # 1 run x 50 questions
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # offline before any other library loads
from benchmarks.common import (
    DEFAULT_SQUAD,
    ROOT,
    baseline_embeddings,
    baseline_splits,
    baseline_store,
    median,
    percentile,
    squad_files,
    squad_questions,
    write_result,
)

DEFAULT_INDEX_DIR = Path(tempfile.gettempdir()) / "seedqa-bench-squad"
TARGET_P50, TARGET_P95 = 0.040, 0.100  # seconds, warm, on 2 cores
TARGET_CHAT_RSS_MB = 1024  # the chat's peak on the SQuAD index: 1 GB


def open_seedqa(files, index_dir: Path):
    from qa import Assistant
    from seedqa.settings import Settings

    assistant = Assistant(Settings(data_dir=index_dir / "seedqa", chroma_url=None))
    report = assistant.add_documents(files)
    if report.errors:
        raise click.ClickException(f"seedqa could not ingest: {report.errors}")
    return assistant


def open_baseline(files, index_dir: Path):
    """The tutorial's Chroma store over `files`, built once in index_dir/baseline."""
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    folder = index_dir / "baseline"
    embeddings = baseline_embeddings()
    if (folder / "chroma.sqlite3").exists():
        store = Chroma(collection_name="baseline", embedding_function=embeddings,
                       persist_directory=str(folder),
                       client_settings=ChromaSettings(anonymized_telemetry=False))
        if store._collection.count():
            return store
    return baseline_store(baseline_splits(files), embeddings, folder)


def _stats(seconds: list[float]) -> dict:
    return {"p50": percentile(seconds, 50), "p95": percentile(seconds, 95), "n": len(seconds)}


def chat_peak_memory(index_dir: Path, questions: list[str]) -> dict:
    """Start `seedqa chat` on the index, ask it `questions` over HTTP, read its peak RSS."""
    from gradio_client import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).parent / "seedqa"), "--data-dir",
               str(index_dir / "seedqa"), "chat", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise click.ClickException("seedqa chat did not start") from None
                time.sleep(0.5)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        seconds = []
        for question in questions:
            begin = time.perf_counter()
            client.predict(question, "extractive", api_name="/ask")
            seconds.append(time.perf_counter() - begin)
        status = Path(f"/proc/{server.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        peak_kb = int(fields["VmHWM"].split()[0])
        return {"peak_rss_mb": peak_kb / 1024, "questions": len(questions),
                "http_seconds": _stats(seconds), "command": " ".join(command[1:])}
    finally:
        server.terminate()
        server.wait(timeout=30)


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--runs", type=click.IntRange(1), default=3, show_default=True)
@click.option("--questions", "count", type=click.IntRange(1), default=200, show_default=True,
              help="Answerable questions per run, taken evenly through the file.")
@click.option("--quick", is_flag=True, help="1 run of 50 questions.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_INDEX_DIR, show_default=True)
@click.option("--chat/--no-chat", default=True, show_default=True,
              help="Also measure the peak memory of a `seedqa chat` process.")
def main(squad: Path, runs: int, count: int, quick: bool, index_dir: Path, chat: bool) -> None:
    """Warm per-question latency of seedqa (retrieve + answer) and the baseline."""
    if quick:
        runs, count = 1, 50
    files = squad_files(squad)
    questions = squad_questions(squad, count * runs * 3)  # 3 systems
    click.echo(f"building / opening indexes in {index_dir}", err=True)
    assistant = open_seedqa(files, index_dir)
    baseline = open_baseline(files, index_dir)
    k = assistant.settings.top_k
    systems = {
        "seedqa_answer": lambda q: assistant.answer(q),
        "seedqa_retrieve": lambda q: assistant.retrieve(q, k),
        "baseline_similarity_search": lambda q: baseline.similarity_search(q, k=k),
    }
    for ask in systems.values():  # warm: models loaded, BM25 built, caches filled
        ask("warm up question about the index")

    per_run: dict[str, list[dict]] = {name: [] for name in systems}
    for run in range(runs):
        seconds: dict[str, list[float]] = {name: [] for name in systems}
        for number in range(count):
            names = list(systems)
            names = names[number % 3:] + names[: number % 3]
            for name in names:
                question = questions[(run * count + number) * 3 + list(systems).index(name)]
                begin = time.perf_counter()
                systems[name](question)
                seconds[name].append(time.perf_counter() - begin)
        for name in systems:
            per_run[name].append(_stats(seconds[name]))
        click.echo(f"run {run + 1}: " + ", ".join(
            f"{name} p50 {1000 * per_run[name][-1]['p50']:.1f} ms" for name in systems), err=True)

    summary = {name: {"p50": median([r["p50"] for r in runs_]),
                      "p95": median([r["p95"] for r in runs_])}
               for name, runs_ in per_run.items()}
    seedqa_answer = summary["seedqa_answer"]
    figures = {
        "articles": len(files),
        "questions": count,
        "runs": runs,
        "chunks": {"seedqa": len(assistant.retriever.corpus().chunks),
                   "baseline": baseline._collection.count()},
        "seconds": summary,
        "per_run": per_run,
        "ratios": {
            "seedqa_answer_vs_baseline_p50":
                seedqa_answer["p50"] / summary["baseline_similarity_search"]["p50"],
            "seedqa_answer_vs_baseline_p95":
                seedqa_answer["p95"] / summary["baseline_similarity_search"]["p95"],
        },
        "target": {"p50_seconds": TARGET_P50, "p95_seconds": TARGET_P95,
                   "met": seedqa_answer["p50"] <= TARGET_P50 and seedqa_answer["p95"] <= TARGET_P95},
    }
    click.echo("\nwarm latency per question (median of runs)")
    for name, stats in summary.items():
        click.echo(f"  {name:28s} p50 {1000 * stats['p50']:7.1f} ms   p95 {1000 * stats['p95']:7.1f} ms")
    if chat:
        figures["chat"] = chat_peak_memory(index_dir, questions[:20])
        figures["chat"]["target_mb"] = TARGET_CHAT_RSS_MB
        click.echo(f"  seedqa chat peak RSS: {figures['chat']['peak_rss_mb']:.0f} MB "
                   f"after {figures['chat']['questions']} questions over HTTP")
    path = write_result("latency", {
        "squad": str(squad), "index_dir": str(index_dir), "top_k": k,
        "seedqa": assistant.settings.model_dump(mode="json", exclude={"data_dir", "cache_dir"}),
    }, figures)
    click.echo(f"Wrote {path}")


if __name__ == "__main__":
    main()
