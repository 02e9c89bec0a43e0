"""The default answerer: extractive, no LLM, no network.

From the retrieved passages the fitted reader model (qa/reader/) picks the
sentence that best answers the question and the span in it that answers it;
the answerer keeps the answer short, marks it with its citation and puts the
span in bold. When the model's probability that the answer is right is below
the abstention threshold it abstains; below the "sure" level it says it is not
sure and lists the best answers of other passages.

It is a LangChain Runnable (`AnswerRequest -> Answer`), so an LLM-backed
answerer can take its place in the same chain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from qa import prompts
from qa.reader.features import ReaderInput
from qa.reader.model import ReaderModel, load_model
from qa.reader.question import QuestionProfile
from qa.reader.reader import Choice, Reading, read
from qa.types import Alternative, Answer, Citation
from seedqa.text import Span, sentences, stem, word_spans


class AnswerRequest(BaseModel):
    """What an answerer answers from: the question and the retrieved passages, as plain data.

    A public, JSON-schemable type (`ExtractiveAnswerer().get_input_jsonschema()`):
    a request written as JSON and read back is answered the same. `term_weights`
    holds the idf of every term of the question, the earlier questions and the
    passages; `sentence_cosines` the question's cosine with each sentence of each
    passage (`None` for a passage stored without sentence vectors). The assistant
    also attaches the live index's idf and embedding model, for what the data
    does not hold (the words an LLM writes, which its grounding check weighs).
    """

    model_config = ConfigDict(frozen=True)

    question: str
    passages: tuple[Citation, ...]
    earlier: tuple[str, ...] = Field(default=(), description="earlier questions it leans on")
    term_weights: dict[str, float] = Field(default_factory=dict)
    unknown_weight: float = Field(default=1.0, description="the weight of a term no passage has")
    sentence_cosines: tuple[tuple[float, ...] | None, ...] = ()
    _idf: Callable[[str], float] | None = PrivateAttr(default=None)
    _embed: Callable[[list[str]], np.ndarray] | None = PrivateAttr(default=None)

    def idf(self, term: str) -> float:
        found = self.term_weights.get(term)
        if found is not None:
            return found
        return self._idf(term) if self._idf is not None else self.unknown_weight

    @property
    def embed(self) -> Callable[[list[str]], np.ndarray] | None:
        return self._embed

    def attach(self, idf: Callable[[str], float], embed: Callable[[list[str]], np.ndarray]
               ) -> AnswerRequest:
        """This request with the live index's idf and embedding model behind it."""
        self._idf, self._embed = idf, embed
        return self


