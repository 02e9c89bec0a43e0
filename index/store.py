"""The one module that owns Chroma: the client, its failures, and `Index`.

Two Chroma collections make up an index:
- `<prefix>_chunks`: one record per chunk, with its embedding, text and metadata;
- `<prefix>_documents`: one record per document (its full text, title, date,
  version), plus a `generation` record that changes on every write, so that
  readers know when derived data (the lexical index) must be rebuilt.

Each chunk carries its document's `version`, and only chunks whose version
matches the document record are live. A writer adds the new chunks, then
switches the document record, then deletes the old chunks: a crash at any
point leaves either the old or the new version answering, never a mix.

Opening checks the store once (index/integrity.py): a damaged one is an
IndexCorruptError naming the fix, and a read never creates a store. A new
process reads the live chunks from a snapshot of them while the store's files
are unchanged (index/snapshot.py), without starting Chroma.
"""

from __future__ import annotations

import functools
import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from index import integrity, snapshot
from index.embedder import Embedder, shared_embedder
from index.failures import storage as _storage
from index.locking import writer_active
from index.records import ChunkRecord, DocumentRecord, document_id
from index.snapshot import LiveSet
from seedqa.errors import IndexNotReadyError, IndexReplacedError, SeedqaError
from seedqa.offline import quiet_environment
from seedqa.settings import Settings

_GENERATION_ID = "__generation__"
_PAGE = 1000  # records fetched per Chroma `get` call


def make_client(settings: Settings):
    """A Chroma client for these settings: a server when `chroma_url` is set, else on disk."""
    quiet_environment()  # before chromadb reads its telemetry switch
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    return chromadb.PersistentClient(path=str(settings.data_dir), settings=chroma_settings)


