"""Hybrid retrieval: dense (cosine) and lexical (BM25) scores fused, then re-scored.

Stage one z-scores each retriever's scores (so that a clear winner on either
side stands out, where reciprocal rank flattens every list to the same
curve) and adds them with `dense_weight` and `lexical_weight`. Stage two
re-scores the best `rescore_candidates` with where the question's words sit
in each passage and how close the question comes to its best sentences
(qa/rescoring.py). On SQuAD, z-score fusion lifted recall@1 from 0.748
(reciprocal rank) to 0.833, re-scoring to 0.875 with paragraph chunks, and
the sentence vectors to 0.880 (benchmarks/README.md).

`HybridRetriever` is a LangChain retriever, so it composes with LangChain
chains; `Corpus` is the in-memory view of the index (its live chunks and
their lexical index) that it keeps in step with the store.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from qa import rescoring
from qa.lexical import LexicalIndex
from qa.spelling import Speller
from qa.types import Citation
from seedqa.settings import Settings
from index import ChunkRecord, Index, LiveSet, unpack_vectors
from seedqa.text import terms

@dataclass(frozen=True)
class Corpus:
    """A snapshot of the index's live chunks with their lexical index."""

    generation: str
    chunks: tuple[ChunkRecord, ...]
    lexical: LexicalIndex
    vectors: np.ndarray = field(repr=False, compare=False)  # unit embeddings, a row a chunk
    dictionary: frozenset[str] = field(default=frozenset(), repr=False)  # words known to exist
    # Row -> the chunk's terms for re-scoring, filled as chunks first become candidates.
    passage_terms: dict[int, rescoring.PassageTerms] = field(default_factory=dict, compare=False)
    # Row -> the chunk's sentence vectors, decoded as chunks first become candidates.
    sentence_vectors: dict[int, np.ndarray] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, live: LiveSet, dictionary: frozenset[str] = frozenset()) -> Corpus:
        vectors = np.asarray(live.vectors, dtype=np.float32)
        if len(vectors):
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return cls(live.generation, live.chunks, LexicalIndex([c.text for c in live.chunks]),
                   vectors, dictionary)

    def nearest(self, query_vector: np.ndarray, n: int) -> dict[int, float]:
        """Row -> cosine of the `n` chunks nearest the query, best first (exact: one product)."""
        if not len(self.vectors):
            return {}
        cosines = self.vectors @ np.asarray(query_vector, dtype=np.float32)
        n = min(n, len(cosines))
        top = np.argpartition(-cosines, n - 1)[:n]
        top = top[np.lexsort((top, -cosines[top]))]
        return {int(row): float(cosines[row]) for row in top}

    @functools.cached_property
    def speller(self) -> Speller:
        """Corrects a question's typos against these chunks' words (built on first use)."""
        return Speller((chunk.text for chunk in self.chunks),
                       lambda term: term in self.lexical.vocabulary, self.dictionary)

    @functools.cached_property
    def rows(self) -> dict[str, int]:
        """Chunk id -> row, built once per snapshot rather than once per question."""
        return {chunk.id: row for row, chunk in enumerate(self.chunks)}

    def terms_of(self, row: int) -> rescoring.PassageTerms:
        found = self.passage_terms.get(row)
        if found is None:
            found = self.passage_terms[row] = rescoring.PassageTerms.of(self.chunks[row].text)
        return found

    def opening(self, source: str) -> Citation | None:
        """A document's first passage (for answers about the document itself)."""
        chunks = [chunk for chunk in self.chunks if chunk.source == source]
        if not chunks:
            return None
        return Candidate(min(chunks, key=lambda chunk: chunk.start), 0.0, 0.0, None, None).citation()

    def sentences_of(self, row: int) -> np.ndarray:
        found = self.sentence_vectors.get(row)
        if found is None:
            found = self.sentence_vectors[row] = unpack_vectors(self.chunks[row].sentence_vectors)
        return found


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retrieval over a seedqa index: z-score fusion, then re-scoring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    settings: Settings
    k: int = 5

    _corpus: Corpus | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def corpus(self) -> Corpus:
        """The current snapshot, rebuilt only when another write changed the index.

        The first may be read without starting Chroma (`Index.live`); each later call
        checks the index's generation, one record read.
        """
        generation = self.index.generation() if self._corpus is not None else None
        with self._lock:
            current = self._corpus
            if current is None or (generation is not None and current.generation != generation):
                self._corpus = Corpus.of(self.index.live(), self.index.embedder.whole_words)
            return self._corpus

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        # A per-call `k` (`retriever.invoke(query, k=1)`) overrides the constructor's.
        return [to_document(c) for c in self.rank(query, k or self.k)]

    def rank(self, query: str, k: int, query_vector=None,
             corpus: Corpus | None = None) -> list[Citation]:
        """The `k` best passages for `query` (its embedding and the snapshot may be passed in)."""
        return [candidate.citation() for candidate in self.candidates(query, k, query_vector, corpus)]

    def candidates(self, query: str, k: int, query_vector=None,
                   corpus: Corpus | None = None) -> list[Candidate]:
        """The `k` best chunks for `query` with their scores (and re-scoring's inputs), best first."""
        corpus = corpus if corpus is not None else self.corpus()
        if not corpus.chunks:
            return []
        if query_vector is None:
            query_vector = self.index.embed([query])[0]
        stage = self._first_stage(query, max(self.settings.candidates, k), query_vector, corpus)
        ranked, final = stage.ranked, dict(stage.first)
        head = ranked[: self.settings.rescore_candidates]
        features = dict(self._features(stage, head, query_vector, corpus))
        if head:
            for row, values in features.items():
                final[row] = rescoring.score(values)
            # Re-scored passages stay ahead of the rest, whose first-stage scores are on
            # another scale: shifted to just below the last re-scored one, in their order.
            head.sort(key=lambda row: (-final[row], row))
            tail = ranked[len(head):]
            if tail:
                shift = min(final[row] for row in head) - stage.first[tail[0]] - 1e-3
                for row in tail:
                    final[row] = stage.first[row] + shift
            ranked = head + tail
        return [
            Candidate(corpus.chunks[row], final[row], stage.first[row], stage.dense.get(row),
                      float(stage.lexical[row]) if stage.lexical[row] > 0 else None,
                      features.get(row))
            for row in ranked[:k]
        ]

    def _first_stage(self, query: str, depth: int, query_vector, corpus: Corpus) -> _FirstStage:
        dense = corpus.nearest(query_vector, depth)
        query_terms = terms(query)
        lexical = corpus.lexical.scores(Counter(query_terms))
        lexical_rows = [row for row, _ in corpus.lexical.search_scores(lexical, depth)]

        # z-scores: BM25 against every chunk's score; cosine against the dense list (the
        # `depth` nearest), a chunk missing from it counting as the list's last.
        lexical_z = (lexical - lexical.mean()) / (lexical.std() + 1e-9)
        dense_z = _z_scores(dense)
        floor = min(dense_z.values(), default=0.0)
        candidates = list(dict.fromkeys([*dense, *lexical_rows]))
        first = {row: self.settings.dense_weight * dense_z.get(row, floor)
                 + self.settings.lexical_weight * float(lexical_z[row]) for row in candidates}
        ranked = sorted(candidates, key=lambda row: (-first[row], row))
        return _FirstStage(query_terms, ranked, first, dense, lexical, dense_z, lexical_z, floor)

    @staticmethod
    def _features(stage: _FirstStage, head: list[int], query_vector, corpus: Corpus):
        weights = {term: corpus.lexical.idf(term) for term in stage.query_terms}
        lowest = min(stage.dense.values(), default=0.0)
        for row in head:
            sentence = _best_two(corpus.sentences_of(row), query_vector,
                                 stage.dense.get(row, lowest))
            yield row, rescoring.features(stage.query_terms, weights, corpus.terms_of(row),
                                          stage.dense_z.get(row, stage.floor),
                                          float(stage.lexical_z[row]), sentence)


