"""An `Assistant` as a LangChain `Runnable[str | dict, Answer]`: `assistant.as_runnable()`.

    chain = assistant.as_runnable() | (lambda answer: answer.text)
    chain.invoke({"question": "...", "history": [HumanMessage(...), AIMessage(...)]})

Input: a question, or `{"question": str, "history": [...]}` where the history is
Gradio-style dicts (`{"role": "user" | "assistant", "content": str}`), LangChain
messages (`HumanMessage`, `AIMessage`), or `("human" | "ai", text)` pairs.
Output: the `Answer`, citations and all.

Each call is one chain run with child runs, so callbacks, tracers and
`astream_events` see the steps: the follow-up rewrite (an LLM backend only; its
prompt and model runs below it), retrieval as a retriever run (its Documents as
output), and `answer` as a chain run (the LLM's run below it). `stream` and
`astream` yield the answer as it grows, each item the whole answer so far (not a
piece to add); the last one is final. The steps are the Assistant's own
(`Assistant.stream` runs this), so an answer here equals `assistant.answer(...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import AnyMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_callback_manager_for_config,
    patch_config,
    run_in_executor,
)
from pydantic import BaseModel, Field

from qa.about import answer_about_document, asks_about_document
from qa.conversation import search_query, turns
from qa.retrieval import to_document
from qa.types import Answer

if TYPE_CHECKING:
    from langchain_core.callbacks import CallbackManagerForChainRun

    from qa.answerer import AnswerRequest
    from qa.assistant import Assistant
    from qa.retrieval import Corpus

class ChatTurn(BaseModel):
    """One earlier message, Gradio-style."""

    role: Literal["user", "assistant", "system"]
    content: str


class QuestionInput(BaseModel):
    """What the runnable takes (besides a plain question string)."""

    question: str = Field(description="the question about the indexed documents")
    history: list[ChatTurn | AnyMessage] = Field(
        default_factory=list, description="the conversation so far, oldest first")


def history_dicts(history: Sequence[Any] | None) -> list[dict[str, str]]:
    """Any supported history as Gradio-style dicts (qa.conversation reads every kind)."""
    return [{"role": turn.role, "content": turn.content} for turn in turns(history)]


def parse_input(value: Any) -> tuple[str, list[dict[str, str]]]:
    """(question, history) from a string, a dict or a QuestionInput."""
    if isinstance(value, str):
        return value, []
    if isinstance(value, QuestionInput):
        return value.question, history_dicts(value.history)
    if isinstance(value, dict):
        if "question" not in value:
            raise TypeError('the input dict needs a "question" (and may have a "history")')
        return value["question"], history_dicts(value.get("history"))
    raise TypeError(f"the input is a question string or a dict, not {type(value).__name__}")


class AssistantRunnable(Runnable[str | dict, Answer]):
    """`Assistant.as_runnable()`: question in, cited `Answer` out, with child runs."""

    name = "seedqa"

    def __init__(self, assistant: Assistant, backend: str | None = None) -> None:
        self.assistant = assistant
        self.backend = backend

    @property
    def InputType(self) -> Any:  # noqa: N802  (LangChain's name)
        return str | QuestionInput

    @property
    def OutputType(self) -> type[Answer]:  # noqa: N802
        return Answer

    # --- running ---------------------------------------------------------------------

    def invoke(self, input: str | dict, config: RunnableConfig | None = None,
               **kwargs: Any) -> Answer:
        answer = None
        for answer in self.stream(input, config, **kwargs):
            pass
        return answer

    async def ainvoke(self, input: str | dict, config: RunnableConfig | None = None,
                      **kwargs: Any) -> Answer:
        answer = None
        async for answer in self.astream(input, config, **kwargs):
            pass
        return answer

    def stream(self, input: str | dict, config: RunnableConfig | None = None,
               **kwargs: Any) -> Iterator[Answer]:
        config = ensure_config(config)
        question, history = parse_input(input)
        run = get_callback_manager_for_config(config).on_chain_start(
            None, {"question": question, "history": history},
            name=config.get("run_name") or self.get_name(), run_id=config.pop("run_id", None))
        answer = None
        try:
            for answer in _tapped(run, self._answers(question, history, run, config)):
                yield answer
        except BaseException as error:
            run.on_chain_error(error)
            raise
        run.on_chain_end(answer)

    async def astream(self, input: str | dict, config: RunnableConfig | None = None,
                      **kwargs: Any) -> AsyncIterator[Answer]:
        # The steps are blocking (Chroma, NumPy, the model's client): each runs in a worker
        # thread, and every partial answer is passed on as it comes.
        answers = self.stream(input, config, **kwargs)
        done = object()
        while (answer := await run_in_executor(config, next, answers, done)) is not done:
            yield answer

    # --- the steps (Assistant.stream's, each a child run) --------------------------------

    def _answers(self, question: str, history: list[dict], run: CallbackManagerForChainRun,
                 config: RunnableConfig) -> Iterator[Answer]:
        assistant = self.assistant
        question = assistant._check(question)
        corpus = assistant._corpus()  # one snapshot per question: checking it reads the index
        asked = corpus.speller.correct(question)  # typos fixed against the documents' words
        corrected = None if asked == question else asked
        backend = assistant.backend(self.backend)
        kind = asks_about_document(asked, follow_up=bool(history))
        if kind:  # the answer is in what the index knows of the document, not in its text
            request = self._retrieve(asked, history, corpus, run)
            found = answer_about_document(asked, kind, request.passages, assistant.document_text,
                                          corpus.opening)
            if found is not None:
                yield replace(found, question=question, corrected_question=corrected)
                return
        if backend == "extractive":
            request = self._retrieve(asked, history, corpus, run)
            answers = self._answer(request, run, lambda r, c: iter([assistant.answerer.invoke(r)]))
            for answer in answers:
                yield replace(answer, question=question, corrected_question=corrected)
            return
        generative = assistant.generative(backend)
        standalone = (generative.condense(asked, history, patch_config(
            config, callbacks=run.get_child())) if history else asked)
        if standalone is None:  # the model's rewrite was unusable: the core's method
            request = self._retrieve(asked, history, corpus, run)
        else:
            request = self._retrieve(standalone, None, corpus, run)
        rewritten = None if standalone in (None, asked) else standalone
        for answer in self._answer(request, run, generative.stream, config):
            yield replace(answer, question=question, standalone_question=rewritten,
                          corrected_question=corrected)

    def _retrieve(self, question: str, history: list[dict] | None, corpus: Corpus,
                  run: CallbackManagerForChainRun) -> AnswerRequest:
        retriever = self.assistant.retriever
        step = run.get_child().on_retriever_start(None, search_query(question, history),
                                                  name=retriever.get_name())
        try:
            request = self.assistant._request(question, history, corpus)
        except BaseException as error:
            step.on_retriever_error(error)
            raise
        step.on_retriever_end([to_document(passage) for passage in request.passages])
        return request

    @staticmethod
    def _answer(request: AnswerRequest, run: CallbackManagerForChainRun, answers,
                config: RunnableConfig | None = None) -> Iterator[Answer]:
        step = run.get_child().on_chain_start(
            None, {"question": request.question, "passages": len(request.passages)}, name="answer")
        answer = None
        try:
            for answer in _tapped(step, answers(request, patch_config(config,
                                                                     callbacks=step.get_child()))):
                yield answer
        except BaseException as error:
            step.on_chain_error(error)
            raise
        step.on_chain_end(answer)


def _tapped(run, answers: Iterator[Answer]) -> Iterator[Answer]:
    """`answers`, shown to a streaming handler (`astream_events`) as the run's stream events.

    LangChain's own runnables do this in `_transform_stream_with_config`; its handler
    class is private, so without it the answers pass untapped (events then show each
    run's start and end, not its partial answers).
    """
    try:
        from langchain_core.tracers._streaming import _StreamingCallbackHandler
    except ImportError:
        return answers
    for handler in run.handlers:
        if isinstance(handler, _StreamingCallbackHandler):
            return handler.tap_output_iter(run.run_id, answers)
    return answers