def _guarded(method):
    """Run an `Index` method inside `Index._storage()` (disk and connection errors made clear)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._storage():
            return method(self, *args, **kwargs)

    return wrapper


class Index:
    """Reads and writes one seedqa index (chunks and documents) in Chroma."""

    def __init__(self, settings: Settings, client=None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._client = client
        self.embedder = embedder or shared_embedder(settings.embedding_model, settings.embed_batch_size)
        self._chunks = self._documents = None
        self._lock = threading.Lock()
        # The folder (and database file) this index opened: a chat that outlives them says so.
        self._folder = None if settings.chroma_url else integrity.Identity.of(settings.data_dir)
        self._identity: integrity.Identity | None = None

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.data_dir)

    def _storage(self):
        return _storage(self.location, None if self.settings.chroma_url else Path(self.settings.data_dir))

    def _collections(self, create: bool = False):
        """The chunks and documents collections, opened (and checked) once.

        Reads never create anything: with no index there yet they raise
        IndexNotReadyError. `create` (the write path, `open_for_writing`) makes them.
        """
        with self._lock, self._storage():
            if self._chunks is None:
                self._open(create)
            else:
                self.check_unchanged()
        return self._chunks, self._documents

    def check_unchanged(self) -> None:
        """Raise IndexReplacedError when the data folder (or its database) is not the one this
        index saw first: removed, or replaced by another, since."""
        if self.settings.chroma_url:
            return
        now = integrity.Identity.of(self.settings.data_dir)
        for seen in (self._folder, self._identity):
            if seen is not None and seen.replaced_by(now):
                raise IndexReplacedError(self.location)

    def open_for_writing(self) -> None:
        """Open the index, creating an empty one if there is none (never over a damaged one)."""
        self._collections(create=True)

    def _open(self, create: bool, vectors: bool = True) -> None:
        local = not self.settings.chroma_url
        data_dir = Path(self.settings.data_dir)
        if local:
            self.check_unchanged()
            if not integrity.check_files(data_dir) and not create:
                raise IndexNotReadyError(self.location)
            names = None if create else integrity.collection_names(data_dir)
            if names is not None:  # decided before Chroma starts (and writes to the file)
                integrity.check_names(self.settings.collection, names, self.location)
        client = self._client or make_client(self.settings)
        try:
            chunks, documents = self._named_collections(client, create)
            if local and vectors and not writer_active(data_dir):
                integrity.check_vectors(chunks, data_dir)
        except BaseException:
            if client is not self._client:
                client.close()  # else Chroma keeps this path's broken system for the next one
            raise
        self._client, self._chunks, self._documents = client, chunks, documents
        if local:
            self._identity = integrity.Identity.of(data_dir)

    def _named_collections(self, client, create: bool):
        from chromadb.errors import NotFoundError

        prefix = self.settings.collection
        if create:
            return (client.get_or_create_collection(
                        f"{prefix}_chunks", embedding_function=None,
                        configuration={"hnsw": {"space": "cosine", "ef_search": 200}}),
                    client.get_or_create_collection(f"{prefix}_documents", embedding_function=None))
        found = {}
        for name in (f"{prefix}_chunks", f"{prefix}_documents", prefix):
            try:
                found[name] = client.get_collection(name, embedding_function=None)
            except NotFoundError:
                pass
        integrity.check_names(prefix, set(found), self.location)
        return found[f"{prefix}_chunks"], found[f"{prefix}_documents"]

    def stored_records(self) -> tuple[list[tuple[DocumentRecord, str]], list[ChunkRecord]]:
        """Every document record with its text, and every chunk (live or not), read without
        the vector check: what `seedqa repair` rebuilds an index from."""
        with self._lock, self._storage():
            if self._chunks is None:
                self._open(create=False, vectors=False)
            found = self._documents.get(where={"kind": "document"},
                                        include=["metadatas", "documents"])
            records = [(DocumentRecord.from_chroma(meta), text)
                       for meta, text in zip(found["metadatas"], found["documents"])]
            return records, [chunk for chunk, _ in self._iter_chunks(self._chunks)]

    def close(self) -> None:
        """Let go of the Chroma client (a later call opens it again)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = self._chunks = self._documents = None

    # --- documents ---------------------------------------------------------

    @_guarded
    def documents(self) -> list[DocumentRecord]:
        _, documents = self._collections()
        found = documents.get(where={"kind": "document"}, include=["metadatas"])
        records = [DocumentRecord.from_chroma(meta) for meta in found["metadatas"]]
        return sorted(records, key=lambda record: (record.title.lower(), record.source))

    @_guarded
    def document(self, source: str) -> DocumentRecord | None:
        _, documents = self._collections()
        found = documents.get(ids=[document_id(source)], include=["metadatas"])
        return DocumentRecord.from_chroma(found["metadatas"][0]) if found["ids"] else None

    @_guarded
    def document_text(self, source: str) -> str | None:
        _, documents = self._collections()
        found = documents.get(ids=[document_id(source)], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    @_guarded
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

    @_guarded
    def embeddings_by_text(self, source: str) -> dict[str, tuple[np.ndarray, str]]:
        """Stored (embedding, packed sentence vectors) of a document's chunks, by chunk text."""
        chunks, _ = self._collections()
        found = chunks.get(where={"source": source},
                           include=["embeddings", "documents", "metadatas"])
        return {text: (vector, (meta or {}).get("sentence_vectors", ""))
                for text, vector, meta in zip(found["documents"], found["embeddings"],
                                              found["metadatas"])}

    def write_document(
        self,
        record: DocumentRecord,
        text: str,
        chunks: Sequence[ChunkRecord],
        embeddings: np.ndarray,
    ) -> int:
        """Store a document's new version; returns how many old chunks were removed.

        Order matters for crash safety: new chunks first (invisible until the
        document record names their version), then the switch, then the
        generation bump that tells other readers, then the old chunks go.
        """
        with self._storage():
            return self._write_document(record, text, chunks, embeddings)

    def _write_document(self, record, text, chunks, embeddings) -> int:
        collection, documents = self._collections(create=True)
        for begin in range(0, len(chunks), _PAGE):
            part = chunks[begin : begin + _PAGE]
            collection.upsert(
                ids=[chunk.id for chunk in part],
                embeddings=embeddings[begin : begin + _PAGE],
                documents=[chunk.text for chunk in part],
                metadatas=[chunk.metadata() for chunk in part],
            )
        documents.upsert(
            ids=[document_id(record.source)],
            embeddings=[[0.0]],
            documents=[text],
            metadatas=[record.metadata()],
        )
        self._bump_generation()
        keep = {chunk.id for chunk in chunks}
        stale = [cid for cid in self._chunk_ids(source=record.source) if cid not in keep]
        self._delete_chunks(stale)
        return len(stale)

    def remove_document(self, source: str) -> int:
        """Forget a document; returns how many chunks were removed."""
        with self._storage():
            _, documents = self._collections()
            stale = self._chunk_ids(source=source)
            documents.delete(ids=[document_id(source)])
            self._bump_generation()
            self._delete_chunks(stale)
            return len(stale)

    def remove_stale_chunks(self, source: str, version: str) -> int:
        """Delete a document's chunks of any version but `version` (left by a write that a
        crash cut short after the switch); returns how many went. One query when none did."""
        collection, _ = self._collections()
        with self._storage():
            stale = collection.get(
                where={"$and": [{"source": source}, {"version": {"$ne": version}}]}, include=[]
            )["ids"]
            self._delete_chunks(stale)
        return len(stale)

    def remove_orphans(self) -> int:
        """Delete chunks that no document version claims (left by an interrupted write)."""
        live = {record.source: record.version for record in self.documents()}
        collection, _ = self._collections()
        with self._storage():
            return self._remove_orphans(collection, live)

    def _remove_orphans(self, collection, live: dict[str, str]) -> int:
        orphans = [chunk.id for chunk, _ in self._iter_chunks(collection)
                   if live.get(chunk.source) != chunk.version]
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

    @_guarded
    def count(self) -> int:
        collection, _ = self._collections()
        return collection.count()

    @_guarded
    def live_chunks(self) -> list[ChunkRecord]:
        """Every chunk of every document's current version."""
        return [chunk for chunk, _ in self._live_pairs(vectors=False)]

    def live(self) -> LiveSet:
        """The live chunks with their vectors, all of one generation.

        From the snapshot while the store's files are as it was written against
        (no Chroma started: index/snapshot.py), else from Chroma, kept as the next one.
        """
        local = not self.settings.chroma_url
        if local:
            self.check_unchanged()
            found = snapshot.load(self.settings.data_dir, self.settings.collection)
            if found is not None:
                return found
        live = self._read_live()
        if local:
            snapshot.save(self.settings.data_dir, self.settings.collection, live, self.generation)
        return live

    @_guarded
    def _read_live(self, attempts: int = 3) -> LiveSet:
        for _ in range(attempts):
            generation = self.generation()
            pairs = self._live_pairs(vectors=True)
            if self.generation() == generation:
                break  # else a write came between: read again
        vectors = np.asarray([vector for _, vector in pairs], dtype=np.float32)
        return LiveSet(generation, tuple(chunk for chunk, _ in pairs),
                       vectors.reshape(len(pairs), -1) if pairs else np.zeros((0, 0), np.float32))

    def _live_pairs(self, vectors: bool, attempts: int = 5) -> list[tuple[ChunkRecord, object]]:
        """(chunk, its embedding or None) of every live chunk, checked against each document
        record's chunk count: a writer that switches a document or deletes chunks while the
        pages are read (shifting them) makes the reading start again, so a reader never
        builds a snapshot with half a document."""
        collection, _ = self._collections()
        for _ in range(attempts):
            records = self.documents()
            live = {record.source: record.version for record in records}
            pairs = [(chunk, vector) for chunk, vector in self._iter_chunks(collection, vectors)
                     if live.get(chunk.source) == chunk.version]
            found = Counter(chunk.source for chunk, _ in pairs)
            if all(found[record.source] == record.chunks for record in records):
                return pairs
        return pairs  # still changing under us: the best reading; the next question rereads

    def _iter_chunks(self, collection, vectors: bool = False
                     ) -> Iterator[tuple[ChunkRecord, object]]:
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        for offset in itertools.count(0, _PAGE):
            found = collection.get(include=include, limit=_PAGE, offset=offset)
            if not found["ids"]:
                return
            embeddings = found["embeddings"] if vectors else itertools.repeat(None)
            for chunk_id, text, meta, vector in zip(found["ids"], found["documents"],
                                                    found["metadatas"], embeddings):
                yield ChunkRecord.from_chroma(chunk_id, text, meta), vector

    def embed(self, texts: Iterable[str]) -> np.ndarray:
        return self.embedder.encode(list(texts))

    def foreign_records(self, name: str) -> Iterator[tuple[str, str, dict, np.ndarray]]:
        """(id, text, metadata, embedding) of each record of the collection `name`, which another
        tool built: opened with `get_collection`, never created or written (`seedqa adopt`)."""
        from chromadb.errors import NotFoundError

        self._client = self._client or make_client(self.settings)
        try:
            collection = self._client.get_collection(name, embedding_function=None)
        except NotFoundError:
            raise SeedqaError(f"No Chroma collection named {name!r} at {self.location}.") from None
        for offset in itertools.count(0, _PAGE):
            found = collection.get(include=["documents", "metadatas", "embeddings"],
                                   limit=_PAGE, offset=offset)
            if not found["ids"]:
                return
            for row in zip(found["ids"], found["documents"], found["metadatas"], found["embeddings"]):
                yield row[0], row[1] or "", row[2] or {}, np.asarray(row[3], dtype=np.float32)
