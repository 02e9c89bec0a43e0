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
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ingest.chunking import CHUNKER_VERSION, Chunker
from ingest.loaders import LoadedDocument, load
from ingest.tokens import BoundedEncoding
from ingest.walk import LINK_NOT_FOLLOWED, Walk, walk
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
        links = sum(result.message == LINK_NOT_FOLLOWED for result in self.files)
        passed = f"; {links} links out of the folders not followed (--follow-links)" if links else ""
        notes = "".join(f"; {note}" for note in self.notes)
        return (
            f"{len(self.files)} files ({counts or 'none'}); chunks: {self.chunks_added} added, "
            f"{self.chunks_unchanged} unchanged, {self.chunks_removed} removed; "
            f"{self.seconds:.1f} s; index: {self.location}{passed}{notes}"
        )


def find_files(paths: Iterable[Path], follow_links: bool = False
               ) -> tuple[list[Path], list[FileResult]]:
    """Supported files under `paths` (recursively), and results for what was passed over."""
    found = walk(paths, follow_links)
    return [file.path for file in found.files], [_passed(item) for item in found.passed]


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

            # BPE over one long "word" is superlinear: long runs are cut first (ingest/tokens.py).
            encoding = BoundedEncoding(tiktoken.get_encoding(self.settings.tiktoken_encoding))
            embedder = self.index.embedder
            self._chunker = Chunker(
                count_tokens=encoding.count,
                max_tokens=self.settings.chunk_tokens,
                overlap_tokens=self.settings.chunk_overlap_tokens,
                model_max_tokens=embedder.max_tokens,
                count_model_tokens=embedder.count_tokens,
                token_offsets=encoding.offsets,
            )
        return self._chunker

    def _version(self, document: LoadedDocument) -> str:
        shape = json.dumps(
            [document.title, document.date, self.settings.tiktoken_encoding,
             self.settings.chunk_tokens, self.settings.chunk_overlap_tokens,
             self.index.embedder.name, CHUNKER_VERSION, INDEX_FORMAT],
        )
        return hashlib.sha256(f"{shape}\0{document.text}".encode()).hexdigest()[:32]

    def run(self, paths: Sequence[Path], prune: bool = False,
            progress: Progress | None = None, *, follow_links: bool = False,
            prune_all: bool = False, on_wait: Notice | None = None) -> IngestReport:
        """Ingest `paths`, holding the data directory's write lock (one writer at a time).

        `prune` forgets documents under `paths` that this run did not find (deleted files,
        links removed or no longer followed); `prune_all` forgets every document whose
        file is gone, wherever it was. Links out of a folder are followed only with
        `follow_links`. `on_wait` (default: the one given at construction) hears that
        another writer holds the lock.
        """
        with write_lock(self.settings.data_dir, self.settings.lock_timeout, on_wait or self.on_wait):
            self.index.open_for_writing()  # creates an index where none is; refuses a damaged one
            return self._run(paths, prune, progress, follow_links, prune_all)

    def remove(self, source: str) -> int:
        """Forget one document, holding the write lock like an ingest; returns its chunk count."""
        with write_lock(self.settings.data_dir, self.settings.lock_timeout, self.on_wait):
            return self.index.remove_document(source)

    def _run(self, paths: Sequence[Path], prune: bool, progress: Progress | None,
             follow_links: bool = False, prune_all: bool = False) -> IngestReport:
        began = time.perf_counter()
        found = walk(paths, follow_links)
        results = [_passed(item) for item in found.passed]
        added = unchanged = removed = 0
        total = len(found.files)
        for number, file in enumerate(found.files):
            if progress:
                progress(number, total, file.path.name)

            def within(message: str, number=number, name=file.path.name) -> None:
                progress(number, total, f"{name}: {message}")

            result, counts = self._ingest_file(file.path, file.source, within if progress else None)
            results.append(result)
            added, unchanged, removed = added + counts[0], unchanged + counts[1], removed + counts[2]
        notes = ()
        if prune or prune_all:
            pruned, notes = self._prune_after(found, prune_all)
            results.extend(pruned)
            removed += sum(result.chunks for result in pruned)
        if progress:
            progress(total, total, "done")
        return IngestReport(tuple(results), added, unchanged, removed,
                            time.perf_counter() - began, self.index.location, notes)

    def _prune_after(self, found: Walk, prune_all: bool) -> tuple[list[FileResult], tuple[str, ...]]:
        if prune_all:
            return self.prune(), ()
        # Never prune under a folder that could not be listed (or is gone, say unmounted):
        # its documents may all still be there.
        missing = [source for source, status, message in found.passed
                   if status == "failed" and message.endswith("no such file or folder")]
        roots = [root for root in found.roots if os.path.exists(root) or os.path.islink(root)]
        read = {file.source for file in found.files}  # a link passed over is not kept
        pruned = self.prune(within=roots, keep=read, unsafe=list(found.unlisted))
        notes = tuple(f"{path}: not found, so nothing under it was pruned" for path in missing)
        return pruned, notes

    def _ingest_file(self, path: Path, source: str | None = None,
                     progress: Notice | None = None) -> tuple[FileResult, tuple[int, int, int]]:
        source = source or os.path.realpath(path)  # unlike Path.resolve, no RuntimeError on a loop
        try:
            document = load(path, int(self.settings.max_file_mb * 1e6))
        except UnsupportedFileError as error:
            return FileResult(source, "skipped", message=str(error)), (0, 0, 0)
        except IngestError as error:
            return FileResult(source, "failed", message=str(error)), (0, 0, 0)
        except OSError as error:  # unreadable, a link loop, gone since it was listed
            reason = error.strerror or str(error)
            return FileResult(source, "failed", message=f"{path.name}: {reason}"), (0, 0, 0)
        except (Exception, RecursionError) as error:  # a parser's own bug on a hostile file
            return _unreadable(path, source, error), (0, 0, 0)
        document = LoadedDocument(source, document.text, document.title, document.date,
                                  document.page_starts, document.note)
        version = self._version(document)
        previous = self.index.document(source)
        if previous and previous.version == version:
            removed = self.index.remove_stale_chunks(source, version)  # after a crash, if any
            return FileResult(source, "unchanged", previous.chunks), (0, previous.chunks, removed)
        try:
            check_fragments(path, document.text)
            chunks = self._chunks(document, version)
            check_chunk_count(path, len(chunks))
        except IngestError as error:
            return FileResult(source, "failed", message=str(error)), (0, 0, 0)
        except (Exception, RecursionError) as error:  # one file's bad text never sinks the batch
            return _unreadable(path, source, error), (0, 0, 0)
        stored = self.index.embeddings_by_text(source)
        chunks, embeddings, kept = self._embed(chunks, stored, progress)
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

    def _embed(self, chunks: list[ChunkRecord], stored: dict[str, tuple[np.ndarray, str]],
               progress: Notice | None = None) -> tuple[list[ChunkRecord], np.ndarray, int]:
        """Chunks with their sentence vectors, their embeddings, and how many texts were reused.

        Stored vectors are reused for chunk texts that did not change (unless
        they lack the sentence vectors this embedder could add).
        """
        embedder = self.index.embedder
        pools = embedder.backend == "numpy"
        reusable = {text: found for text, found in stored.items()
                    if found[1] or not pools or len(sentences(text)) > MAX_SENTENCE_VECTORS}
        missing = list(dict.fromkeys(c.text for c in chunks if c.text not in reusable))
        fresh = {}
        # In batches: a big file reports progress, and only one batch's token and
        # sentence vectors are held unpacked at a time.
        budget = [SENTENCE_VECTOR_BUDGET]
        for begin in range(0, len(missing), _EMBED_BATCH):
            if progress and len(missing) > _EMBED_BATCH:
                progress(f"embedding {begin:,} of {len(missing):,} chunks")
            part = missing[begin : begin + _EMBED_BATCH]
            vectors, per_text = embedder.encode_passages(part, [_pooled_spans(t, budget) for t in part])
            fresh.update((text, (vector, pack_vectors(rows)))
                         for text, vector, rows in zip(part, vectors, per_text))
        found = [reusable.get(c.text) or fresh[c.text] for c in chunks]
        chunks = [replace(c, sentence_vectors=blob) for c, (_, blob) in zip(chunks, found)]
        embeddings = np.asarray([vector for vector, _ in found], dtype=np.float32)
        return chunks, embeddings, len({c.text for c in chunks} - set(missing))

    def prune(self, within: Sequence[str] | None = None, keep: set[str] | None = None,
              unsafe: Sequence[str] = ()) -> list[FileResult]:
        """Forget documents whose file is gone, and chunks no document claims.

        With `within` (folders and files, as sources), only documents under them are
        considered, and those not in `keep` (what this run found) go too; nothing
        under an `unsafe` folder (one that could not be listed) is touched.
        """
        results = []
        for record in self.index.documents():
            if record.source.startswith(ADOPTED):
                continue  # an adopted document has no file of its own (ingest/adopt.py)
            if within is not None:
                if not any(_under(record.source, root) for root in within):
                    continue
                if any(_under(record.source, folder) for folder in unsafe):
                    continue
                gone = record.source not in (keep or set()) or not _present(record.source)
            else:
                gone = not _present(record.source)
            if gone:
                removed = self.index.remove_document(record.source)
                why = "file no longer exists" if not _present(record.source) else \
                    "no longer found under the folder (a link removed or not followed?)"
                results.append(FileResult(record.source, "removed", removed, why))
        self.index.remove_orphans()
        return results


