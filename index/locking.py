"""One writer per index at a time: an advisory `fcntl` lock file in the data directory.

Two `seedqa ingest` runs (or a chat upload and an ingest) on the same data
directory would otherwise interleave their writes. The lock serialises them:
the second waits (saying so) and fails with `IndexBusyError` after
`SEEDQA_LOCK_TIMEOUT` seconds. The kernel drops an `flock` when its holder
dies, so a killed ingest never leaves the index locked.

The lock is per machine: with a Chroma server shared by several hosts, each
host's writers serialise among themselves only (see README, "Running a shared
Chroma server").

Why not the `filelock` package (installed, same `flock` underneath): a waiting
writer here says who holds the lock ("another seedqa process (pid N)"), read
from the lock file, and an unwritable data directory becomes an
`IndexWriteError` that names the fix; filelock records no holder and raises
its own errors, so both would be rebuilt around it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from seedqa.errors import IndexBusyError, IndexWriteError

LOCK_NAME = ".seedqa-write.lock"
_POLL_SECONDS = 0.2

# flock conflicts between two open files of one process too, so a thread that
# already holds the lock (an ingest that prunes) must not take it again.
_held = threading.local()


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_NAME


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        return "another seedqa process"
    return f"another seedqa process (pid {pid})" if pid else "another seedqa process"


def _open(path: Path) -> int:
    """Open (creating) the lock file, turning an unwritable folder into a clear error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise IndexWriteError.from_os_error(path.parent, error) from error


@contextmanager
def write_lock(data_dir: Path, timeout: float,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's write lock for the `with` block; wait at most `timeout` seconds for it."""
    path = lock_path(data_dir)
    key = str(path.resolve())
    depth = getattr(_held, "locks", {})
    _held.locks = depth
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    fd = _open(path)
    try:
        _acquire(fd, path, timeout, on_wait)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as error:  # a full disk: the lock is held, the pid note is a nicety
            if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
        depth[key] = 1
        try:
            yield
        finally:
            depth.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def writer_active(data_dir: Path) -> bool:
    """Does another thread or process hold the write lock now? Creates nothing, waits for nothing.

    The open-time vector probe (index/integrity.py) skips while one writes: another
    process's newest vectors can lag its records there for a moment.
    """
    path = lock_path(data_dir)
    if getattr(_held, "locks", {}).get(str(path.resolve())):
        return False  # this thread is the writer
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # no lock file: nobody has ever written here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the shared lock at once
    return False


def _acquire(fd: int, path: Path, timeout: float, on_wait: Callable[[str], None] | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    holder = _holder(path)
    if on_wait:
        on_wait(f"{holder} is writing to the index at {path.parent}; waiting for it to finish "
                f"(up to {timeout:g} s, SEEDQA_LOCK_TIMEOUT)…")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise IndexBusyError(
                    f"{holder} is still writing to the index at {path.parent} after {timeout:g} s; "
                    "wait for it to finish and run this again, or raise SEEDQA_LOCK_TIMEOUT."
                ) from None
            time.sleep(_POLL_SECONDS)
