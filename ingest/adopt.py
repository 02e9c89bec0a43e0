"""Adopt a Chroma collection another tool built (LangChain's `Chroma.from_documents`, say).

seedqa needs more than vectors: each chunk's place in its document (to cite
it in place), sentence vectors (for re-scoring and answers) and a record per
document. `adopt` reads the foreign collection without changing it, groups
its chunks into documents by their `source` metadata, rebuilds each
document's text by joining its chunks (dropping the overlap a splitter left
between neighbours) and writes seedqa's own collections beside it, reusing
the collection's vectors as they are. It refuses, in one line, a collection
whose vectors another model made: seedqa would search them with the wrong one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from index import ChunkRecord, DocumentRecord, Index, pack_vectors, write_lock
from ingest.pipeline import ADOPTED
from seedqa.errors import IngestError
from seedqa.text import sentences

_SAME_MODEL = 0.95  # least mean cosine of stored and re-computed vectors on a sample
_SAMPLE = 8


@dataclass(frozen=True)
class _Piece:
    id: str
    text: str
    meta: dict
    vector: np.ndarray
    order: int  # as the collection returned it


def adopt(index: Index, collection: str) -> list[tuple[str, str, int]]:
    """Write seedqa's records for every document in `collection`; (source, status, chunks) each."""
    pieces = [_Piece(i, text, meta, vector, n) for n, (i, text, meta, vector)
              in enumerate(index.foreign_records(collection)) if text.strip()]
    if not pieces:
        raise IngestError(f"The Chroma collection {collection!r} holds no text to adopt.")
    _check_model(index, collection, pieces)
    by_source: dict[str, list[_Piece]] = defaultdict(list)
    for piece in pieces:
        by_source[_source_of(piece.meta, collection)].append(piece)
    settings = index.settings
    with write_lock(settings.data_dir, settings.lock_timeout):
        index.open_for_writing()  # seedqa's own collections, beside the adopted one
        return [_adopt_document(index, f"{ADOPTED}{collection}/{source}", group)
                for source, group in sorted(by_source.items())]


def _source_of(meta: dict, collection: str) -> str:
    for key in ("source", "file_path", "filename", "url"):
        if isinstance(meta.get(key), str) and meta[key].strip():
            return meta[key].strip()
    return collection


def _check_model(index: Index, collection: str, pieces: list[_Piece]) -> None:
    dimension = len(pieces[0].vector)
    sample = pieces[:: max(1, len(pieces) // _SAMPLE)][:_SAMPLE]
    ours = index.embed([piece.text for piece in sample])
    if ours.shape[1] != dimension:
        raise IngestError(
            f"The vectors in {collection!r} have {dimension} dimensions; seedqa's model "
            f"({index.embedder.name}) makes {ours.shape[1]}. Re-ingest the files with "
            "seedqa ingest PATH, or set SEEDQA_EMBEDDING_MODEL to the model that made them.")
    stored = np.stack([p.vector / max(np.linalg.norm(p.vector), 1e-12) for p in sample])
    agreement = float(np.mean(np.sum(stored * ours, axis=1)))
    if agreement < _SAME_MODEL:
        raise IngestError(
            f"The vectors in {collection!r} were made by another model (mean cosine "
            f"{agreement:.2f} with {index.embedder.name}'s on {len(sample)} chunks). Re-ingest "
            "the files with seedqa ingest PATH, or set SEEDQA_EMBEDDING_MODEL to that model.")


def _adopt_document(index: Index, source: str, group: list[_Piece]) -> tuple[str, str, int]:
    group = sorted(group, key=_position)
    text, spans = _joined([piece.text for piece in group])
    meta = group[0].meta
    title = str(meta.get("title") or text.split("\n", 1)[0][:120] or source.rsplit("/", 1)[-1])
    date = meta.get("date") if isinstance(meta.get("date"), str) else None
    version = hashlib.sha256(json.dumps([source, title, date, text]).encode()).hexdigest()[:32]
    previous = index.document(source)
    if previous and previous.version == version:
        return source, "unchanged", previous.chunks
    _, per_text = index.embedder.encode_passages([p.text for p in group],
                                                 [sentences(p.text) for p in group])
    chunks = [
        ChunkRecord(id=hashlib.sha256(f"{source}\0{version}\0{piece.id}".encode()).hexdigest()[:32],
                    text=text[begin:end], source=source, title=title, start=begin, end=end,
                    version=version, date=date, page=_int(piece.meta.get("page")),
                    sentence_vectors=pack_vectors(rows))
        for piece, (begin, end), rows in zip(group, spans, per_text)
    ]
    embeddings = np.stack([piece.vector for piece in group]).astype(np.float32)
    record = DocumentRecord(source, title, version, len(chunks), len(text), date, (), time.time())
    index.write_document(record, text, chunks, embeddings)
    return source, "updated" if previous else "added", len(chunks)


def _position(piece: _Piece) -> tuple:
    meta = piece.meta
    return (_int(meta.get("page")) or 0, _int(meta.get("start_index")) or 0, piece.order)


def _int(value) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _joined(texts: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The chunks as one text, each neighbour's overlap written once; each chunk's span in it."""
    text, spans = "", []
    for piece in texts:
        overlap = _overlap(text, piece)
        if overlap:
            begin = len(text) - overlap
            text += piece[overlap:]
        else:
            text += "\n\n" if text else ""
            begin = len(text)
            text += piece
        spans.append((begin, begin + len(piece)))
    return text, spans


def _overlap(before: str, after: str, least: int = 20) -> int:
    """The longest end of `before` that `after` starts with (at least `least` characters)."""
    if len(after) < least:
        return 0
    window = max(0, len(before) - len(after))
    at = before.find(after[:least], window)
    while at != -1:  # the first match that runs to the end is the longest overlap
        if after.startswith(before[at:]):
            return len(before) - at
        at = before.find(after[:least], at + 1)
    return 0
