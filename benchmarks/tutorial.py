"""The LangChain RAG tutorial's recipe as an assistant `evaluation.evaluate` can ask.

Retrieval is the tutorial's (benchmarks/common.py: 1,000/200 character splits,
HuggingFaceEmbeddings, Chroma.from_documents, similarity_search); the tutorial
hands the top chunks to an LLM, which cannot run here, so its "answer" is the
first `max_words` words of the top chunk, cited, and it never abstains. That
is what a reader of its top hit sees within the same 40 words seedqa gets.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import baseline_embeddings, baseline_splits, baseline_store
from qa.types import Answer, Citation


class TutorialAssistant:
    def __init__(self, files: list[Path], folder: Path, max_words: int = 40) -> None:
        self.store = baseline_store(baseline_splits(files), baseline_embeddings(), folder)
        self.max_words = max_words

    def retrieve(self, question: str, k: int = 5, history=None) -> list[Citation]:
        query = " ".join([*(m["content"] for m in history or [] if m["role"] == "user")][-1:]
                         + [question])
        return [_citation(doc, -distance) for doc, distance in
                self.store.similarity_search_with_score(query, k=k)]

    def answer(self, question: str, history=None) -> Answer:
        top = self.retrieve(question, 1, history)
        words = top[0].text.split() if top else []
        return Answer(question=question, text=" ".join(words[: self.max_words]) + " [1]",
                      citations=tuple(top), confidence=1.0)


def _citation(doc, score: float) -> Citation:
    start = int(doc.metadata.get("start_index", 0))
    return Citation(source=doc.metadata["source"], title=Path(doc.metadata["source"]).stem,
                    text=doc.page_content, start=start, end=start + len(doc.page_content),
                    score=float(score), chunk_id=str(doc.id or ""))