@dataclass(frozen=True)
class Candidate:
    """A chunk as ranked for one query: its final and first-stage scores and what they came from."""

    chunk: ChunkRecord
    score: float  # final: re-scored, or first-stage shifted below the re-scored ones
    first_score: float  # the fused z-scores alone
    dense: float | None  # cosine, when the chunk was among the nearest
    lexical: float | None  # BM25, when the chunk shares a term with the query
    features: tuple[float, ...] | None = None  # re-scoring's inputs, for the re-scored head

    def citation(self) -> Citation:
        chunk = self.chunk
        # Plain floats, not numpy's: Citations go out as JSON (orjson refuses numpy.float64).
        return Citation(
            source=chunk.source, title=chunk.title, text=chunk.text, start=chunk.start,
            end=chunk.end, score=round(float(self.score), 6), date=chunk.date, page=chunk.page,
            chunk_id=chunk.id, dense_score=None if self.dense is None else float(self.dense),
            lexical_score=None if self.lexical is None else float(self.lexical),
        )


@dataclass(frozen=True)
class _FirstStage:
    """Fused dense + BM25 scores of one query's candidates, best first."""

    query_terms: list[str]
    ranked: list[int]
    first: dict[int, float]
    dense: dict[int, float]  # row -> cosine, for the nearest chunks
    lexical: np.ndarray  # BM25 of every chunk
    dense_z: dict[int, float]
    lexical_z: np.ndarray
    floor: float


def _best_two(vectors: np.ndarray, query_vector, fallback: float) -> tuple[float, float]:
    """The two highest cosines of the question with a chunk's sentences.

    A chunk without sentence vectors (an index from a model that can't pool
    them) uses its own cosine, or the dense list's lowest when it is not on it.
    """
    if len(vectors) == 0:
        return fallback, fallback
    cosines = np.sort(vectors @ np.asarray(query_vector, dtype=np.float32))
    return float(cosines[-1]), float(cosines[-2] if len(cosines) > 1 else cosines[-1])


def _z_scores(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    mean, spread = values.mean(), values.std() + 1e-9
    return {row: (value - mean) / spread for row, value in scores.items()}


def to_document(citation: Citation) -> Document:
    """A citation as a LangChain Document: the passage as content, the rest as metadata."""
    return Document(page_content=citation.text, id=citation.chunk_id,
                    metadata={k: v for k, v in citation.to_dict().items() if k != "text"})

