"""Faults: an ingest killed with SIGKILL, two ingests at once, a read-only or full disk.

Everything runs for real: the ingest is a child process killed with kill -9,
the disks are tmpfs mounts (root only; skipped with the reason otherwise).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ingest import ingest_paths
from ingest.loaders import load
from ingest.pipeline import Ingestor
from qa import Assistant
from seedqa.errors import IndexBusyError
from index.locking import write_lock
from seedqa.settings import Settings
from tests.faults import (
    PYTHON,
    ROOT,
    child_env,
    report_text,
    seedqa_cli,
    snapshot,
    stored_chunk_ids,
    wait_for_line,
)

QUESTION = "How many lanterns did the council count in Dunmere district 7?"
KILLS = 10

# The child ingests and says when it is ready, when each document write begins and
# before each write call to Chroma (OP n), pausing 20 ms there, so that kill points can
# be spread over every step of the write. The wrappers only print and pause.
CHILD = """
import sys, time
from pathlib import Path
from seedqa.settings import Settings
from index import Index
from ingest import ingest_paths

settings = Settings()
index = Index(settings)
index.embed(["warm up"])          # load the model before the clock starts
original = Index.write_document
def write_document(self, record, *args, **kwargs):
    print("WRITE", Path(record.source).name, time.monotonic(), flush=True)
    return original(self, record, *args, **kwargs)
Index.write_document = write_document
collection_class = type(index._collections()[0])
ops = [0]
def announced(name):
    method = getattr(collection_class, name)
    def call(self, *args, **kwargs):
        ops[0] += 1
        print("OP", ops[0], name, self.name, flush=True)
        time.sleep(0.02)
        return method(self, *args, **kwargs)
    return call
for name in ("upsert", "add", "update", "delete"):
    setattr(collection_class, name, announced(name))
print("READY", time.monotonic(), flush=True)
report = ingest_paths([Path(sys.argv[1])], settings, index=index)
print("DONE", time.monotonic(), ops[0], report.summary(), flush=True)
"""


def _start_child(folder: Path, data_dir: Path, cache_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-c", CHILD, str(folder)], env=child_env(data_dir, cache_dir),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _expected_chunk_ids(folder: Path, settings: Settings) -> set[str]:
    """Chunk ids computed from the files themselves, with the ingest's own chunker."""
    ingestor = Ingestor(settings)
    ids = set()
    for path in sorted(folder.iterdir()):
        loaded = load(path, int(settings.max_file_mb * 1e6))
        source = str(path.resolve())
        document = type(loaded)(source, loaded.text, loaded.title, loaded.date, loaded.page_starts)
        ids |= {chunk.id for chunk in ingestor._chunks(document, ingestor._version(document))}
    return ids


def _answer(settings: Settings) -> tuple:
    """The answer's text and the chunks it cites (scores are floats; these must match exactly)."""
    answer = Assistant(settings).answer(QUESTION)
    return answer.text, tuple(citation.chunk_id for citation in answer.citations)


