"""What the index stores: chunk and document records, and the sentence-vector codec.

Plain values with their Chroma metadata form, so that ingest (which writes
them) and qa (which reads them) share one definition without touching Chroma.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as stored: its text and where it sits in its document."""

    id: str
    text: str
    source: str
    title: str
    start: int
    end: int
    version: str
    date: str | None = None
    page: int | None = None
    # The chunk's sentences embedded in context (`pack_vectors`); "" when the model can't.
    sentence_vectors: str = field(default="", repr=False)

    def metadata(self) -> dict:
        data = {
            "source": self.source,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "version": self.version,
            "date": self.date,
            "page": self.page,
            "sentence_vectors": self.sentence_vectors or None,
        }
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict) -> ChunkRecord:
        return cls(
            id=chunk_id,
            text=text,
            source=meta["source"],
            title=meta.get("title", ""),
            start=int(meta["start"]),
            end=int(meta["end"]),
            version=meta.get("version", ""),
            date=meta.get("date"),
            page=meta.get("page"),
            sentence_vectors=meta.get("sentence_vectors", ""),
        )


def pack_vectors(vectors: np.ndarray) -> str:
    """Unit vectors as text for Chroma metadata: int8 per value, base64 (~520 chars for 384).

    Rounding moves a cosine by less than 0.01 (tests/test_retrieval_quality.py).
    """
    if len(vectors) == 0:
        return ""
    data = np.clip(np.rint(np.asarray(vectors, np.float32) * 127), -127, 127).astype(np.int8)
    return base64.b64encode(np.uint16(data.shape[1]).tobytes() + data.tobytes()).decode("ascii")


def unpack_vectors(text: str) -> np.ndarray:
    """The unit rows `pack_vectors` stored (float32, shape (n, dim)); (0, 0) for ""."""
    if not text:
        return np.zeros((0, 0), dtype=np.float32)
    raw = base64.b64decode(text)
    dim = int(np.frombuffer(raw[:2], dtype=np.uint16)[0])
    rows = np.frombuffer(raw[2:], dtype=np.int8).reshape(-1, dim).astype(np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class DocumentRecord:
    """What the index knows about one document."""

    source: str
    title: str
    version: str
    chunks: int
    chars: int
    date: str | None = None
    page_starts: tuple[int, ...] = ()
    ingested_at: float = 0.0

    def metadata(self) -> dict:
        data = {
            "kind": "document",
            "source": self.source,
            "title": self.title,
            "version": self.version,
            "chunks": self.chunks,
            "chars": self.chars,
            "date": self.date,
            "page_starts": json.dumps(list(self.page_starts)),
            "ingested_at": self.ingested_at,
        }
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_chroma(cls, meta: dict) -> DocumentRecord:
        return cls(
            source=meta["source"],
            title=meta.get("title", ""),
            version=meta["version"],
            chunks=int(meta.get("chunks", 0)),
            chars=int(meta.get("chars", 0)),
            date=meta.get("date"),
            page_starts=tuple(json.loads(meta.get("page_starts", "[]"))),
            ingested_at=float(meta.get("ingested_at", 0.0)),
        )


def document_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:40]