class ExtractiveAnswerer(Runnable[AnswerRequest, Answer]):
    """Answers with the sentence of the retrieved passages that the reader model picks.

    The fitted reader (qa/reader/, weights in qa/reader/weights.json) scores
    every sentence, the spans of the best one, and the probability that the
    answer is right, which is `Answer.confidence`. Below `abstain_threshold`
    (default: the model's, chosen on held-out folds) it abstains; below the
    model's "sure" level the answer says it is not sure and `Answer.alternatives`
    lists the best answers of other passages, each with its citation.
    """

    def __init__(self, max_words: int = 40, abstain_threshold: float | None = None, *,
                 model: ReaderModel | None = None) -> None:
        self.max_words = max_words
        self._threshold = abstain_threshold
        self._model = model

    @property
    def model(self) -> ReaderModel:
        return self._model or load_model()

    @property
    def abstain_threshold(self) -> float:
        return self.model.abstain if self._threshold is None else self._threshold

    def invoke(self, input: AnswerRequest, config: RunnableConfig | None = None,
               **kwargs) -> Answer:
        request = input
        return self.respond(request, self.read(request))

    def read(self, request: AnswerRequest) -> Reading:
        """The model's reading of the request's passages (for the answer, and for fitting)."""
        return read(reader_input(request), self.model)

    def respond(self, request: AnswerRequest, reading: Reading) -> Answer:
        """The answer, or the abstention, that `reading` calls for."""
        best = reading.best
        confidence = round(best.confidence, 4) if best else 0.0
        if best is None or confidence < self.abstain_threshold:
            return self._abstain(request, confidence)
        return self._answer(request, reading, confidence)

    # --- output ---------------------------------------------------------------

    def _answer(self, request: AnswerRequest, reading: Reading, confidence: float) -> Answer:
        best = reading.best
        model = self.model
        sure = confidence >= model.sure
        budget = self.max_words - (0 if sure else _word_count(prompts.message("not_sure",
                                                                              answer="")))
        text, span_text = self._extract(request, best, reading.table.profile, budget)
        alternatives = ()
        if not sure:
            text = prompts.message("not_sure", answer=text)
            alternatives = tuple(
                Alternative(
                    text=self._extract(request, other, reading.table.profile,
                                       self.max_words)[0],
                    citation=request.passages[other.sentence.passage],
                    confidence=round(other.confidence, 4),
                )
                for other in reading.alternatives if other.confidence >= self.abstain_threshold
            )
        return Answer(
            question=request.question,
            text=f"{text} [1]",
            citations=(request.passages[best.sentence.passage],),
            span=span_text,
            confidence=confidence,
            sure=sure,
            alternatives=alternatives,
        )

    def _extract(self, request: AnswerRequest, choice: Choice, profile: QuestionProfile,
                 budget: int) -> tuple[str, str | None]:
        """The answer text for `choice` within `budget` words, its span in bold when shown."""
        passage = request.passages[choice.sentence.passage]
        sentence = choice.sentence.text
        weights, kind = profile.weights, profile.kind
        threshold = self.model.span_threshold_for(kind)
        exact = choice.span if choice.span_probability >= threshold else None
        text = self._shorten(sentence, exact or _matched_middle(sentence, weights), budget)
        if text == sentence:
            text = with_following(passage.text, choice.sentence.span, budget or self.max_words)
        span_text = sentence[exact[0] : exact[1]] if exact else None
        if span_text and span_text in text:
            text = text.replace(span_text, f"**{span_text}**", 1)
        elif span_text:
            span_text = None
        return text, span_text

    def _shorten(self, sentence: str, focus: Span | None, budget: int | None = None) -> str:
        """At most `budget` words, cut around the focus span when there is one."""
        budget = budget or self.max_words
        spans = [(begin, end) for _, begin, end in word_spans(sentence)]
        if len(spans) <= budget:
            return sentence
        centre = 0
        if focus:
            centre = next((i for i, (b, _) in enumerate(spans) if b >= focus[0]), 0)
        first = max(0, min(centre - budget // 2, len(spans) - budget))
        last = first + budget - 1
        piece = sentence[spans[first][0] : spans[last][1]]
        return ("…" if first > 0 else "") + piece + ("…" if last < len(spans) - 1 else "")

    def _abstain(self, request: AnswerRequest, confidence: float) -> Answer:
        return Answer(
            question=request.question,
            text=prompts.abstention(request.question),
            citations=tuple(request.passages[:3]),
            abstained=True,
            confidence=confidence,
            sure=False,
        )


def reader_input(request: AnswerRequest) -> ReaderInput:
    """The request as the reader model reads it."""
    cosines = tuple(None if found is None else np.asarray(found, dtype=np.float32)
                    for found in request.sentence_cosines)
    cosines += (None,) * (len(request.passages) - len(cosines))
    # The reader asks the idf of every word of every retrieved sentence, most of them
    # many times; a request's idf is a pydantic method, slow to call.
    idf = functools.lru_cache(maxsize=None)(request.idf)
    return ReaderInput(request.question, request.passages, idf, request.earlier, cosines)


def with_following(text: str, span: Span, budget: int) -> str:
    """The sentence and those after it in the passage, cut at `budget` words.

    The sentence that matches the question best often sets up the answer and
    the next ones give it ("... the Treaty of Paris. It was signed in 1763").
    On SQuAD the answer held an accepted answer 0.758 of the time with the
    next sentence, against 0.717 for the sentence alone, and 0.788 with
    every following sentence that fits (first 1,000 answerable questions,
    with the long-sentence cut below; benchmarks/README.md).
    """
    end = span[1]
    room = budget - _word_count(text[span[0] : end])
    for begin, finish in (s for s in sentences(text) if s[0] >= span[1]):
        if room <= 0:
            break
        after = text[begin:finish]
        if _word_count(after) <= room:
            end, room = finish, room - _word_count(after)
            continue
        words = word_spans(after)
        room = min(room, len(words))  # "–" and the like count as words to split() only
        while room > 0 and _word_count(after[: words[room - 1][2]]) > room:
            room -= 1
        if room > 0:
            return text[span[0] : begin + words[room - 1][2]] + "…"
        break
    return text[span[0] : end]


def _word_count(text: str) -> int:
    """Words as a reader counts them (white space) or as `word_spans` does, whichever is more."""
    return max(len(text.split()), len(word_spans(text)))


def _matched_middle(sentence: str, weights: dict[str, float]) -> Span | None:
    """The middle one of the sentence's words that the question has too.

    A long sentence is cut around it when there is no span to centre on: the
    answer sits near what the question restates, not at the sentence's start
    (on SQuAD 0.745 of cut answers held an accepted answer this way, against 0.724
    keeping the first words; first 1,000 answerable questions).
    """
    matched = [(begin, end) for word, begin, end in word_spans(sentence) if stem(word) in weights]
    return matched[len(matched) // 2] if matched else None
