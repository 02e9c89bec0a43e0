"""The live chunks as one file beside the store, so that a new process need not start Chroma.

Starting Chroma (importing it, opening the store, checking it) is a quarter of
a cold `seedqa ask`. A process that read the live chunks from Chroma writes
them, with their vectors and the index's generation, to
`.seedqa-snapshot.<collection prefix>.npz` in the data folder; the next process reads that file
instead, when the store's files are exactly as they were when it was written.

That check is the files' identity, size and modification time (`files_key`),
taken with the standard library. Chroma writes to `chroma.sqlite3` on every
change (its write log), so any write since, by any process, and any damage
to the files (cut, overwritten, deleted) makes the snapshot stale: it is
then ignored, the store is opened and checked as before, and a new one is
written. Chroma also touches its files when a client starts and when it
first reads a collection, which are both done by the time a snapshot is
written, so a reader that opened Chroma leaves a snapshot the next reader
can use.

A snapshot is written only when its key was taken after the chunks were
read, no writer holds the lock, and the generation read afterwards is still
the chunks' own: a write that slipped in between changed the generation or
the files, and the snapshot is not kept. It is a cache, never the source: a
folder that cannot be written, or a snapshot that cannot be read, costs only
the time.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index import integrity
from index.locking import LOCK_NAME, writer_active
from index.records import ChunkRecord

SNAPSHOT = ".seedqa-snapshot"  # + ".<collection prefix>.npz": one per index in the folder
_FORMAT = 1


def snapshot_path(data_dir: Path, collection: str) -> Path:
    return Path(data_dir) / f"{SNAPSHOT}.{collection}.npz"


@dataclass(frozen=True)
class LiveSet:
    """The index's live chunks, their embeddings (one row each) and the generation they are of."""

    generation: str
    chunks: tuple[ChunkRecord, ...]
    vectors: np.ndarray  # float32, (len(chunks), dim)


def files_key(data_dir: Path) -> str | None:
    """The store's files as they are now: what a snapshot must have been written against.

    The files in the data folder (Chroma's database, seedqa's own aside) and the
    vector folders with their files, each with its inode, size and modification
    time; not the chat's uploads. None when there is no store.
    """
    data_dir = Path(data_dir)
    try:
        paths = sorted(entry.path for entry in os.scandir(data_dir) if entry.is_file()
                       and entry.name != LOCK_NAME and not entry.name.startswith(SNAPSHOT))
        for folder in integrity.segment_folders(data_dir):
            paths += [str(folder), *sorted(str(path) for path in folder.iterdir())]
        entries = [(os.path.relpath(path, data_dir), *_identity(os.stat(path))) for path in paths]
        status = os.stat(data_dir)
    except OSError:
        return None
    if not (data_dir / integrity.DATABASE).exists():
        return None
    return json.dumps([_FORMAT, status.st_dev, status.st_ino, entries])


def _identity(status: os.stat_result) -> tuple[int, int, int]:
    return status.st_ino, status.st_size, status.st_mtime_ns


def load(data_dir: Path, collection: str) -> LiveSet | None:
    """The snapshot in `data_dir` if the store's files are as it was written against, else None."""
    key = files_key(data_dir)
    if key is None:
        return None
    try:
        with np.load(snapshot_path(data_dir, collection), allow_pickle=False) as found:
            if found["key"].tobytes().decode() != key:
                return None
            header = json.loads(found["chunks"].tobytes())
            vectors = found["vectors"].astype(np.float32, copy=False)
        chunks = tuple(ChunkRecord.from_chroma(chunk_id, text, meta)
                       for chunk_id, text, meta in header["chunks"])
        live = LiveSet(str(header["generation"]), chunks, vectors)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # none yet, or cut short, or another format: read the store instead
    return live if len(chunks) == len(vectors) else None


def save(data_dir: Path, collection: str, live: LiveSet,
         generation: Callable[[], str]) -> None:
    """Keep `live` for the next process, unless a write may have come between (see above).

    `generation` reads the index's generation now.
    """
    data_dir = Path(data_dir)
    key = files_key(data_dir)
    if not live.chunks or key is None or writer_active(data_dir) or generation() != live.generation:
        return
    header = {"generation": live.generation,
              "chunks": [[chunk.id, chunk.text, chunk.metadata()] for chunk in live.chunks]}
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=SNAPSHOT, suffix=".tmp",
                                         delete=False) as file:
            temporary = Path(file.name)
            np.savez(file, key=np.frombuffer(key.encode(), dtype=np.uint8),
                     chunks=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                     vectors=np.asarray(live.vectors, dtype=np.float32))
        os.chmod(temporary, 0o644)  # readable as the store is (tempfile makes it 0600)
        os.replace(temporary, snapshot_path(data_dir, collection))
    except OSError:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
