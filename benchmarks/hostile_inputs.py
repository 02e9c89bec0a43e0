"""Ingest time and peak memory against file size, for the inputs that used to blow up.

    .venv/bin/python -m benchmarks.hostile_inputs            # 1, 2, 4, 8, 16, 32, 50 MB
    .venv/bin/python -m benchmarks.hostile_inputs --quick    # 1, 2, 4, 8 MB

Four hostile inputs (issue 13), and prose to compare: one line of letters and digits without a space, short
lines in one paragraph, <div>s nested to the file's size, and base64 wrapped
at 76 characters. Each measurement is its own child process, timed from the
outside; its peak RSS is the child's own VmHWM (/proc/self/status, read as it
exits). Not rusage: Linux carries the forked parent's RSS into a child's
ru_maxrss across exec, so every child would seem as big as this script.

- `prepare`: everything before the embedding model (read, decode, parse, refuse
  or chunk with tiktoken), the stages that were quadratic or worse;
- `ingest`: `seedqa ingest FILE` into a fresh index, end to end. The embedding
  model reads ~36 chunks a second on two cores, so for inputs that get indexed
  (many lines, nested HTML below the fragment limit, and ordinary prose for
  comparison) this runs at small sizes only (`--ingest-mb`); the refused ones
  (one line, base64) run at every size.

Writes benchmarks/results/hostile_inputs.json and prints a table. Linear means
seconds per MB and RSS growth per MB stay flat as the size grows.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, write_result

SIZES_MB = (1, 2, 4, 8, 16, 32, 50)
QUICK_MB = (1, 2, 4, 8)


def one_line(size: int) -> bytes:
    """`size` bytes of letters and digits on one line, no space (a 5 MB one took 16.7 GB)."""
    unit = b"QmFzZTY0IGlzIG5vdCBwcm9zZQ" * 40
    return (unit * (size // len(unit) + 1))[:size]


def base64_blob(size: int, seed: int = 0) -> bytes:
    """`size` bytes of base64, wrapped at 76 characters as `base64` writes it."""
    raw = random.Random(seed).randbytes(size * 3 // 4 + 3)
    return base64.encodebytes(raw)[:size]


def many_lines(size: int) -> bytes:
    """Short lines in one paragraph (200,000 of them took 140 s to chunk)."""
    unit = b"".join(b"item %d of the list\n" % n for n in range(1000))
    return (unit * (size // len(unit) + 1))[:size]


def nested_html(size: int) -> bytes:
    """<div>s nested as deep as `size` bytes allow, a word in each (20,000 levels took 394 s)."""
    levels = max(1, (size - 26) // 16)
    return b"<html><body>" + b"<div>deep " * levels + b"</div>" * levels + b"</body></html>"


_WORDS = ("harbour ferry council survey district lantern bridge orchard mill kiln quarry beacon "
          "counted reported opened repaired visited measured during after before every the a of "
          "in on at with from new old north south river market").split()


def prose(size: int, seed: int = 0) -> bytes:
    """Ordinary prose for comparison: sentences of 8-20 words, paragraphs of 3-7 of them."""
    rng, parts, total = random.Random(seed), [], 0
    while total < size:
        sentences = []
        for _ in range(rng.randint(3, 7)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 20))]
            sentences.append(f"{words[0].capitalize()} {' '.join(words[1:])} {rng.randint(2, 9000)}.")
        paragraph = " ".join(sentences) + "\n\n"
        parts.append(paragraph)
        total += len(paragraph)
    return "".join(parts).encode()[:size]


# name: (suffix, builder, end-to-end sizes in MB (None: every size; what is refused is cheap))
INPUTS = {"one line": ("txt", one_line, None), "many lines": ("txt", many_lines, (0.1, 0.2, 0.4)),
          "nested html": ("html", nested_html, (0.05, 0.1, 0.2)), "base64": ("txt", base64_blob, None),
          "prose": ("txt", prose, (0.25, 0.5, 1))}


def _prepare(path: Path) -> dict:
    """In the child: load and chunk `path` as ingest does, without the embedding model."""
    from ingest.loaders import load
    from ingest.pipeline import Ingestor, check_chunk_count, check_fragments
    from seedqa.errors import IngestError
    from seedqa.settings import Settings

    settings = Settings(max_file_mb=100)
    began = time.perf_counter()
    try:  # the same checks, in the same order, as Ingestor._ingest_file
        document = load(path, int(settings.max_file_mb * 1e6))
        check_fragments(path, document.text)
        chunks = Ingestor(settings).chunker.split(document.text)
        check_chunk_count(path, len(chunks))
    except IngestError as error:
        return {"outcome": "refused", "message": str(error)[:160], "seconds": time.perf_counter() - began}
    return {"outcome": "chunked", "chunks": len(chunks), "seconds": time.perf_counter() - began}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report_peak_at_exit() -> None:
    import atexit

    atexit.register(lambda: print(f"PEAK_RSS_MB {peak_rss_mb():.1f}", file=sys.stderr, flush=True))


def _run_child(command: list[str], env: dict[str, str]) -> dict:
    """Run `command`; its wall seconds, exit status, output and own peak RSS (its VmHWM)."""
    began = time.perf_counter()
    run = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = run.stdout.decode(errors="replace")
    peaks = [float(line.split()[1]) for line in output.splitlines() if line.startswith("PEAK_RSS_MB ")]
    return {"seconds": time.perf_counter() - began, "returncode": run.returncode,
            "peak_rss_mb": peaks[-1] if peaks else float("nan"), "output": output}


def measure(kind: str, size_mb: float, stage: str, work: Path) -> dict:
    suffix, build, _ = INPUTS[kind]
    path = work / f"{kind.replace(' ', '-')}-{size_mb:g}MB.{suffix}"
    path.write_bytes(build(int(size_mb * 1e6)))
    env = dict(os.environ, PYTHONPATH=str(ROOT), SEEDQA_MAX_FILE_MB="100",
               SEEDQA_DATA_DIR=str(work / f"index-{path.stem}"))
    if stage == "prepare":
        command = [sys.executable, "-m", "benchmarks.hostile_inputs", "--child", str(path)]
    else:
        command = [sys.executable, "-m", "benchmarks.hostile_inputs", "--child-ingest", str(path)]
    result = _run_child(command, env)
    path.unlink()
    row = {"input": kind, "mb": size_mb, "stage": stage, "seconds": round(result["seconds"], 2),
           "peak_rss_mb": round(result["peak_rss_mb"], 1), "returncode": result["returncode"]}
    if stage == "prepare":
        lines = [line for line in result["output"].splitlines() if line.startswith("{")]
        detail = json.loads(lines[-1]) if lines else {"outcome": "crashed: " + result["output"][-300:]}
        row.update(outcome=detail["outcome"], chunks=detail.get("chunks"),
                   inner_seconds=round(detail.get("seconds", 0), 2))
    else:
        tail = result["output"].strip().splitlines()
        row.update(outcome="refused" if "not prose" in result["output"] else
                   ("ingested" if result["returncode"] == 0 else "failed"),
                   summary=tail[-1][:200] if tail else "")
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 to 8 MB only")
    parser.add_argument("--sizes", help="comma-separated sizes in MB (overrides --quick)")
    parser.add_argument("--ingest-mb", default=None,
                        help="sizes for the end-to-end ingest of inputs that get indexed "
                             "(default: each input's own, 0.05 to 1 MB)")
    parser.add_argument("--inputs", default=",".join(INPUTS), help="which inputs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-ingest", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.child:
        _report_peak_at_exit()
        print(json.dumps(_prepare(Path(args.child))), flush=True)
        return
    if args.child_ingest:  # `seedqa ingest FILE`, as the command runs, in this process
        from cli import main as seedqa

        _report_peak_at_exit()
        seedqa(["ingest", args.child_ingest], prog_name="seedqa")
        return
    sizes = [float(s) for s in args.sizes.split(",")] if args.sizes else list(
        QUICK_MB if args.quick else SIZES_MB)
    ingest_sizes = None if args.ingest_mb is None else [float(s) for s in args.ingest_mb.split(",") if s]
    rows = []
    with tempfile.TemporaryDirectory(prefix="seedqa-hostile-") as folder:
        work = Path(folder)
        for kind in args.inputs.split(","):
            own = INPUTS[kind][2]
            plan = [(size, "prepare") for size in sizes]
            plan += [(size, "ingest") for size in (sizes if own is None else
                                                   own if ingest_sizes is None else ingest_sizes)]
            for size, stage in plan:
                row = measure(kind, size, stage, work)
                rows.append(row)
                print(f"{kind:12} {stage:8} {size:7g} MB  {row['seconds']:7.2f} s  "
                      f"{row['peak_rss_mb']:7.1f} MB RSS  {row['outcome']}"
                      + (f", {row['chunks']} chunks" if row.get("chunks") else ""), flush=True)
    figures = {"rows": rows, "per_mb": _slopes(rows)}
    path = write_result("hostile_inputs", {"sizes_mb": sizes, "ingest_mb": ingest_sizes,
                                           "command": " ".join(sys.argv)}, figures, args.out)
    print(_table(rows))
    print(f"wrote {path}")


def _slopes(rows: list[dict]) -> dict:
    """Seconds per MB at each size, per input and stage: flat when time is linear."""
    slopes: dict[str, dict[str, float]] = {}
    for row in rows:
        slopes.setdefault(f"{row['input']} / {row['stage']}", {})[f"{row['mb']:g}"] = round(
            row["seconds"] / row["mb"], 3)
    return slopes


def _table(rows: list[dict]) -> str:
    lines = ["| input | stage | MB | seconds | s per MB | peak RSS MB | outcome |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for row in rows:
        outcome = row["outcome"] + (f", {row['chunks']:,} chunks" if row.get("chunks") else "")
        lines.append(f"| {row['input']} | {row['stage']} | {row['mb']:g} | {row['seconds']:.2f} | "
                     f"{row['seconds'] / row['mb']:.2f} | {row['peak_rss_mb']:.0f} | {outcome} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