_EMBED_BATCH = 512  # chunks embedded per call

# What bounds a document's memory (peak RSS under 1.5 GB for any file under the 50 MB
# limit). Measured end to end (benchmarks/hostile_inputs.py, nested HTML: 62,500 chunks
# 621 MB, 125,000 chunks 935 MB): ~310 MB for the model and Chroma plus ~5 kB a chunk,
# plus the sentence vectors below (at most 340 MB). 150,000 chunks is 50 MB of prose in
# paragraphs of 330 characters on average: ~1.06 GB, 1.4 GB with every sentence vector
# allowed. More chunks come only from text cut into fragments (nested <div>s, one word
# each), which is refused rather than indexed.
MAX_CHUNKS = 150_000
# A chunk with more sentences than this (a list, a table: lines of a few words) gets no
# sentence vectors, only its passage vector, as an index made before them: ranking and
# answers fall back to the passage's cosine. 16 is three times a prose chunk's count.
MAX_SENTENCE_VECTORS = 16
# And at most this many for one document (~570 bytes each packed: 340 MB), so that a
# text of very many short sentences stays bounded too; prose of 50 MB has ~540,000.
SENTENCE_VECTOR_BUDGET = 600_000
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")  # as seedqa.text.paragraphs splits


def _pooled_spans(text: str, budget: list[int]) -> list[tuple[int, int]]:
    """The sentences of `text` to store vectors for: all of them, or none (see above)."""
    spans = sentences(text)
    if len(spans) > MAX_SENTENCE_VECTORS or len(spans) > budget[0]:
        return []
    budget[0] -= len(spans)
    return spans


