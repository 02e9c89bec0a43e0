"""Ingest: find files → load → chunk → embed → write to the index.

Idempotent by construction: a document's version is a hash of its text and
of everything that shapes its chunks; an unchanged version is skipped, and
a changed one reuses the stored embeddings of chunks whose text it kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ingest.chunking import CHUNKER_VERSION, Chunker
from ingest.loaders import SUPPORTED, LoadedDocument, load
from seedqa.errors import IngestError, UnsupportedFileError
from index.locking import write_lock
from seedqa.offline import tiktoken_cache
from seedqa.settings import Settings
from index import ChunkRecord, DocumentRecord, Index, pack_vectors
from seedqa.text import sentences

ADOPTED = "chroma:"  # the source of a document adopted from a collection (ingest/adopt.py)

# Part of every document's version: 2 added sentence vectors to chunks, so
# documents ingested before are embedded again on the next ingest.
INDEX_FORMAT = 2

Progress = Callable[[int, int, str], None]  # (done, total, message)
Notice = Callable[[str], None]  # e.g. "another ingest is writing; waiting"

_log = logging.getLogger("seedqa.ingest")


@dataclass(frozen=True)
class FileResult:
    source: str
    status: str  # added | updated | unchanged | skipped | failed | removed
    chunks: int = 0
    message: str = ""


@dataclass(frozen=True)
class IngestReport:
    files: tuple[FileResult, ...] = ()
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0
    location: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def errors(self) -> list[FileResult]:
        return [result for result in self.files if result.status == "failed"]

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.files)

    def raise_for_errors(self) -> IngestReport:
        """Raise `IngestError` naming every file that failed; returns the report when none did."""
        if self.errors:
            raise IngestError("; ".join(result.message or f"{result.source}: failed"
                                        for result in self.errors))
        return self

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(status)} {status}"
            for status in ("added", "updated", "unchanged", "removed", "skipped", "failed")
            if self.count(status)
        )
        return (
            f"{len(self.files)} files ({counts or 'none'}); chunks: {self.chunks_added} added, "
            f"{self.chunks_unchanged} unchanged, {self.chunks_removed} removed; "
            f"{self.seconds:.1f} s; index: {self.location}"
        )


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """Supported files under `paths` (recursively), and results for what was passed over."""
    found, passed = [], []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, names in os.walk(path):  # does not follow links into folders: no loops
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    file = Path(root) / name
                    if name.startswith("."):
                        continue
                    if file.suffix.lower() in SUPPORTED:
                        found.append(file)
                    else:
                        passed.append(FileResult(str(file), "skipped",
                                                 message=f"unsupported file type '{file.suffix}'"))
        elif path.is_file() or path.is_symlink() or path.exists():
            found.append(path)  # `load` says what is wrong with links, pipes and devices
        else:
            passed.append(FileResult(str(path), "failed",
                                     message=f"{path}: no such file or folder"))
    return found, passed


class Ingestor:
    """Writes files into one index. Build it once; call `run` as often as needed."""

    def __init__(self, settings: Settings, index: Index | None = None,
                 on_wait: Notice | None = None) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        self.on_wait = on_wait or _log.warning
        self._chunker: Chunker | None = None

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            tiktoken_cache(self.settings.cache_dir, self.settings.tiktoken_encoding)
            import tiktoken

            encoding = tiktoken.get_encoding(self.settings.tiktoken_encoding)
            embedder = self.index.embedder
            self._chunker = Chunker(
                count_tokens=lambda text: len(encoding.encode_ordinary(text)),
                max_tokens=self.settings.chunk_tokens,
                overlap_tokens=self.settings.chunk_overlap_tokens,
                model_max_tokens=embedder.max_tokens,
                count_model_tokens=embedder.count_tokens,
                token_offsets=lambda text: _token_offsets(encoding, text),
            )
        return self._chunker

    def _version(self, document: LoadedDocument) -> str:
        shape = json.dumps(
            [document.title, document.date, self.settings.tiktoken_encoding,
             self.settings.chunk_tokens, self.settings.chunk_overlap_tokens,
             self.index.embedder.name, CHUNKER_VERSION, INDEX_FORMAT],
        )
        return hashlib.sha256(f"{shape}\0{document.text}".encode()).hexdigest()[:32]

    def run(self, paths: Sequence[Path], prune: bool = False, progress: Progress | None = None,
            on_wait: Notice | None = None) -> IngestReport:
        """Ingest `paths`, holding the data directory's write lock (one writer at a time).

        `on_wait` (default: the one given at construction) hears that another writer holds it.
        """
        with write_lock(self.settings.data_dir, self.settings.lock_timeout, on_wait or self.on_wait):
            self.index.open_for_writing()  # creates an index where none is; refuses a damaged one
            return self._run(paths, prune, progress)

    def remove(self, source: str) -> int:
        """Forget one document, holding the write lock like an ingest; returns its chunk count."""
        with write_lock(self.settings.data_dir, self.settings.lock_timeout, self.on_wait):
            return self.index.remove_document(source)

    def _run(self, paths: Sequence[Path], prune: bool, progress: Progress | None) -> IngestReport:
        began = time.perf_counter()
        files, results = find_files(paths)
        added = unchanged = removed = 0
        for number, path in enumerate(files):
            if progress:
                progress(number, len(files), path.name)
            result, counts = self._ingest_file(path)
            results.append(result)
            added, unchanged, removed = added + counts[0], unchanged + counts[1], removed + counts[2]
        if prune:
            pruned = self.prune()
            results.extend(pruned)
            removed += sum(result.chunks for result in pruned)
        if progress:
            progress(len(files), len(files), "done")
        return IngestReport(tuple(results), added, unchanged, removed,
                            time.perf_counter() - began, self.index.location)

    def _ingest_file(self, path: Path) -> tuple[FileResult, tuple[int, int, int]]:
        source = os.path.realpath(path)  # unlike Path.resolve, no RuntimeError on a link loop
        try:
            document = load(path, int(self.settings.max_file_mb * 1e6))
        except UnsupportedFileError as error:
            return FileResult(source, "skipped", message=str(error)), (0, 0, 0)
        except IngestError as error:
            return FileResult(source, "failed", message=str(error)), (0, 0, 0)
        except OSError as error:  # unreadable, a link loop, gone since it was listed
            reason = error.strerror or str(error)
            return FileResult(source, "failed", message=f"{path.name}: {reason}"), (0, 0, 0)
        document = LoadedDocument(source, document.text, document.title, document.date,
                                  document.page_starts, document.note)
        version = self._version(document)
        previous = self.index.document(source)
        if previous and previous.version == version:
            removed = self.index.remove_stale_chunks(source, version)  # after a crash, if any
            return FileResult(source, "unchanged", previous.chunks), (0, previous.chunks, removed)
        chunks = self._chunks(document, version)
        stored = self.index.embeddings_by_text(source)
        chunks, embeddings, kept = self._embed(chunks, stored)
        record = DocumentRecord(source, document.title, version, len(chunks), len(document.text),
                                document.date, document.page_starts, time.time())
        self.index.write_document(record, document.text, chunks, embeddings)
        texts = {chunk.text for chunk in chunks}
        counts = (len(texts) - kept, kept, len(stored.keys() - texts))
        status = "updated" if previous else "added"
        return FileResult(source, status, len(chunks), document.note or ""), counts

    def _chunks(self, document: LoadedDocument, version: str) -> list[ChunkRecord]:
        chunks = []
        for begin, end in self.chunker.split(document.text):
            chunk_id = hashlib.sha256(f"{document.source}\0{version}\0{begin}\0{end}".encode())
            chunks.append(ChunkRecord(
                id=chunk_id.hexdigest()[:32], text=document.text[begin:end],
                source=document.source, title=document.title, start=begin, end=end,
                version=version, date=document.date, page=_page(document.page_starts, begin),
            ))
        return chunks

    def _embed(self, chunks: list[ChunkRecord], stored: dict[str, tuple[np.ndarray, str]]
               ) -> tuple[list[ChunkRecord], np.ndarray, int]:
        """Chunks with their sentence vectors, their embeddings, and how many texts were reused.

        Stored vectors are reused for chunk texts that did not change (unless
        they lack the sentence vectors this embedder could add).
        """
        embedder = self.index.embedder
        pools = embedder.backend == "numpy"
        reusable = {text: found for text, found in stored.items() if found[1] or not pools}
        missing = list(dict.fromkeys(c.text for c in chunks if c.text not in reusable))
        fresh = {}
        if missing:
            vectors, per_text = embedder.encode_passages(missing, [sentences(t) for t in missing])
            fresh = {text: (vector, pack_vectors(rows))
                     for text, vector, rows in zip(missing, vectors, per_text)}
        found = [reusable.get(c.text) or fresh[c.text] for c in chunks]
        chunks = [replace(c, sentence_vectors=blob) for c, (_, blob) in zip(chunks, found)]
        embeddings = np.asarray([vector for vector, _ in found], dtype=np.float32)
        return chunks, embeddings, len({c.text for c in chunks} - set(missing))

    def prune(self) -> list[FileResult]:
        """Forget documents whose file is gone, and chunks no document claims."""
        results = []
        for record in self.index.documents():
            if record.source.startswith(ADOPTED) or Path(record.source).exists():
                continue  # an adopted document has no file of its own (ingest/adopt.py)
            removed = self.index.remove_document(record.source)
            results.append(FileResult(record.source, "removed", removed, "file no longer exists"))
        self.index.remove_orphans()
        return results


def _page(page_starts: Sequence[int], offset: int) -> int | None:
    if not page_starts:
        return None
    page = 0
    while page + 1 < len(page_starts) and page_starts[page + 1] <= offset:
        page += 1
    return page + 1


def _token_offsets(encoding, text: str) -> list[int]:
    _, offsets = encoding.decode_with_offsets(encoding.encode_ordinary(text))
    return offsets


def ingest_paths(paths: Sequence[Path | str], settings: Settings | None = None, *,
                 index: Index | None = None, prune: bool = False,
                 progress: Progress | None = None, on_wait: Notice | None = None) -> IngestReport:
    """Add files or folders (recursively) to the index; safe to run again on the same paths.

    Files that cannot be read are reported in the result (`report.errors`;
    `report.raise_for_errors()` turns them into an `IngestError`) and leave the
    index as it was. A disk that cannot be written raises `IndexWriteError`;
    another writer holding the index longer than `lock_timeout` raises
    `IndexBusyError`.
    """
    settings = settings or Settings()
    return Ingestor(settings, index, on_wait).run([Path(p) for p in paths], prune, progress)
