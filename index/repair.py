"""`seedqa repair`: rebuild a damaged index from what its SQLite file still holds.

Chroma's SQLite file holds every chunk's text and metadata (sentence vectors
included) and every document record with its full text; the HNSW folders
hold only the chunk vectors. So while the SQLite file reads, a lost or cut
HNSW segment is rebuilt by embedding the stored chunk texts again: the
documents' own files are not needed (uploads, moved or deleted files still
come back). When the SQLite file itself is unreadable nothing can be
rebuilt, the list of documents included: the damaged store is set aside so
that a re-ingest can start afresh.

The new store is written beside the old one, then swapped in by renaming
folders; the damaged one is kept as `<data_dir>.damaged-<time>`. Everything
else in the data folder (the chat's uploads) moves into the new one. It runs
under the index's write lock.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index import integrity
from index.embedder import Embedder
from index.locking import LOCK_NAME, write_lock
from index.records import ChunkRecord, DocumentRecord, pack_vectors
from index.snapshot import SNAPSHOT
from index.store import Index
from seedqa.errors import (
    IndexCorruptError,
    IndexNotReadyError,
    IndexWriteError,
    SeedqaError,
)
from seedqa.settings import Settings
from seedqa.text import sentences

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RepairReport:
    """What `repair` did: what came back, what was lost, where the damaged store went."""

    location: str
    healthy: bool  # nothing was wrong: nothing was changed
    documents: int = 0
    chunks: int = 0
    embedded: int = 0  # chunk texts embedded again (their vectors were lost)
    lost: tuple[str, ...] = ()  # sources of documents whose chunks were not all there
    dropped: int = 0  # chunks of no live document version (an interrupted write's)
    damaged: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        if self.healthy:
            return f"The index at {self.location} is sound; nothing to repair."
        lost = (f"Lost {len(self.lost)} document(s) whose chunks were incomplete; re-ingest them: "
                + " ".join(self.lost) if self.lost else "no document was lost")
        dropped = f" ({self.dropped} chunks of no current version left out)" if self.dropped else ""
        return (f"Repaired the index at {self.location}: {self.documents} documents and "
                f"{self.chunks} chunks recovered ({self.embedded} chunk texts embedded again); "
                f"{lost}{dropped}. The damaged index is kept at {self.damaged} "
                f"({self.seconds:.1f} s).")


def repair(settings: Settings, embedder: Embedder | None = None,
           on_wait: Callable[[str], None] | None = None,
           progress: Progress | None = None) -> RepairReport:
    """Rebuild the local index in `settings.data_dir` if it is damaged; see the module docstring.

    Raises IndexNotReadyError when there is no index, and IndexCorruptError
    (after setting the damaged store aside) when its SQLite file is unreadable.
    """
    if settings.chroma_url:
        raise SeedqaError("seedqa repair rebuilds a local index (SEEDQA_DATA_DIR); an index on a "
                          "Chroma server is the server's to repair, or re-ingest into it.")
    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir():
        raise IndexNotReadyError(str(data_dir))
    with write_lock(data_dir, settings.lock_timeout, on_wait):
        return _repair(settings, data_dir, embedder, progress)


def _repair(settings: Settings, data_dir: Path, embedder: Embedder | None,
            progress: Progress | None) -> RepairReport:
    began = time.perf_counter()
    index = Index(settings, embedder=embedder)
    try:
        index.count()  # opens it with every check
        return RepairReport(str(data_dir), healthy=True)
    except IndexCorruptError as error:
        if not error.repairable:
            raise _unreadable(data_dir) from error
    finally:
        index.close()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # Read from a copy of the SQLite file alone: Chroma never loads the damaged vectors
    # (hnswlib can crash the process on a cut file), and the original stays as it was.
    salvage = data_dir.with_name(f".{data_dir.name}.salvage-{stamp}")
    try:
        salvage.mkdir()
        shutil.copy2(data_dir / integrity.DATABASE, salvage / integrity.DATABASE)
        reader = Index(settings.model_copy(update={"data_dir": salvage}), embedder=index.embedder)
        try:
            records, chunks = reader.stored_records()
        finally:
            reader.close()
    except SeedqaError as error:
        raise _unreadable(data_dir) from error
    except OSError as error:
        raise IndexWriteError.from_os_error(data_dir.parent, error) from error
    finally:
        shutil.rmtree(salvage, ignore_errors=True)
    fresh = data_dir.with_name(f".{data_dir.name}.repairing-{stamp}")
    try:
        rebuilt = Index(settings.model_copy(update={"data_dir": fresh}), embedder=index.embedder)
        counts = _rebuild(rebuilt, records, chunks, progress)
        rebuilt.close()
        damaged = _swap(data_dir, fresh, stamp)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    written, kept, embedded, lost = counts
    return RepairReport(str(data_dir), False, written, kept, embedded,
                        tuple(lost), len(chunks) - kept, str(damaged), time.perf_counter() - began)


def _rebuild(index: Index, records: list[tuple[DocumentRecord, str]], chunks: list[ChunkRecord],
             progress: Progress | None) -> tuple[int, int, int, list[str]]:
    """Write each document whose live chunks are all there: (documents and chunks written,
    chunk texts embedded, sources lost)."""
    live = {record.source: record.version for record, _ in records}
    by_source: dict[str, list[ChunkRecord]] = {}
    for chunk in chunks:
        if live.get(chunk.source) == chunk.version:
            by_source.setdefault(chunk.source, []).append(chunk)
    index.open_for_writing()
    written = kept = embedded = 0
    lost = []
    for number, (record, text) in enumerate(records):
        if progress:
            progress(number, len(records), Path(record.source).name)
        mine = sorted(by_source.get(record.source, []), key=lambda chunk: chunk.start)
        if not mine or len(mine) != record.chunks:
            lost.append(record.source)
            continue
        texts = list(dict.fromkeys(chunk.text for chunk in mine))
        vectors, per_text = index.embedder.encode_passages(texts, [sentences(t) for t in texts])
        fresh = {t: (vector, rows) for t, vector, rows in zip(texts, vectors, per_text)}
        mine = [replace(c, sentence_vectors=c.sentence_vectors or pack_vectors(fresh[c.text][1]))
                for c in mine]
        embeddings = np.asarray([fresh[c.text][0] for c in mine], dtype=np.float32)
        index.write_document(record, text, mine, embeddings)
        written, kept, embedded = written + 1, kept + len(mine), embedded + len(texts)
    if progress:
        progress(len(records), len(records), "done")
    return written, kept, embedded, lost


def _swap(data_dir: Path, fresh: Path, stamp: str) -> Path:
    """Move what is not the store's (uploads) into `fresh`, then rename `fresh` to `data_dir`,
    keeping the old folder beside it; returns where the old one went."""
    fresh.mkdir(parents=True, exist_ok=True)
    chroma = {integrity.DATABASE, f"{integrity.DATABASE}-journal", f"{integrity.DATABASE}-wal",
              f"{integrity.DATABASE}-shm", LOCK_NAME}
    chroma |= {folder.name for folder in integrity.segment_folders(data_dir)}
    aside = data_dir.with_name(f"{data_dir.name}.damaged-{stamp}")
    try:
        for entry in sorted(data_dir.iterdir()):
            if entry.name not in chroma and not entry.name.startswith(SNAPSHOT):
                os.rename(entry, fresh / entry.name)
        os.rename(data_dir, aside)
        os.rename(fresh, data_dir)
    except OSError as error:
        raise IndexWriteError.from_os_error(data_dir.parent, error) from error
    return aside


def _unreadable(data_dir: Path) -> IndexCorruptError:
    """Set the store aside (its SQLite file is unreadable) and say what is lost and what to do."""
    problem = integrity.file_problem(data_dir) or "Chroma cannot read it"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = data_dir.with_name(f".{data_dir.name}.repairing-{stamp}")
    aside = _swap(data_dir, fresh, stamp)
    uploads = f" (the chat's uploads are still in {data_dir}/uploads)" \
        if (data_dir / "uploads").is_dir() else ""
    return IndexCorruptError(
        f"Nothing can be rebuilt from the index at {data_dir}: {problem}, and its chunks and "
        f"list of documents were in that file. The damaged index was moved to {aside}; "
        f"re-ingest your files: seedqa ingest PATH{uploads}."
    )
