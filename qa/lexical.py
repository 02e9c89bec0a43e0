"""BM25 over the index's live chunks, as a sparse matrix so a query is one product.

Built in memory from what Chroma holds (the single source of truth), so it is
right whether the vectors live on disk here or on a Chroma server that other
front ends write to; the assistant rebuilds it when the index's generation
changes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse

from seedqa.text import terms


class LexicalIndex:
    """Okapi BM25 (k1, b) over a list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            bag = Counter(terms(text))
            lengths[row] = sum(bag.values())
            for term, count in bag.items():
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                counts.append(count)
        self.vocabulary = vocabulary
        self.size = len(texts)
        shape = (len(texts), max(1, len(vocabulary)))
        tf = sparse.csr_matrix((np.asarray(counts, np.float32), (rows, cols)), shape=shape)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1]).astype(np.float32)
        self._idf = np.log1p((self.size - df + 0.5) / (df + 0.5)).astype(np.float32)
        average = float(lengths.mean()) if len(texts) else 1.0
        norm = k1 * (1 - b + b * lengths / max(average, 1e-9))
        tf = tf.tocoo()
        weights = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self._idf[tf.col]
        # Stored term-major: a query reads only the columns of its own terms.
        self._matrix = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=shape)

    def idf(self, term: str) -> float:
        """How telling a term is; a term no chunk contains gets the highest weight."""
        column = self.vocabulary.get(term)
        if column is None:
            return math.log1p((self.size + 0.5) / 0.5)
        return float(self._idf[column])

    def scores(self, weighted_terms: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every text for a query given as {term: weight}."""
        total = np.zeros(self.size, dtype=np.float32)
        for term, weight in weighted_terms.items():
            column = self.vocabulary.get(term)
            if column is not None:
                total += weight * self._matrix.getcol(column).toarray().ravel()
        return total

    def search_scores(self, scores: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The `n` best rows of scores from `scores()`, best first, zero scores left out."""
        n = min(n, self.size)
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]
