"""Helpers for the fault and reliability tests: documents, index snapshots, child processes, ports."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

from seedqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

_PLACES = ["Arden", "Belmor", "Carrow", "Dunmere", "Elston", "Farrow", "Glenby", "Harwick", "Ilford",
           "Jesmond", "Kelso", "Larne", "Morven", "Norwell", "Oban", "Penrith"]
_THINGS = ["ferries", "lanterns", "bridges", "orchards", "wells", "mills", "granaries", "kilns",
           "looms", "beacons", "quarries", "forges"]


def report_text(title: str, sentences: int, seed: int, marker: str = "") -> str:
    """A deterministic made-up report: `sentences` distinct factual sentences under a title line."""
    rng = random.Random(seed)
    lines = [title, ""]
    for number in range(sentences):
        place, thing = rng.choice(_PLACES), rng.choice(_THINGS)
        count = rng.randint(2, 9000)
        lines.append(f"In {place} district {number}{marker} the council counted {count} {thing} "
                     f"during survey round {number} of the {title.lower()}.")
    return "\n".join(lines) + "\n"


def snapshot(settings: Settings) -> dict[str, tuple]:
    """What the index answers from: per document, its version and live chunks (id, text)."""
    from index import Index

    index = Index(settings)
    versions = {record.source: record.version for record in index.documents()}
    chunks: dict[str, list] = {source: [] for source in versions}
    for chunk in index.live_chunks():
        chunks[chunk.source].append((chunk.id, chunk.text, chunk.start, chunk.end))
    return {source: (versions[source], tuple(sorted(chunks[source]))) for source in versions}


def stored_chunk_ids(settings: Settings) -> list[str]:
    """Every chunk id Chroma holds, live or not (duplicates would show up twice)."""
    from index import Index

    index = Index(settings)
    collection, _ = index._collections()
    return list(collection.get(include=[])["ids"])


def child_env(data_dir: Path, cache_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SEEDQA_DATA_DIR": str(data_dir), "SEEDQA_CACHE_DIR": str(cache_dir),
                "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra})
    return env


def seedqa_cli(*args: str, env: dict[str, str], timeout: float = 300,
               **kwargs) -> subprocess.CompletedProcess:
    """`seedqa ARGS` in a new process, as a user runs it."""
    return subprocess.run([PYTHON, "-m", "cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def wait_for_line(process: subprocess.Popen, prefix: str, timeout: float) -> tuple[str, list[str]]:
    """Read the child's stdout until a line starts with `prefix`; returns it and the lines before."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"child ended before {prefix!r}: {seen} {process.stderr.read()}")
        line = line.rstrip("\n")
        if line.startswith(prefix):
            return line, seen
        seen.append(line)
    raise AssertionError(f"no {prefix!r} within {timeout} s: {seen}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until something listens on 127.0.0.1:`port`; fail if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listened on {port} within {timeout} s")
