"""BM25 over the index's live chunks, stored term-major so a query reads only its terms.

Built in memory from what Chroma holds (the single source of truth), so it is
right whether the vectors live on disk here or on a Chroma server that other
front ends write to; the assistant rebuilds it when the index's generation
changes.

The postings are three NumPy arrays (a CSC matrix without scipy.sparse, whose
import took 0.2 s of every cold `seedqa ask`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

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
        row_ids = np.asarray(rows, dtype=np.int64)
        term_ids = np.asarray(cols, dtype=np.int64)
        tf = np.asarray(counts, dtype=np.float32)
        postings = np.bincount(term_ids, minlength=max(1, len(vocabulary)))
        df = postings.astype(np.float32)
        self._idf = np.log1p((self.size - df + 0.5) / (df + 0.5)).astype(np.float32)
        average = float(lengths.mean()) if len(texts) else 1.0
        norm = k1 * (1 - b + b * lengths / max(average, 1e-9))
        weights = tf * (k1 + 1) / (tf + norm[row_ids]) * self._idf[term_ids]
        # Term-major: term t's texts are _rows[_starts[t]:_starts[t + 1]], each once.
        order = np.argsort(term_ids, kind="stable")
        self._rows, self._weights = row_ids[order], weights[order]
        self._starts = np.concatenate([[0], np.cumsum(postings)])

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
                begin, end = self._starts[column], self._starts[column + 1]
                total[self._rows[begin:end]] += weight * self._weights[begin:end]
        return total

    def search_scores(self, scores: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The `n` best rows of scores from `scores()`, best first, zero scores left out."""
        n = min(n, self.size)
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]