@pytest.mark.slow
def test_kill_9_during_ingest_leaves_before_or_after_never_half(tmp_path, tmp_path_factory):
    """kill -9 at 10 random points of an ingest that changes one document and adds another."""
    cache = Path(os.environ["SEEDQA_CACHE_DIR"])
    docs = tmp_path / "docs"
    docs.mkdir()
    a, b = docs / "a_survey.txt", docs / "b_survey.txt"
    # Before: the first report. After: retitled with more sentences (every chunk gets a new
    # version; unchanged texts reuse their embeddings), and a second report.
    a.write_text(report_text("Harbour Survey", 150, seed=1))
    template = Settings(data_dir=tmp_path / "template", cache_dir=cache)
    assert not ingest_paths([docs], template).errors

    def reference(name: str, files: dict[Path, str]) -> tuple[Settings, dict, str]:
        settings = Settings(data_dir=tmp_path / name, cache_dir=cache)
        shutil.copytree(template.data_dir, settings.data_dir)
        for path, text in files.items():
            path.write_text(text)
        assert not ingest_paths([docs], settings).errors
        return settings, snapshot(settings), _answer(settings)

    a_new = "Harbour Survey, revised\n" + report_text("Harbour Survey", 150, seed=1) + report_text(
        "Harbour Annex", 40, seed=2)
    b_text = report_text("Kiln Survey", 40, seed=3)
    before = (template, snapshot(template), _answer(template))
    b.unlink(missing_ok=True)
    middle = reference("middle", {a: a_new})                 # a written, b not yet
    after = reference("after", {a: a_new, b: b_text})         # both written
    states = {"before": before[1:], "middle": middle[1:], "after": after[1:]}
    assert len({json.dumps(s[0], sort_keys=True) for s in states.values()}) == 3
    expected_ids = _expected_chunk_ids(docs, after[0])
    assert expected_ids == {c[0] for _, chunks in after[1].values() for c in chunks}

    # Calibrate: one full run, to know when writing starts and how long the run takes.
    probe = Settings(data_dir=tmp_path / "probe", cache_dir=cache)
    shutil.copytree(template.data_dir, probe.data_dir)
    child = _start_child(docs, probe.data_dir, cache)
    ready = float(wait_for_line(child, "READY", 240)[0].split()[1])
    first_write = float(wait_for_line(child, "WRITE", 240)[0].split()[2])
    done_line = wait_for_line(child, "DONE", 240)[0].split()
    assert child.wait(60) == 0
    span, write_start, write_ops = float(done_line[1]) - ready, first_write - ready, int(done_line[2])
    assert write_ops >= 5  # chunks, document record, generation (and old chunks), per document

    rng = random.Random(int(os.environ.get("SEEDQA_FAULT_SEED", "6")))
    # Three points while it reads, chunks and embeds (a time after READY); seven while it
    # writes (a random write call to Chroma, then 0-40 ms: before, inside or after it).
    points = [("READY", rng.uniform(0, write_start)) for _ in range(3)]
    points += [(f"OP {rng.randint(1, write_ops)} ", rng.uniform(0, 0.04)) for _ in range(KILLS - 3)]
    outcomes = []
    for number, (anchor, delay) in enumerate(points):
        data = Settings(data_dir=tmp_path / f"kill-{number}", cache_dir=cache)
        shutil.copytree(template.data_dir, data.data_dir)
        child = _start_child(docs, data.data_dir, cache)
        seen = wait_for_line(child, "READY", 240)[1]
        if anchor != "READY":
            seen += wait_for_line(child, anchor, 240)[1] + [anchor]
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        seen += child.stdout.read().splitlines()
        writes = sum(line.startswith("WRITE") for line in seen)
        last_op = max([line.split()[1] for line in seen if line.startswith("OP")] or ["0"], key=int)
        killed = child.returncode == -signal.SIGKILL

        state = snapshot(data)
        matches = [name for name, (snap, _) in states.items() if snap == state]
        assert matches, f"kill {number} {delay:.2f} s after {anchor}: neither before nor after"
        assert _answer(data) == states[matches[0]][1]
        # Re-running the same ingest completes, and leaves exactly the chunks the files make.
        report = ingest_paths([docs], data)
        assert not report.errors
        assert snapshot(data) == after[1]
        ids = stored_chunk_ids(data)
        assert len(ids) == len(set(ids)), "duplicate chunk ids"
        assert set(ids) == expected_ids, "orphan or missing chunks"
        outcomes.append({"after": anchor.strip(), "delay_s": round(delay, 3), "killed": killed,
                         "documents_begun": writes, "last_write_call": f"{last_op} of {write_ops}",
                         "state_after_kill": matches[0], "rerun": "complete, no orphans"})
    _record("kill -9 during ingest", outcomes, span=round(span, 2), write_start=round(write_start, 2))
    assert sum(o["killed"] for o in outcomes) >= KILLS - 3, outcomes  # nearly all landed mid-run


