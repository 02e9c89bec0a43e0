"""The index: what is stored (records), the embedding model, and the Chroma store.

`ingest` writes through `Index`, `qa` reads through it; nothing else touches
Chroma (only `index/store.py` imports chromadb) or loads the model.
"""

from index.embedder import Embedder, shared_embedder
from index.locking import write_lock
from index.records import ChunkRecord, DocumentRecord, pack_vectors, unpack_vectors
from index.snapshot import LiveSet
from index.store import Index

__all__ = [
    "ChunkRecord",
    "DocumentRecord",
    "Embedder",
    "Index",
    "LiveSet",
    "pack_vectors",
    "shared_embedder",
    "unpack_vectors",
    "write_lock",
]
