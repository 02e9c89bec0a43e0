"""The live-chunk snapshot (index/snapshot.py): a new process answers without starting
Chroma while the store is unchanged, and never from a stale or damaged store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from index import Index
from index.snapshot import SNAPSHOT, files_key, load, save, snapshot_path
from ingest import ingest_paths
from qa import Assistant
from seedqa.errors import IndexCorruptError, IndexNotReadyError

from .conftest import ROOT

QUESTION = "How many drones did Russia fire at Ukraine overnight?"
# A new process: answers, then says whether Chroma was imported to do it.
ASK = (
    "import sys\n"
    "from cli import main\n"
    "main(['--data-dir', sys.argv[1], 'ask', sys.argv[2]], standalone_mode=False)\n"
    "print('CHROMA', 'chromadb' in sys.modules)\n"
)


@pytest.fixture
def index_copy(seed_index, tmp_path):
    """A private copy of the seed index (no snapshot yet: copies have other inodes)."""
    target = tmp_path / "index"
    shutil.copytree(seed_index.data_dir, target)
    for path in target.glob(f"{SNAPSHOT}*"):
        path.unlink()
    return seed_index.model_copy(update={"data_dir": target})


def _load(settings):
    return load(settings.data_dir, settings.collection)


def _save(settings, live, generation):
    save(settings.data_dir, settings.collection, live, generation)


def _ask(settings, question: str = QUESTION) -> tuple[str, bool]:
    done = subprocess.run([sys.executable, "-c", ASK, str(settings.data_dir), question],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "SEEDQA_CACHE_DIR": str(settings.cache_dir)})
    assert done.returncode == 0, done.stderr
    answer, _, flag = done.stdout.rpartition("CHROMA ")
    return answer, flag.strip() == "True"


def test_a_second_process_answers_the_same_without_starting_chroma(index_copy):
    first, opened = _ask(index_copy)
    assert opened and snapshot_path(index_copy.data_dir, index_copy.collection).exists()
    second, opened = _ask(index_copy)
    assert not opened, "the second process started Chroma"
    assert second == first and "165" in second
    # The snapshot holds what Chroma holds, vectors included.
    index = Index(index_copy)
    kept = _load(index_copy)
    read = index._read_live()
    assert kept.generation == read.generation and kept.chunks == read.chunks
    np.testing.assert_array_equal(kept.vectors, read.vectors)


def test_any_write_makes_it_stale(index_copy, seed_copy):
    _ask(index_copy)
    (seed_copy / "ferry.txt").write_text(
        "date 2026-02-01\n\nThe harbour ferry carried 4,812 passengers in January.\n")
    assert not ingest_paths([seed_copy], index_copy).errors
    assert _load(index_copy) is None  # the files changed under it
    answer, opened = _ask(index_copy, "How many passengers did the harbour ferry carry?")
    assert opened and "4,812" in answer
    # The new reading is kept, and the next process uses it.
    answer, opened = _ask(index_copy, "How many passengers did the harbour ferry carry?")
    assert not opened and "4,812" in answer


@pytest.mark.parametrize("damage", ["header_overwritten", "cut_in_half"])
def test_damage_after_a_snapshot_is_still_caught(index_copy, damage):
    _ask(index_copy)
    data_dir = index_copy.data_dir
    database = data_dir / "chroma.sqlite3"
    if damage == "header_overwritten":
        with database.open("r+b") as file:
            file.write(b"\0" * 100)
    else:
        os.truncate(database, database.stat().st_size // 2)
    assert _load(index_copy) is None
    with pytest.raises(IndexCorruptError):
        Assistant(index_copy).answer(QUESTION)


def test_a_broken_snapshot_is_read_past_and_replaced(index_copy):
    _ask(index_copy)
    path = snapshot_path(index_copy.data_dir, index_copy.collection)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert _load(index_copy) is None
    answer, opened = _ask(index_copy)
    assert opened and "165" in answer
    assert _load(index_copy) is not None


def test_not_kept_while_a_write_may_have_come_between(index_copy):
    data_dir = index_copy.data_dir
    live = Index(index_copy)._read_live()
    _save(index_copy, live, lambda: "another generation")
    assert not snapshot_path(data_dir, index_copy.collection).exists()
    # Another process holds the write lock.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from index.locking import write_lock\n"
         "with write_lock(Path(sys.argv[1]), 5):\n    print('held', flush=True); time.sleep(30)",
         str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        _save(index_copy, live, lambda: live.generation)
        assert not snapshot_path(data_dir, index_copy.collection).exists()
    finally:
        holder.kill()
        holder.wait()
    _save(index_copy, live, lambda: live.generation)
    assert _load(index_copy) is not None


def test_a_snapshot_that_cannot_be_written_costs_only_the_time(index_copy):
    data_dir = index_copy.data_dir
    # A folder in the way: the write fails, as on a full or read-only disk.
    snapshot_path(data_dir, index_copy.collection).mkdir()
    (snapshot_path(data_dir, index_copy.collection) / "keep").write_text("")
    before = sorted(path.name for path in data_dir.iterdir())
    for _ in range(2):
        answer, opened = _ask(index_copy)
        assert opened and "165" in answer
    assert sorted(path.name for path in data_dir.iterdir()) == before  # no temporary left


def test_no_store_has_no_key(tmp_path):
    assert files_key(tmp_path) is None and files_key(tmp_path / "missing") is None
    assert load(tmp_path, "seedqa") is None


def test_each_collection_prefix_has_its_own(index_copy):
    _ask(index_copy)
    other = index_copy.model_copy(update={"collection": "other"})
    assert _load(other) is None
    with pytest.raises(IndexNotReadyError):
        Assistant(other).answer(QUESTION)


def test_the_key_stays_while_processes_only_read(index_copy):
    _ask(index_copy)
    key = files_key(index_copy.data_dir)
    _ask(index_copy)
    assert files_key(index_copy.data_dir) == key
