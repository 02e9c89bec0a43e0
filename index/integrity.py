"""Is the index on disk whole? Checked once when an `Index` opens its store.

Chroma keeps an index in one SQLite file (`chroma.sqlite3`: every record's
text and metadata, and the write log) and one HNSW folder per collection
(the vectors), named by the segment's id. Damage to either used to surface
as a 60-line traceback, or not at all: a 0-byte or deleted `chroma.sqlite3`
read as an empty index and was silently replaced by a new one beside the old
vectors, and a deleted HNSW folder cut dense search down to the few vectors
still in the write log. Here:

- the SQLite file is checked with the standard library before Chroma opens it
  (SQLite's header, `PRAGMA quick_check`), so that Chroma never writes into a
  broken file;
- the HNSW files' sizes are checked against their header before Chroma loads
  them (hnswlib reads a cut file past its end), and the vectors of a sample of
  chunks are read back once (a lost HNSW folder is rebuilt by Chroma from its
  write log's tail only: the older chunks' vectors are gone);
- the data folder's identity (device, inode) is kept, so that a process that
  outlives its folder (the chat) says so instead of answering from deleted files.

Only the standard library here: the Chroma side stays in `index/store.py`.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from seedqa.errors import ForeignCollectionError, IndexCorruptError, IndexNotReadyError

DATABASE = "chroma.sqlite3"
_HEADER = b"SQLite format 3\x00"
SAMPLE = 25  # chunks whose vectors are read back, at each of four places
_SEGMENT_FILES = ("header.bin", "data_level0.bin")
# hnswlib's header.bin as Chroma writes it: a format version, then offsetLevel0,
# max_elements, cur_element_count, size_data_per_element (the rest is not checked).
_HNSW_HEADER = struct.Struct("<I4Q")


def repair_command(data_dir: Path) -> str:
    return f"seedqa --data-dir {shlex.quote(str(data_dir))} repair"


def damaged(data_dir: Path, what: str, repairable: bool) -> IndexCorruptError:
    """The one-line error for a damaged index, naming the fix."""
    if repairable:
        return IndexCorruptError(
            f"The index at {data_dir} is damaged: {what}. Rebuild it from its stored chunks "
            f"with: {repair_command(data_dir)} (or re-ingest your files: seedqa ingest PATH).",
            repairable=True,
        )
    return IndexCorruptError(
        f"The index at {data_dir} is damaged: {what}; its documents cannot be read back from it. "
        f"Set it aside with: {repair_command(data_dir)}, then re-ingest your files: "
        "seedqa ingest PATH.",
    )


def segment_folders(data_dir: Path) -> list[Path]:
    """Chroma's vector folders in `data_dir` (named by a segment id, holding HNSW files)."""
    try:
        entries = list(Path(data_dir).iterdir())
    except OSError:
        return []
    return sorted(entry for entry in entries if entry.is_dir() and len(entry.name) == 36
                  and entry.name.count("-") == 4
                  and any((entry / name).exists() for name in _SEGMENT_FILES))


def database_problem(path: Path) -> str | None:
    """What is wrong with the SQLite file at `path` (which exists), or None if it reads as sound."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(len(_HEADER))
    except OSError:
        return None  # unreadable for want of permission: Chroma's error says so (_storage)
    if size == 0:
        return f"{path.name} is empty (0 bytes)"
    if head != _HEADER:
        return f"{path.name} is not an SQLite database (its header is overwritten)"
    try:
        # mode=ro: a check must not create a journal, nor write anything.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            rows = connection.execute("PRAGMA quick_check(3)").fetchall()
            tables = {name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        text = str(error).lower()
        # Another process in the middle of a write (or a journal left by a crash, which
        # only a writable connection rolls back) is not damage: let Chroma go on.
        if any(word in text for word in ("locked", "busy", "readonly", "read-only")):
            return None
        return f"{path.name} cannot be read by SQLite ({error})"
    if rows != [("ok",)]:
        detail = " ".join("; ".join(str(row[0]) for row in rows).split())[:100]
        return f"{path.name} fails SQLite's integrity check ({detail})"
    if not {"collections", "segments", "embeddings"} <= tables:
        return f"{path.name} is an SQLite database but not a Chroma store"
    return None


def file_problem(data_dir: Path) -> str | None:
    """What is wrong with the store's files in `data_dir`, or None (sound, or no store at all)."""
    data_dir = Path(data_dir)
    database = data_dir / DATABASE
    if not database.exists():
        folders = segment_folders(data_dir)
        if folders:
            return f"{DATABASE} is missing while {len(folders)} vector folder(s) of an index remain"
        return None
    return database_problem(database)


def vector_file_problem(data_dir: Path) -> str | None:
    """What is wrong with an HNSW folder's files, or None. Checked before Chroma loads them:
    hnswlib reads a data_level0.bin cut short past its end (a segmentation fault)."""
    for folder in segment_folders(data_dir):
        try:
            header = (folder / "header.bin").read_bytes()
            level0 = (folder / "data_level0.bin").stat().st_size
            lengths = (folder / "length.bin").stat().st_size
        except OSError as error:
            return f"the vector folder {folder.name} lacks a file ({error.strerror})"
        if len(header) < _HNSW_HEADER.size:
            return f"the vector folder {folder.name} has a header.bin cut short"
        version, _, capacity, count, per_element, *_ = _HNSW_HEADER.unpack_from(header)
        if version != 1:
            continue  # a layout this check does not know: Chroma's to judge
        if count > capacity or level0 < count * per_element or lengths < count * 4:
            return (f"the vector folder {folder.name} is cut short ({level0:,} bytes of "
                    f"data_level0.bin for {count:,} vectors of {per_element:,} bytes)")
    return None


