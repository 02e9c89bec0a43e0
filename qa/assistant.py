"""`Assistant`: the chain from question to cited answer over one index.

retrieve (HybridRetriever) → answer (ExtractiveAnswerer, a Runnable; or, with an
LLM backend chosen, qa.generative.GenerativeAnswerer). Also the one door through
which the UI lists, adds and removes documents, so that the UI never touches the store.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.answerer import AnswerRequest, ExtractiveAnswerer
from qa.conversation import earlier_questions, search_query
from qa.retrieval import Corpus, HybridRetriever
from qa.types import Answer, Citation
from seedqa.errors import (DocumentNotFoundError, IndexNotReadyError, InvalidQuestionError,
                           LLMSetupError)
from seedqa.settings import Settings
from index import DocumentRecord, Index
from seedqa.terminal import safe
from seedqa.text import terms, words

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

CUSTOM_LLM = "llm"  # the backend name of a chat model passed as Assistant(llm=...)


# Lone surrogates: what Python makes of bytes that are not UTF-8 (a Latin-1 terminal, a
# bad client); no library downstream can encode them, so they stop here.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Assistant:
    """Answers questions from one index. Loads nothing until the first question.

    Safe to share between threads (the chat UI serves many sessions with one).
    """

    def __init__(self, settings: Settings | None = None, *, index: Index | None = None,
                 llm: BaseChatModel | None = None) -> None:
        """`llm`: your own LangChain chat model, used to write the answers (and to rewrite
        follow-up questions), grounding-checked like the built-in backends; the default
        backend then becomes `CUSTOM_LLM` ("llm")."""
        self.settings = settings or Settings()
        self.llm = llm
        self.index = index or Index(self.settings)
        self.retriever = HybridRetriever(index=self.index, settings=self.settings,
                                         k=self.settings.top_k)
        self.answerer = ExtractiveAnswerer(self.settings.max_answer_words,
                                           self.settings.abstain_threshold)
        self._write_lock = threading.Lock()
        self._ingest = None
        self._generative: dict[str, object] = {}  # backend -> GenerativeAnswerer, built on first use
        self._llm_lock = threading.Lock()

    # --- questions ------------------------------------------------------------

    def retrieve(self, question: str, k: int | None = None,
                 history: list[dict] | None = None) -> list[Citation]:
        """The passages most likely to hold the answer, best first."""
        question = self._check(question)
        corpus = self._corpus()
        query = search_query(corpus.speller.correct(question), history)
        return self.retriever.rank(query, k or self.settings.top_k, corpus=corpus)

    def answer(self, question: str, history: list[dict] | None = None, *,
               backend: str | None = None) -> Answer:
        """A short answer with `[n]` markers citing the passages it comes from.

        `backend` overrides `settings.llm_backend` for this question ("extractive",
        "openai", "ollama", "llamacpp", or "llm" for the model passed as `llm=`).
        """
        answer = None
        for answer in self.stream(question, history, backend=backend):
            pass
        return answer

    def stream(self, question: str, history: list[dict] | None = None, *,
               backend: str | None = None) -> Iterator[Answer]:
        """Partial answers as they form; the last one is complete, with its citations.

        The extractive answerer produces its answer at once, so it yields once;
        an LLM backend yields as tokens arrive.
        """
        yield from self.as_runnable(backend).stream({"question": question, "history": history})

    def generative(self, backend: str | None = None):
        """The LLM answerer for `backend` (default: the configured one), built once."""
        from qa.generative import GenerativeAnswerer  # LLM packages load only when asked for
        from qa.llm import chat_model, describe, describe_model

        backend = self.backend(backend)
        with self._llm_lock:
            if backend not in self._generative:
                if backend == CUSTOM_LLM:
                    if self.llm is None:
                        raise LLMSetupError("The llm backend answers with the chat model passed "
                                            "as Assistant(llm=...); none was passed.")
                    model, label, settings = self.llm, describe_model(self.llm), self.settings
                else:
                    settings = self.settings.model_copy(update={"llm_backend": backend})
                    model, label = chat_model(settings), describe(settings)
                self._generative[backend] = GenerativeAnswerer(
                    model, self.answerer, threshold=settings.llm_grounding_threshold,
                    label=label, max_words=settings.max_answer_words,
                )
            return self._generative[backend]

    def backend(self, backend: str | None = None) -> str:
        """Who writes the answers: `backend`, else the `llm=` model, else the settings' choice."""
        return backend or (CUSTOM_LLM if self.llm is not None else self.settings.llm_backend)

    def as_runnable(self, backend: str | None = None):
        """This assistant as a LangChain `Runnable[str | dict, Answer]` (qa/runnable.py)."""
        from qa.runnable import AssistantRunnable

        return AssistantRunnable(self, backend)

    def _request(self, question: str, history: list[dict] | None,
                 corpus: Corpus | None = None) -> AnswerRequest:
        """Retrieve for `question` (with the history's last question when it leans on it)."""
        corpus = corpus if corpus is not None else self._corpus()
        query = search_query(question, history)
        query_vector = self.index.embed([query])[0]
        passages = self.retriever.rank(query, self.settings.top_k, query_vector, corpus)
        earlier = earlier_questions(question, history)
        rows = [corpus.rows[passage.chunk_id] for passage in passages]
        said = {term for text in (question, *earlier) for term in terms(text)}
        said.update(term for row in rows for term in corpus.terms_of(row).terms)
        query = np.asarray(query_vector, dtype=np.float32)
        cosines = tuple(tuple((vectors @ query).tolist()) if len(vectors) else None
                        for vectors in map(corpus.sentences_of, rows))
        request = AnswerRequest.model_construct(  # built from checked parts: no validation
            question=question, passages=tuple(passages), earlier=earlier,
            term_weights={term: corpus.lexical.idf(term) for term in said},
            unknown_weight=corpus.lexical.idf(""), sentence_cosines=cosines)
        return request.attach(corpus.lexical.idf, self.index.embed)

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestionError("The question is empty; type a question about your documents.")
        # Control characters and terminal escapes ("\x1b[31m") are not part of a question.
        question = " ".join(safe(question).split())
        if _SURROGATE.search(question):
            raise InvalidQuestionError(
                "The question holds bytes that are not text (it is not valid UTF-8); "
                "type it again or fix your terminal's encoding.")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestionError(
                f"The question is {len(question):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,} (SEEDQA_MAX_QUESTION_CHARS)."
            )
        if not words(question):
            raise InvalidQuestionError("The question has no words in it; ask in words.")
        return question

    def _corpus(self) -> Corpus:
        """The index's current snapshot; IndexNotReadyError when it holds nothing yet."""
        corpus = self.retriever.corpus()
        if not corpus.chunks:
            raise IndexNotReadyError(self.index.location)
        return corpus

    # --- documents --------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        return self.index.documents()

    def document_text(self, source: str) -> str:
        text = self.index.document_text(source)
        if text is None:
            raise DocumentNotFoundError(f"No indexed document has the source {source!r}.")
        return text

    def add_documents(self, paths: Sequence[Path], progress=None, prune: bool = False,
                      on_wait=None, *, follow_links: bool = False, prune_all: bool = False):
        """Ingest files or folders into this assistant's index; returns an IngestReport.

        `progress(done, total, name)` follows the files; `on_wait(message)` hears that
        another process is writing to the index (the ingest waits for it). `prune` forgets
        documents under `paths` that are gone, `prune_all` those gone anywhere; links out
        of a folder are followed only with `follow_links`.
        """
        with self._write_lock:
            return self._ingestor().run([Path(p) for p in paths], prune, progress,
                                        follow_links=follow_links, prune_all=prune_all,
                                        on_wait=on_wait)

    def adopt_collection(self, name: str) -> list[tuple[str, str, int]]:
        """Answer over the Chroma collection `name` that another tool built, left unchanged.

        Writes this assistant's own collections beside it (see ingest/adopt.py);
        returns (source, status, chunks) per document found in it.
        """
        from ingest.adopt import adopt

        with self._write_lock:
            return adopt(self.index, name)

    def remove_document(self, source: str) -> int:
        """Forget one document and its chunks; returns how many chunks went."""
        with self._write_lock:
            if self.index.document(source) is None:
                raise DocumentNotFoundError(f"No indexed document has the source {source!r}.")
            return self._ingestor().remove(source)

    def check_index(self) -> None:
        """Raise IndexReplacedError if the index's folder was removed or replaced since it was
        opened (two stat calls): the chat checks before it stages an upload."""
        self.index.check_unchanged()

    def repair(self, progress=None, on_wait=None):
        """Rebuild a damaged index from the chunks and documents it still holds (`seedqa
        repair`); returns a RepairReport. This assistant then answers from the rebuilt one."""
        from index.repair import repair

        with self._write_lock:
            self.index.close()  # Chroma keeps one open store per path: not across the swap
            try:
                return repair(self.settings, self.index.embedder, on_wait, progress)
            finally:  # the folder may have been swapped, even when nothing could be rebuilt
                self.index = Index(self.settings, embedder=self.index.embedder)
                self.retriever = HybridRetriever(index=self.index, settings=self.settings,
                                                 k=self.settings.top_k)
                self._ingest = None

    def _ingestor(self):
        if self._ingest is None:
            from ingest import Ingestor  # qa reads; only this door writes

            self._ingest = Ingestor(self.settings, self.index)
        return self._ingest
