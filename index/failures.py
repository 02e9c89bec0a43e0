"""Chroma's failures made clear: a full or read-only disk, an unreachable server, a damaged store.

Moved out of `index/store.py` (which must stay the one module importing
chromadb, and short): these only read Chroma's messages and the disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from index import integrity
from seedqa.errors import IndexWriteError, SeedqaError

# What SQLite (inside Chroma) says, and the OS error it stands for.
_STORAGE_FAILURES = (
    ("disk is full", "the disk is full", "ENOSPC"),
    ("readonly database", "the folder is read-only", "EROFS"),
    ("read-only file system", "the folder is read-only", "EROFS"),
    ("unable to open database", "the database file cannot be opened", "EACCES"),
    ("permission denied", "permission denied", "EACCES"),
)


_LOW_SPACE = 1024 * 1024  # bytes: below this, a failed write is put down to a full disk


def _disk_problem(folder: Path) -> OSError | None:
    """Is the disk under `folder` read-only, full, or closed to us? Chroma's own messages
    ("Failed to apply logs to the metadata segment") often do not say."""
    import errno
    import os

    folder = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    try:
        disk = os.statvfs(folder)
    except OSError as error:
        return error
    if disk.f_flag & os.ST_RDONLY:
        return OSError(errno.EROFS, "the folder is on a read-only file system")
    if disk.f_bavail * disk.f_frsize < _LOW_SPACE:
        return OSError(errno.ENOSPC, "the disk is full")
    if not os.access(folder, os.W_OK):
        return OSError(errno.EACCES, "permission denied")
    return None


def _storage_error(location: str, error: Exception, folder: Path | None) -> SeedqaError | None:
    """A user-facing error for a Chroma failure caused by the disk, or None for anything else."""
    import errno

    if isinstance(error, OSError) and error.errno is not None:
        return IndexWriteError.from_os_error(location, error)
    text = str(error).lower()
    for needle, reason, code in _STORAGE_FAILURES:
        if needle in text:
            return IndexWriteError.from_os_error(location, OSError(getattr(errno, code), reason))
    problem = _disk_problem(folder) if folder is not None else None
    if problem is not None:
        return IndexWriteError.from_os_error(location, problem)
    if "failed to apply logs" in text or "backfill" in text:  # another process writing, often
        return SeedqaError(
            f"Chroma could not bring its view of the index at {location} up to date (another "
            f"process may be writing to it): {' '.join(str(error).split())[:160]}. Try again "
            f"in a moment; if it persists, run: "
            f"{integrity.repair_command(folder) if folder is not None else 'seedqa ingest PATH'}."
        )
    if "could not connect" in text or "connection refused" in text or "connecterror" in text:
        return SeedqaError(
            f"Cannot reach the Chroma server at {location}: {error}. Start it "
            "(chroma run --path DIR --port PORT) or fix SEEDQA_CHROMA_URL."
        )
    return None


@contextlib.contextmanager
def storage(location: str, folder: Path | None = None) -> Iterator[None]:
    """Turn disk and connection failures inside Chroma into errors that say how to fix them.

    `folder` is the local store's directory (None for a server), checked when
    Chroma's message does not name the cause.
    """
    try:
        yield
    except SeedqaError:
        raise
    except BaseException as error:  # chromadb's classes, OSError, httpx's, Rust's PanicException
        mapped = (_storage_error(location, error, folder) if isinstance(error, Exception) else None
                  ) or integrity.corruption(error, folder)
        if mapped is None:
            raise
        raise mapped from error
