"""Ingest throughput: seedqa against the raw embedding rate and the LangChain baseline.

Each run, on the SQuAD corpus (36 articles), in one process:

- seedqa: `Assistant.add_documents` into a fresh index (load, chunk, embed,
  write to Chroma): chunks per second, end to end;
- raw SentenceTransformer.encode of exactly the chunk texts seedqa wrote
  (sentence-transformers' own defaults): the rate seedqa is held to (target:
  seedqa >= 90% of it);
- raw seedqa embedder (the NumPy MiniLM) on the same texts, to show how much
  of ingest is embedding;
- baseline: the tutorial's `Chroma.from_documents` over its 1,000-character
  splits into a fresh folder (chunks and characters per second).

The models load once, before the timed runs; the order of the systems turns
each run, so that a busy neighbour does not always hit the same one. Medians
over the runs.

    .venv/bin/python -m benchmarks.ingest_speed               # 3 runs, all 36 articles
    .venv/bin/python -m benchmarks.ingest_speed --quick       # 1 run, 6 articles
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # offline before any other library loads
from benchmarks.common import (
    DEFAULT_SQUAD,
    baseline_embeddings,
    baseline_splits,
    baseline_store,
    median,
    squad_files,
    write_result,
)


def _seedqa_ingest(files, workdir: Path) -> tuple[dict, list[str]]:
    from qa import Assistant
    from seedqa.settings import Settings

    assistant = Assistant(Settings(data_dir=workdir, chroma_url=None))
    begin = time.perf_counter()
    report = assistant.add_documents(files)
    seconds = time.perf_counter() - begin
    if report.errors:
        raise click.ClickException(f"seedqa could not ingest: {report.errors}")
    texts = [chunk.text for chunk in assistant.index.live_chunks()]
    return {"chunks": report.chunks_added, "chars": sum(map(len, texts)),
            "seconds": seconds}, texts


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("nan")


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--runs", type=click.IntRange(1), default=3, show_default=True)
@click.option("--articles", type=click.IntRange(1), default=None,
              help="Use the first N articles only [default: all].")
@click.option("--quick", is_flag=True, help="1 run over 6 articles.")
@click.option("--sweep/--no-sweep", default=True, show_default=True,
              help="Also time the NumPy embedder at batch sizes 8, 16, 32 and 64.")
def main(squad: Path, runs: int, articles: int | None, quick: bool, sweep: bool) -> None:
    """Measure ingest chunks/s of seedqa, raw SentenceTransformer.encode and the baseline."""
    if quick:
        runs, articles = 1, articles or 6
    files = squad_files(squad, articles)
    from sentence_transformers import SentenceTransformer

    from seedqa.settings import Settings
    from index import shared_embedder

    settings = Settings(chroma_url=None)
    embedder = shared_embedder(settings.embedding_model, settings.embed_batch_size)
    embedder.encode(["warm up"])  # load the model outside the timed part
    reference = SentenceTransformer(str(embedder.model_path), device="cpu", local_files_only=True)
    reference.encode(["warm up"])
    hf_embeddings = baseline_embeddings()
    hf_embeddings.embed_documents(["warm up"])
    splits = baseline_splits(files)
    click.echo(f"{len(files)} articles; baseline splits: {len(splits)}; runs: {runs}", err=True)

    samples: dict[str, list[float]] = {"seedqa": [], "raw_sentence_transformers": [],
                                       "raw_seedqa_embedder": [], "baseline": []}
    seedqa_run = None
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="seedqa-ingest-") as workdir:
            steps = ["seedqa", "raw", "baseline"]
            steps = steps[run % 3:] + steps[: run % 3]
            texts: list[str] = []
            for step in steps:
                if step == "seedqa":
                    seedqa_run, texts = _seedqa_ingest(files, Path(workdir) / f"seedqa{run}")
                    samples["seedqa"].append(_rate(seedqa_run["chunks"], seedqa_run["seconds"]))
                elif step == "baseline":
                    begin = time.perf_counter()
                    baseline_store(splits, hf_embeddings, Path(workdir) / f"baseline{run}")
                    samples["baseline"].append(_rate(len(splits), time.perf_counter() - begin))
            if not texts:
                raise click.ClickException("seedqa wrote no chunks")
            begin = time.perf_counter()
            reference.encode(texts, normalize_embeddings=True, show_progress_bar=False)
            samples["raw_sentence_transformers"].append(_rate(len(texts), time.perf_counter() - begin))
            begin = time.perf_counter()
            embedder.encode(texts)
            samples["raw_seedqa_embedder"].append(_rate(len(texts), time.perf_counter() - begin))
        click.echo(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.1f}/s" for k, v in samples.items()),
                   err=True)

    sweep_rates = {}
    if sweep and texts:
        from index.minilm import NumpyMiniLM

        model = NumpyMiniLM(embedder.model_path, embedder.max_tokens)
        sample = texts[:256]
        for batch_size in (8, 16, 32, 64):
            begin = time.perf_counter()
            model.encode(sample, batch_size=batch_size)
            sweep_rates[str(batch_size)] = _rate(len(sample), time.perf_counter() - begin)

    rates = {name: median(values) for name, values in samples.items()}
    baseline_chars = sum(len(split.page_content) for split in splits)
    seedqa_chars_per_chunk = seedqa_run["chars"] / seedqa_run["chunks"]
    figures = {
        "articles": len(files),
        "runs": runs,
        "chunks": {"seedqa": seedqa_run["chunks"], "baseline": len(splits)},
        "chars_per_chunk": {"seedqa": seedqa_chars_per_chunk,
                            "baseline": baseline_chars / len(splits)},
        "chunks_per_second": rates,
        "samples": samples,
        "ratios": {
            "seedqa_vs_raw_sentence_transformers": rates["seedqa"] / rates["raw_sentence_transformers"],
            "seedqa_vs_raw_seedqa_embedder": rates["seedqa"] / rates["raw_seedqa_embedder"],
            "seedqa_vs_baseline_chunks": rates["seedqa"] / rates["baseline"],
            "seedqa_vs_baseline_chars": (rates["seedqa"] * seedqa_chars_per_chunk)
            / (rates["baseline"] * baseline_chars / len(splits)),
        },
        "numpy_batch_size_sweep": sweep_rates,
        "target": "seedqa >= 90% of raw SentenceTransformer.encode on the same chunk texts",
    }
    click.echo("\nchunks/s (median of runs)")
    for name, rate in rates.items():
        click.echo(f"  {name:28s} {rate:8.1f}")
    for name, ratio in figures["ratios"].items():
        click.echo(f"  {name:40s} {ratio:6.2f}x")
    if sweep_rates:
        click.echo("  NumPy embedder by batch size: "
                   + ", ".join(f"{b}: {r:.1f}/s" for b, r in sweep_rates.items()))
    path = write_result("ingest_speed", {
        "squad": str(squad), "embed_batch_size": settings.embed_batch_size,
        "chunk_tokens": settings.chunk_tokens, "embedder_backend": embedder.backend,
        "sentence_transformers_batch_size": 32,
    }, figures)
    click.echo(f"Wrote {path}")


if __name__ == "__main__":
    main()
