"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank.

`HybridRetriever` is a LangChain retriever, so it composes with LangChain
chains; `Corpus` is the in-memory view of the index (lexical index plus which
document versions are live) that it keeps in step with the store.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from qa.lexical import LexicalIndex
from qa.types import Citation
from seedqa.settings import Settings
from seedqa.store import ChunkRecord, Index
from seedqa.text import terms, words

# Words that point back at an earlier turn: "How many of them ...", "When did it ...".
_ANAPHORA = frozenset(
    "it its they them their theirs those these that this he him his she her there then"
    " such same other others former latter".split()
)


def is_follow_up(question: str) -> bool:
    """Does the question lean on the conversation so far?"""
    tokens = words(question)
    return bool(_ANAPHORA.intersection(tokens)) or len(terms(question)) <= 1


def previous_questions(history: list[dict] | None) -> list[str]:
    """The user's earlier questions, oldest first, from Gradio-style messages."""
    questions = []
    for message in history or []:
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            questions.append(message["content"])
    return questions


def search_query(question: str, history: list[dict] | None) -> str:
    """What to search for: the question, plus the last one asked when this is a follow-up."""
    earlier = previous_questions(history)
    if earlier and is_follow_up(question):
        return f"{earlier[-1]} {question}"
    return question


@dataclass(frozen=True)
class Corpus:
    """A snapshot of the index's live chunks with their lexical index."""

    generation: str
    chunks: tuple[ChunkRecord, ...]
    lexical: LexicalIndex
    live: dict[str, str]  # source -> live version


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retrieval over a seedqa index, fused with weighted reciprocal rank."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    settings: Settings
    k: int = 5

    _corpus: Corpus | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def corpus(self) -> Corpus:
        """The current snapshot, rebuilt only when another write changed the index."""
        generation = self.index.generation()
        with self._lock:
            if self._corpus is None or self._corpus.generation != generation:
                chunks = tuple(self.index.live_chunks())
                live = {chunk.source: chunk.version for chunk in chunks}
                lexical = LexicalIndex([chunk.text for chunk in chunks])
                self._corpus = Corpus(generation, chunks, lexical, live)
            return self._corpus

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [_to_document(c) for c in self.rank(query, self.k)]

    def rank(self, query: str, k: int, query_vector=None) -> list[Citation]:
        """The `k` best passages for `query` (its embedding may be passed in, if known)."""
        corpus = self.corpus()
        if not corpus.chunks:
            return []
        depth = max(self.settings.candidates, k)
        fused: Counter[int] = Counter()
        dense_scores: dict[int, float] = {}
        lexical_scores: dict[int, float] = {}
        position = {chunk.id: row for row, chunk in enumerate(corpus.chunks)}

        if query_vector is None:
            query_vector = self.index.embed([query])[0]
        for rank, (chunk, similarity) in enumerate(self.index.search(query_vector, depth, corpus.live)):
            row = position.get(chunk.id)
            if row is not None:
                fused[row] += self.settings.dense_weight / (self.settings.rrf_k + rank + 1)
                dense_scores[row] = similarity
        weighted = Counter(terms(query))
        for rank, (row, score) in enumerate(corpus.lexical.search(weighted, depth)):
            fused[row] += self.settings.lexical_weight / (self.settings.rrf_k + rank + 1)
            lexical_scores[row] = score

        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [
            _to_citation(corpus.chunks[row], score, dense_scores.get(row), lexical_scores.get(row))
            for row, score in ranked
        ]


def _to_citation(chunk: ChunkRecord, score: float, dense: float | None,
                 lexical: float | None) -> Citation:
    return Citation(
        source=chunk.source, title=chunk.title, text=chunk.text, start=chunk.start,
        end=chunk.end, score=round(score, 6), date=chunk.date, page=chunk.page,
        chunk_id=chunk.id, dense_score=dense, lexical_score=lexical,
    )


def _to_document(citation: Citation) -> Document:
    return Document(page_content=citation.text, id=citation.chunk_id,
                    metadata={k: v for k, v in citation.to_dict().items() if k != "text"})