def check_fragments(path: Path, text: str) -> None:
    """Refuse, before chunking, a text of so many paragraphs that its chunks would be too many
    (every one or two paragraphs make at least one chunk)."""
    paragraphs = 1 + sum(1 for _ in _PARAGRAPH_BREAK.finditer(text))
    if paragraphs > 2 * MAX_CHUNKS:
        raise IngestError(_too_many(path, f"{paragraphs:,} paragraphs"))


def check_chunk_count(path: Path, count: int) -> None:
    if count > MAX_CHUNKS:
        raise IngestError(_too_many(path, f"{count:,} passages"))


def _too_many(path: Path, what: str) -> str:
    return (f"{path.name}: its text falls into {what}, more than the {MAX_CHUNKS:,} passages one "
            "document may have (is it mostly tiny fragments, such as deeply nested tags or "
            "one word a line?); split it into smaller files")


def _passed(item: tuple[str, str, str]) -> FileResult:
    source, status, message = item
    return FileResult(source, status, message=message)


def _under(source: str, root: str) -> bool:
    return source == root or source.startswith(root.rstrip(os.sep) + os.sep)


def _present(source: str) -> bool:
    """The file is there; through a link, both the link and its target are."""
    return os.path.exists(source)


def _unreadable(path: Path, source: str, error: BaseException) -> FileResult:
    _log.debug("could not read %s", path, exc_info=error)
    text = " ".join(str(error).split())[:300]
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return FileResult(source, "failed", message=f"{path.name}: could not read: {detail}")


def _page(page_starts: Sequence[int], offset: int) -> int | None:
    if not page_starts:
        return None
    page = 0
    while page + 1 < len(page_starts) and page_starts[page + 1] <= offset:
        page += 1
    return page + 1


def ingest_paths(paths: Sequence[Path | str], settings: Settings | None = None, *,
                 index: Index | None = None, prune: bool = False,
                 progress: Progress | None = None, on_wait: Notice | None = None,
                 follow_links: bool = False, prune_all: bool = False) -> IngestReport:
    """Add files or folders (recursively) to the index; safe to run again on the same paths.

    Files that cannot be read, for whatever reason (a parser may raise anything on
    a hostile file), are reported in the result (`report.errors`;
    `report.raise_for_errors()` turns them into an `IngestError`), leave the index
    as it was and never stop the rest. A disk that cannot be written raises
    `IndexWriteError`; another writer holding the index longer than `lock_timeout`
    raises `IndexBusyError`. `prune` forgets documents under `paths` that are gone;
    `prune_all` those anywhere. Links out of a folder are read only with `follow_links`.
    """
    settings = settings or Settings()
    return Ingestor(settings, index, on_wait).run([Path(p) for p in paths], prune, progress,
                                                  follow_links=follow_links, prune_all=prune_all)
