"""LLM-written answers that keep seedqa's promise: every claim cites a passage that supports it.

The chain, for one `AnswerRequest` (the same request the extractive answerer takes):

1. relevance gate: the extractive answerer's own decision. If it would abstain,
   so do we, and the LLM is never called.
2. prompt (qa/prompts/llm.yaml) with the passages numbered and delimited as data
   → chat model, streamed: partial answers are yielded as tokens arrive.
3. parse the `[n]` markers into the same `Answer` / `Citation` values, numbered
   in order of first citation, and check every sentence against the passages it
   cites (qa.grounding). Unsupported sentences are listed in `Answer.unsupported`;
   if no sentence is supported, the extractive answer is returned instead.

Follow-up questions are first rewritten into standalone questions by the same
model (`condense`), so retrieval sees what "them" refers to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig

from qa import prompts
from qa.answerer import AnswerRequest, ExtractiveAnswerer
from qa.conversation import history_terms, transcript
from qa.grounding import Claim, GroundingCheck, split_claims
from seedqa.errors import LLMRequestError
from qa.types import MARKER, Answer, Citation, Generation
from seedqa.text import fold, terms

_TAG = re.compile(r"<\s*(/?)\s*passage", re.IGNORECASE)
_OPEN_MARKER = re.compile(r"\[[\d,\s]*$")


def passage_block(n: int, citation: Citation) -> str:
    """One passage, delimited. A forged `</passage>` inside the text is defused."""
    texts = prompts.llm_texts()

    def inert(value: str) -> str:
        return _TAG.sub(lambda m: f"‹{m.group(1)}passage", value)

    date = f' date="{inert(citation.date)}"' if citation.date else ""
    title = inert(citation.title or citation.source).replace('"', "'")
    return texts["passage"].strip().format(n=n, title=title, date=date, text=inert(citation.text))


def answer_prompt(max_words: int) -> ChatPromptTemplate:
    texts = prompts.llm_texts()
    return ChatPromptTemplate.from_messages(
        [("system", texts["system"]), ("human", texts["user"])]
    ).partial(not_in_documents=texts["not_in_documents"], max_words=str(max_words))


def condense_prompt() -> ChatPromptTemplate:
    texts = prompts.llm_texts()
    return ChatPromptTemplate.from_messages(
        [("system", texts["condense_system"]), ("human", texts["condense_user"])]
    )


def renumbered(text: str, count: int) -> tuple[str, list[int]]:
    """`text` with its markers numbered by first citation ([3] ... [1] → [1] ... [2]).

    Returns the text and the original (1-based) passage numbers in their new order.
    Markers for passages that do not exist are dropped.
    """
    order: list[int] = []

    def replace_marker(match: re.Match) -> str:
        new = []
        for number in (int(n) for n in match.group(1).split(",")):
            if not 1 <= number <= count:
                continue
            if number not in order:
                order.append(number)
            new.append(f"[{order.index(number) + 1}]")
        return "".join(dict.fromkeys(new))

    result = MARKER.sub(replace_marker, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", result)).strip(), order


def says_not_in_documents(text: str) -> bool:
    phrase = fold(prompts.llm_texts()["not_in_documents"]).strip(" .")
    return fold(text).strip(" \"'“”.").startswith(phrase)


class GenerativeAnswerer(Runnable[AnswerRequest, Answer]):
    """Answers with a chat model over the retrieved passages, grounding-checked."""

    def __init__(self, model: BaseChatModel, extractive: ExtractiveAnswerer, *,
                 threshold: float, label: str, max_words: int = 40) -> None:
        self.model = model
        self.extractive = extractive
        self.threshold = threshold
        self.label = label
        self.chain = answer_prompt(max_words) | model
        self.condenser = condense_prompt() | model | StrOutputParser()

    # --- follow-ups ---------------------------------------------------------------

    def condense(self, question: str, history: Sequence,
                 config: RunnableConfig | None = None) -> str | None:
        """`question` rewritten to stand on its own, or None when the model's rewrite is unusable.

        `config` carries callbacks, so that the rewrite shows as a child run (qa/runnable.py).
        """
        lines = transcript(history)
        if not lines:
            return question
        try:
            rewrite = self.condenser.invoke({"history": lines, "question": question}, config)
        except Exception as error:  # noqa: BLE001  (re-raised as an error a user can act on)
            raise self._request_error(error) from error
        return usable_rewrite(rewrite, question, history)

    # --- answers --------------------------------------------------------------------

    def invoke(self, input: AnswerRequest, config: RunnableConfig | None = None,
               **kwargs) -> Answer:
        answer = None
        for answer in self.stream(input, config):
            pass
        return answer

    def stream(self, input: AnswerRequest, config: RunnableConfig | None = None,
               **kwargs) -> Iterator[Answer]:
        """Partial answers as tokens arrive (text only), then the checked answer."""
        request = input
        fallback = self.extractive.invoke(request)
        if fallback.abstained:  # nothing relevant: the LLM is not asked
            yield replace(fallback, generation=Generation(self.label))
            return
        passages = request.passages
        inputs = {"question": request.question,
                  "passages": "\n\n".join(passage_block(n, c) for n, c in enumerate(passages, 1))}
        generated = ""
        try:
            for chunk in self.chain.stream(inputs, config):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if not piece:
                    continue
                generated += piece
                # A marker still being written ("[1") waits, so partial texts only grow.
                partial, _ = renumbered(_OPEN_MARKER.sub("", generated), len(passages))
                yield Answer(question=request.question, text=partial, partial=True,
                             generation=Generation(self.label, llm_called=True))
        except Exception as error:  # noqa: BLE001  (re-raised as an error a user can act on)
            raise self._request_error(error) from error
        yield self.finish(request, generated, fallback)

    def finish(self, request: AnswerRequest, generated: str, fallback: Answer) -> Answer:
        """The final answer for the model's full reply `generated`."""
        generation = Generation(self.label, llm_called=True, generated=generated)
        if not generated.strip():  # said nothing: the passages still answer, so quote them
            return replace(fallback, generation=generation, fallback="extractive")
        if says_not_in_documents(generated):
            return Answer(question=request.question, text=prompts.abstention(request.question),
                          citations=tuple(request.passages[:3]), abstained=True,
                          confidence=fallback.confidence,
                          generation=replace(generation, model_abstained=True))
        if request.embed is None:
            raise ValueError("the grounding check needs the request's embed function")
        claims = GroundingCheck(request.embed, self.threshold, request.idf).claims(
            generated, request.passages)
        generation = replace(generation, claims=tuple(_claim_dict(c) for c in claims))
        if not any(claim.supported for claim in claims):
            return replace(fallback, unsupported=tuple(c.plain for c in claims),
                           generation=generation, fallback="extractive")
        text, order = renumbered(" ".join(sentence for sentence, _ in split_claims(generated)),
                                 len(request.passages))
        unsupported = tuple(renumbered_sentence(c.text, order, len(request.passages))
                            for c in claims if not c.supported)
        return Answer(
            question=request.question,
            text=text,
            citations=tuple(request.passages[n - 1] for n in order),
            confidence=fallback.confidence,
            unsupported=unsupported,
            generation=generation,
        )

    def _request_error(self, error: Exception) -> LLMRequestError:
        return LLMRequestError(
            f"The {self.label} model did not answer ({type(error).__name__}: {error}). Check that "
            "it is running and reachable (SEEDQA_LLM_BASE_URL, SEEDQA_LLM_MODEL), or answer "
            "without an LLM: --backend extractive."
        )


def usable_rewrite(rewrite: str, question: str, history: Sequence[dict]) -> str | None:
    """The model's standalone question, first line only; None if it rambles or drifts off topic."""
    rewrite = " ".join(rewrite.strip().split("\n")[0].strip(" \"'“”").split())
    known = set(terms(question)) | history_terms(history)
    if not rewrite or len(rewrite) > 4 * len(question) + 200 or not set(terms(rewrite)) & known:
        return None
    return rewrite


def renumbered_sentence(sentence: str, order: list[int], count: int) -> str:
    """One sentence with its markers in the answer's final numbering."""
    def replace_marker(match: re.Match) -> str:
        numbers = [int(n) for n in match.group(1).split(",")]
        return "".join(f"[{order.index(n) + 1}]" for n in numbers if 1 <= n <= count and n in order)

    return " ".join(MARKER.sub(replace_marker, sentence).split())


def _claim_dict(claim: Claim) -> dict:
    support = claim.support
    return {
        "text": claim.text,
        "cited": list(claim.cited),
        "supported": claim.supported,
        "reason": claim.reason,
        "score": support.score if support else None,
        "coverage": support.coverage if support else None,
        "similarity": support.similarity if support else None,
    }