def _record(case: str, outcomes: list[dict], **facts) -> None:
    """Keep what a fault test saw, for RELIABILITY.md (artifacts/ is not committed).

    benchmarks/reliability.py names its own file in SEEDQA_FAULT_RECORD, so that other
    test runs on the machine do not mix into its report.
    """
    path = Path(os.environ.get("SEEDQA_FAULT_RECORD") or ROOT / "artifacts" / "faults.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(json.dumps({"case": case, **facts, "outcomes": outcomes}) + "\n")


# --- two writers ---------------------------------------------------------------------------


def test_lock_is_released_when_its_holder_is_killed(tmp_path):
    code = ("import sys, time; from pathlib import Path; from index.locking import write_lock\n"
            "with write_lock(Path(sys.argv[1]), 5):\n"
            "    print('HELD', flush=True); time.sleep(600)\n")
    child = subprocess.Popen([PYTHON, "-c", code, str(tmp_path)], cwd=ROOT, env=child_env(tmp_path, tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(child, "HELD", 60)
    with pytest.raises(IndexBusyError, match=f"pid {child.pid}.*SEEDQA_LOCK_TIMEOUT"):
        with write_lock(tmp_path, timeout=0.5):
            pass
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    began = time.monotonic()
    with write_lock(tmp_path, timeout=5):
        pass
    assert time.monotonic() - began < 1


@pytest.mark.slow
def test_two_ingests_at_once_serialize_and_corrupt_nothing(tmp_path):
    """Two real `seedqa ingest` processes on one data dir: the second waits for the first."""
    cache = Path(os.environ["SEEDQA_CACHE_DIR"])
    first, second = tmp_path / "first", tmp_path / "second"
    for number, folder in enumerate((first, second)):
        folder.mkdir()
        for part in range(3):
            (folder / f"part{part}.txt").write_text(
                report_text(f"Survey {number} {part}", 60, seed=10 * number + part))
    data = tmp_path / "index"
    env = child_env(data, cache)
    # Hold the lock ourselves until both children are waiting, so they really overlap.
    with write_lock(data, timeout=5):
        children = [subprocess.Popen([PYTHON, "-m", "cli", "ingest", str(folder)], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for folder in (first, second, first)]
        deadline = time.monotonic() + 180
        waiting: dict[int, str] = {}
        while len(waiting) < len(children) and time.monotonic() < deadline:
            for number, child in enumerate(children):
                if number not in waiting and child.poll() is None:
                    line = child.stderr.readline()
                    if "waiting for it to finish" in line:
                        waiting[number] = line
            time.sleep(0.05)
        assert len(waiting) == len(children), waiting
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert all(f"pid {os.getpid()}" in line and "SEEDQA_LOCK_TIMEOUT" in line
               for line in waiting.values())

    settings = Settings(data_dir=data, cache_dir=cache)
    reference = Settings(data_dir=tmp_path / "reference", cache_dir=cache)
    ingest_paths([first, second], reference)
    assert snapshot(settings) == snapshot(reference)
    ids = stored_chunk_ids(settings)
    assert len(ids) == len(set(ids)) == sum(len(c) for _, c in snapshot(reference).values())


def test_a_writer_that_waits_too_long_fails_clearly_and_changes_nothing(tmp_path, seed_index):
    data = tmp_path / "index"
    shutil.copytree(seed_index.data_dir, data)
    settings = Settings(data_dir=data, cache_dir=seed_index.cache_dir)
    before = snapshot(settings)
    extra = tmp_path / "extra.txt"
    extra.write_text(report_text("Extra Survey", 20, seed=4))
    with write_lock(data, timeout=5):
        result = seedqa_cli("ingest", str(extra), env=child_env(data, seed_index.cache_dir,
                                                                 SEEDQA_LOCK_TIMEOUT="1"))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "still writing" in last and "SEEDQA_LOCK_TIMEOUT" in last
    assert "Traceback" not in result.stderr
    assert snapshot(settings) == before


def test_removing_a_document_takes_the_write_lock_too(tmp_path, seed_index):
    data = tmp_path / "index"
    shutil.copytree(seed_index.data_dir, data)
    settings = Settings(data_dir=data, cache_dir=seed_index.cache_dir, lock_timeout=1)
    assistant = Assistant(settings)
    source = assistant.documents()[0].source
    before = snapshot(settings)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer (a thread of its own: the lock is per thread here)
        with write_lock(data, timeout=5):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(IndexBusyError, match="SEEDQA_LOCK_TIMEOUT"):
            assistant.remove_document(source)
        assert snapshot(settings) == before
    finally:
        release.set()
        holder.join()
    assert assistant.remove_document(source) > 0
    assert source not in snapshot(settings)
