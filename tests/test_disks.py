"""Disks that fail under the index: read-only, full, and a reader racing a writer.

Real tmpfs mounts (root only) and a real Chroma store; see tests/test_faults.py
for crashes and two writers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from ingest import ingest_paths
from qa import Assistant
from seedqa.errors import IndexWriteError
from seedqa.settings import Settings
from tests.faults import (
    ROOT,
    child_env,
    report_text,
    seedqa_cli,
    snapshot,
    stored_chunk_ids,
)


# --- disks -----------------------------------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs mounted for this test (needs root: CAP_SYS_ADMIN)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)


def test_read_only_data_dir_gives_a_clear_error(tmpfs, seed_index):
    data = tmpfs / "index"
    shutil.copytree(seed_index.data_dir, data)
    env = child_env(data, seed_index.cache_dir)
    _remount(tmpfs, "ro")
    ingested = seedqa_cli("ingest", str(ROOT / "seeds"), env=env)
    asked = seedqa_cli("ask", "How many drones did Russia fire at Ukraine overnight?", env=env)
    for result in (ingested, asked):
        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        [line] = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert "read-only" in line.lower() and "SEEDQA_DATA_DIR" in line
    # Python: the documented exception.
    with pytest.raises(IndexWriteError, match="(?i)read-only"):
        ingest_paths([ROOT / "seeds"], Settings(data_dir=data, cache_dir=seed_index.cache_dir))


def test_full_disk_gives_a_clear_error_and_keeps_the_old_answers(tmpfs, seed_index, tmp_path):
    data = tmpfs / "index"
    settings = Settings(data_dir=data, cache_dir=seed_index.cache_dir)
    shutil.copytree(seed_index.data_dir, data)
    question = "How many drones did Russia fire at Ukraine overnight?"
    before, answer = snapshot(settings), Assistant(settings).answer(question)
    big = tmp_path / "big"
    big.mkdir()
    for part in range(2):  # about 300 chunks, 3 MB in Chroma: more than the disk's free space
        (big / f"part{part}.txt").write_text(report_text(f"Big Survey {part}", 750, seed=20 + part))
    result = seedqa_cli("ingest", str(big), env=child_env(data, seed_index.cache_dir), timeout=900)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert "full" in line.lower() and "free some space" in line
    # Chroma cannot even read while its log cannot be compacted: a clear error too.
    asked = seedqa_cli("ask", question, env=child_env(data, seed_index.cache_dir))
    assert asked.returncode == 1 and "Traceback" not in asked.stderr
    assert "full" in asked.stderr.splitlines()[-1].lower()
    # With room again, whatever was written before the disk filled is not live: the index
    # answers as before; then the same ingest completes.
    _remount(tmpfs, "size=256m")
    usable = Settings(data_dir=data, cache_dir=seed_index.cache_dir)
    survivors = {s: v for s, v in snapshot(usable).items() if s in before}
    assert survivors == before
    assert Assistant(usable).answer(question).text == answer.text
    assert not ingest_paths([big], usable).errors
    ids = stored_chunk_ids(usable)
    assert len(ids) == len(set(ids)) == sum(len(c) for _, c in snapshot(usable).values())


def test_readers_never_see_half_a_document_while_a_writer_rewrites_it(tmp_path):
    """One thread rewrites a document back and forth; another keeps reading the live chunks."""

    from index import Index

    cache = Path(os.environ["SEEDQA_CACHE_DIR"])
    settings = Settings(data_dir=tmp_path / "index", cache_dir=cache)
    path = tmp_path / "docs" / "survey.txt"
    path.parent.mkdir()
    other = tmp_path / "docs" / "other.txt"
    other.write_text(report_text("Other Survey", 60, seed=8))
    versions = [report_text("Harbour Survey", 120, seed=1), report_text("Harbour Survey", 90, seed=9)]
    whole = []
    for text in versions:
        path.write_text(text)
        ingest_paths([path.parent], settings)
        whole.append({c[0] for c in snapshot(settings)[str(path.resolve())][1]})
    stop, seen, bad = threading.Event(), [], []

    def write() -> None:
        for round_ in range(8):
            path.write_text(versions[round_ % 2])
            ingest_paths([path], settings)
        stop.set()

    writer = threading.Thread(target=write)
    writer.start()
    reader = Index(settings)
    while not stop.is_set():
        chunks = reader.live_chunks()
        ids = {c.id for c in chunks if c.source == str(path.resolve())}
        others = sum(c.source == str(other.resolve()) for c in chunks)
        seen.append(len(ids))
        if ids not in whole or others != Index(settings).document(str(other.resolve())).chunks:
            bad.append((len(ids), others))
    writer.join()
    assert len(seen) > 10 and not bad, bad
