"""How near two words are in meaning, from the packaged MiniLM's word-piece vectors.

The reader's word overlap sees "targeted" and "aim at", "killed" and "death
toll", "apartment blocks" and "residential buildings" as unrelated, and the
sentence vectors from ingest blur one verb into the whole sentence. The
model's input embeddings (one 384-wide vector per word piece, before any
layer) place such words near each other: "death" and "killed" at cosine
0.48, "aim" and "targeted" 0.29, against about 0.1 for unrelated words.
A word's vector is the mean of its word pieces' vectors, less the mean of
the whole vocabulary (which otherwise makes every pair look alike), made
unit length.

The table (30,522 x 384 floats, about 47 MB) is the one the packaged
model's NumPy embedder holds (`index.embedder.numpy_model`), not a second
copy. These vectors are the reader's, not the retrieval model's: the reader
was fitted on them, so they come from the packaged all-MiniLM-L6-v2 whatever
`SEEDQA_EMBEDDING_MODEL` says (with another model set, the packaged one is
loaded for them).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_MAX_WORDS = 200_000


class Lexicon:
    """Unit vectors for words; a word met once is not looked up again."""

    def __init__(self, table: np.ndarray, tokenizer: Tokenizer) -> None:
        self._table = table
        self._centre = table.mean(axis=0)
        self._tokenizer = tokenizer
        self._known: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """One unit row per word (len(words) x 384), in order."""
        known = self._known  # this call's view: a full cache is replaced, never emptied
        new = sorted({w for w in words if w not in known})
        found = dict(zip(new, self._embed(new))) if new else {}
        if found:
            with self._lock:
                # Bounded by the work: a file of made-up words must not grow it forever.
                if len(self._known) + len(found) > _MAX_WORDS:
                    self._known = {}
                self._known.update(found)
        if not words:
            return np.zeros((0, self._table.shape[1]), np.float32)
        return np.stack([found[w] if w in found else known[w] for w in words])

    def _embed(self, words: list[str]) -> np.ndarray:
        # One pass over all the words' pieces: a query meets a few hundred new words.
        pieces = [e.ids for e in self._tokenizer.encode_batch(words, add_special_tokens=False)]
        counts = np.asarray([len(p) for p in pieces])
        out = np.zeros((len(words), self._table.shape[1]), np.float32)
        held = counts > 0
        if held.any():
            flat = np.concatenate([p for p in pieces if p])
            starts = np.concatenate([[0], np.cumsum(counts[held])[:-1]])
            sums = np.add.reduceat(self._table[flat], starts, axis=0)
            out[held] = sums / counts[held, None] - self._centre
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)


@functools.lru_cache(maxsize=1)
def packaged_lexicon() -> Lexicon | None:
    """The packaged model's lexicon, once a process; None where it is not installed.

    Its table and tokenizer are those of the packaged model's NumPy embedder
    (`numpy_model`), which a process answering questions has loaded anyway.
    """
    try:
        from index.embedder import Embedder, numpy_model

        embedder = Embedder()
        model = numpy_model(embedder.model_path, embedder.max_tokens)
        return Lexicon(model.word_embeddings, model.tokenizer)
    except (ImportError, OSError):
        return None