def check_files(data_dir: Path) -> bool:
    """True when `data_dir` holds a sound Chroma store, False when it holds none at all.

    Raises IndexCorruptError for one that is damaged or half there, so that
    nobody (a read, or a write that would create a store) goes on over it.
    """
    problem = file_problem(data_dir)
    if problem:
        raise damaged(Path(data_dir), problem, repairable=False)
    for _ in range(3):  # a writer in another process may be rewriting the files right now
        problem = vector_file_problem(data_dir)
        if not problem:
            break
        time.sleep(0.1)
    else:
        raise damaged(Path(data_dir), problem, repairable=True)
    return (Path(data_dir) / DATABASE).exists()


def check_vectors(chunks, data_dir: Path, attempts: int = 2) -> None:
    """Read back the vectors of a sample of chunks (the oldest, and three further on): raise
    IndexCorruptError when the vector segment has lost them.

    Asking for the vectors by id, not for k neighbours: HNSW may not reach every one of
    many identical vectors (a document of repeated text), so a k-nearest count would
    cry wolf. After its folder is deleted, Chroma rebuilds the segment from the write
    log's tail only, so the oldest chunks are the ones that go missing.
    """
    total = chunks.count()
    if total == 0:
        return
    for offset in sorted({0, total // 4, total // 2, 3 * total // 4}):
        for attempt in range(attempts):
            try:
                found = chunks.get(limit=SAMPLE, offset=offset, include=["embeddings"])
            except BaseException as error:
                # Anything but a missing vector (a full disk, say) is failures.py's to name.
                if not _chroma_failure(error) or "finding id" not in str(error).lower():
                    raise
                if attempt + 1 < attempts:  # a writer deleting the page under us: read again
                    time.sleep(0.05)
                    continue
                detail = " ".join(str(error).split())[:120] or type(error).__name__
                raise damaged(data_dir, f"the vectors of some of its {total} chunks are gone "
                                        f"({detail}: an HNSW folder is missing or cut short)",
                              repairable=True) from error
            vectors = found.get("embeddings")
            if vectors is None or len(vectors) != len(found["ids"]):
                raise damaged(data_dir, f"the vectors of some of its {total} chunks are gone "
                                        "(an HNSW folder is missing or cut short)", repairable=True)
            break


def collection_names(data_dir: Path) -> set[str] | None:
    """The names of the collections in the store's SQLite file, read without Chroma (which
    writes to the file as it starts); None when they cannot be read that way."""
    database = Path(data_dir) / DATABASE
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            return {name for (name,) in connection.execute("SELECT name FROM collections")}
        finally:
            connection.close()
    except sqlite3.Error:
        return None


def check_names(prefix: str, names: set[str], location: str) -> None:
    """Raise the reader's error when the store lacks seedqa's two collections for `prefix`."""
    chunks, documents = f"{prefix}_chunks" in names, f"{prefix}_documents" in names
    if chunks and documents:
        return
    if prefix in names and not chunks and not documents:
        raise ForeignCollectionError(prefix)
    if chunks or documents:
        missing = f"{prefix}_documents" if chunks else f"{prefix}_chunks"
        raise damaged(Path(location), f"its collection {missing} is missing", repairable=False)
    raise IndexNotReadyError(location)


def _chroma_failure(error: BaseException) -> bool:
    """An error from inside Chroma, including the Rust side's PanicException (a BaseException);
    never an interrupt or an exit."""
    if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return False
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


_CORRUPTION = ("malformed", "not a database", "error finding id", "hnsw", "no such table",
               "database corrupt", "panic", "index_metadata")


def corruption(error: BaseException, data_dir: Path | None) -> IndexCorruptError | None:
    """The IndexCorruptError a Chroma failure stands for, or None when it is something else."""
    if not _chroma_failure(error) or isinstance(error, (OSError, IndexCorruptError)):
        return None
    text = f"{type(error).__name__} {error}".lower()
    if not any(word in text for word in _CORRUPTION):
        return None
    where = data_dir if data_dir is not None else "the Chroma server"
    detail = " ".join(str(error).split())[:160] or type(error).__name__
    return damaged(Path(str(where)), f"Chroma cannot read it ({detail})",
                   repairable=data_dir is not None and data_dir.joinpath(DATABASE).exists()
                   and database_problem(data_dir / DATABASE) is None)


@dataclass(frozen=True)
class Identity:
    """Which folder and database file a path names now: (device, inode) of each, or None."""

    folder: tuple[int, int] | None
    database: tuple[int, int] | None

    @classmethod
    def of(cls, data_dir: Path) -> Identity:
        return cls(_inode(Path(data_dir)), _inode(Path(data_dir) / DATABASE))

    def replaced_by(self, now: Identity) -> bool:
        """Is `now` another folder or database than this (or gone), where this had one?"""
        return ((self.folder is not None and now.folder != self.folder)
                or (self.database is not None and now.database != self.database))


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino
