"""The default answerer: extractive, no LLM, no network.

From the retrieved passages it picks the sentence that best answers the
question, keeps it short, marks it with its citation, and for "how many /
when / who / where" questions highlights the exact span. When no passage
covers what the question asks about, it abstains.

It is a LangChain Runnable (`AnswerRequest -> Answer`), so an LLM-backed
answerer can take its place in the same chain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig

from qa import prompts
from qa.answerer import with_following
from qa.types import Answer, Citation
from seedqa.text import Span, sentences, stem, terms, word_spans


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    passages: tuple[Citation, ...]
    idf: Callable[[str], float]
    earlier: tuple[str, ...] = ()  # earlier questions this one refers back to
    # Without sentence vectors, `embed` gives the chosen sentence's similarity for the confidence.
    query_vector: np.ndarray | None = field(default=None, compare=False)
    embed: Callable[[list[str]], np.ndarray] | None = field(default=None, compare=False)
    # Per passage, its sentences' vectors from ingest (rows in `sentences()` order), if any.
    sentence_vectors: tuple[np.ndarray, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class _Candidate:
    passage: int
    span: Span  # offsets within the passage text
    score: float  # lexical
    similarity: float | None = None  # embedding cosine of question and sentence


_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions billion billions dozen dozens"
).split()
_MONTHS = ("january february march april may june july august september october november "
           "december jan feb mar apr jun jul aug sep sept oct nov dec").split()
_NUMBER = re.compile(
    r"(?:(?:more than|at least|at most|about|around|over|nearly|almost|up to|some)\s+)?"
    r"(?:\d+(?:[.,]\d+)*(?:\s?(?:%|percent|per cent|km|kg|lb|m|mph|miles?|metres?|meters?|tons?|"
    r"tonnes?|million|billion|thousand|hundred))?"
    r"|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b(?:[- ](?:" + "|".join(_NUMBER_WORDS) + r")\b)*)"
    r"(?:\s?\(\d+(?:[.,]\d+)*\s?\w+\))?",
    re.IGNORECASE,
)
_MONTH = r"(?:" + "|".join(m.capitalize() for m in _MONTHS) + r")\.?"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|(?:in\s+)?\d{{4}}s?|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|\d{{1,2}}(?:st|nd|rd|th)\s+century)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+|von\s+)?[A-Z][\w'’.-]*)*")

_WHAT_X = re.compile(r"\b(?:what|which)\s+((?:[\w'’-]+\s+){0,2}?[\w'’-]+)\s+"
                     r"(?:did|do|does|is|was|are|were|has|have|had|can|could|will|would)\b", re.I)


def answer_type(question: str) -> str | None:
    """The noun a "what X did ..." question asks for ("infrastructure"), if it names one."""
    match = _WHAT_X.search(question)
    return match.group(1) if match else None

_QUESTION_TYPES = (
    ("number", re.compile(r"\bhow (?:many|much|long|far|old|large|big|heavy|tall|high)\b|"
                          r"\bwhat (?:number|percentage|proportion|amount)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|century|time)\b|"
                        r"\bwhich (?:year|date|day|month|century)\b", re.I)),
    ("name", re.compile(r"\bwho(?:m|se)?\b|\bwhere\b|\bwhich (?:country|city|place|company)\b", re.I)),
)


_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+((?:[\w'’-]+\s*){1,3})", re.I)
_AUXILIARIES = frozenset("did do does were was are is have has had will would can could "
                         "should might may must".split())
_FILLERS = frozenset("of the a an".split())


def counted_words(question: str) -> set[str]:
    """What a "how many X ..." question counts: the stems of X ("of them", "drones")."""
    match = _HOW_MANY.search(question)
    if not match:
        return set()
    head = []
    for word in match.group(1).lower().split():
        if word in _AUXILIARIES:
            break
        head.append(word)
    return {stem(word) for word in head if word not in _FILLERS}


def question_type(question: str) -> str | None:
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def _spans_of(kind: str, text: str) -> list[Span]:
    pattern = {"number": _NUMBER, "date": _DATE, "name": _NAME}[kind]
    return [match.span() for match in pattern.finditer(text) if match.group().strip()]


# How much the sentence's embedding (in its passage's context, from ingest) adds to the
# word overlap when choosing the answer sentence. On the first 1,000 answerable SQuAD
# questions (answer holds an accepted answer, no abstention) it went 0.787 without,
# 0.800 at 0.2, 0.806 at 0.5, 0.811 at 2. From 0.3 it picks the wrong sentence for one
# seed question, from 1 for two: a seed chunk holds several short paragraphs, and their
# sentences' in-context vectors blur together. All 2,910 at 0.2: 0.808 -> 0.814.
SEMANTIC_WEIGHT = 0.2


class ExtractiveAnswerer(Runnable[AnswerRequest, Answer]):
    """Answers with the best-matching sentence of the retrieved passages."""

    def __init__(self, max_words: int = 40, abstain_threshold: float = 0.5) -> None:
        self.max_words = max_words
        self.abstain_threshold = abstain_threshold

    def invoke(self, input: AnswerRequest, config: RunnableConfig | None = None,
               **kwargs) -> Answer:
        request = input
        weights = self._weights(request)
        best = self._best_sentence(request, weights)
        confidence = self._confidence(request, best, weights)
        if best is None or confidence < self.abstain_threshold:
            return self._abstain(request, confidence)
        return self._answer(request, best, weights, confidence)

    @staticmethod
    def _confidence(request: AnswerRequest, best: _Candidate | None,
                    weights: dict[str, float]) -> float:
        """How sure we are that the passage answers the question, from 0 to 1.

        Half lexical (how much of the question's idf-weighted content the passage
        holds) and half semantic (the embedding similarity of question and
        sentence): neither alone tells "population of Odesa" from "drones used
        over Odesa" in a report about Odesa that never gives its population.
        The noun a "what X did ..." question asks for is left out of the
        lexical half: the answer names an X ("the power grid"), not the word X.
        """
        if best is None:
            return 0.0
        wanted = set(terms(answer_type(request.question) or ""))
        asked = {t: w for t, w in weights.items() if t not in wanted} or weights
        passage_terms = set(terms(request.passages[best.passage].text))
        coverage = sum(w for t, w in asked.items() if t in passage_terms) / sum(asked.values())
        if best.similarity is not None:
            dense = best.similarity
        else:
            dense = request.passages[best.passage].dense_score or 0.0
        return round(0.5 * coverage + 0.5 * max(0.0, dense), 4)

    # --- scoring -------------------------------------------------------------

    def _weights(self, request: AnswerRequest) -> dict[str, float]:
        """Question terms weighted by idf; an earlier question's terms count half."""
        weights = {term: request.idf(term) for term in terms(request.question)}
        for earlier in request.earlier:
            for term in terms(earlier):
                weights.setdefault(term, 0.5 * request.idf(term))
        return weights

    def _best_sentence(self, request: AnswerRequest,
                       weights: dict[str, float]) -> _Candidate | None:
        candidates = self._lexical_candidates(request, weights)
        if not candidates:
            return None
        best = max(candidates, key=lambda c: c.score)
        if best.similarity is not None or request.embed is None or request.query_vector is None:
            return best
        # An index without sentence vectors: embed the sentence for the confidence.
        sentence = request.passages[best.passage].text[best.span[0] : best.span[1]]
        similarity = float(request.embed([sentence])[0] @ np.asarray(request.query_vector))
        return replace(best, similarity=similarity)

    def _sentence_cosines(self, request: AnswerRequest, rank: int,
                          spans: list[Span]) -> list[float] | None:
        """The question's cosine with each sentence of passage `rank`, when ingest stored them."""
        if request.query_vector is None or rank >= len(request.sentence_vectors):
            return None
        vectors = request.sentence_vectors[rank]
        if len(vectors) != len(spans):  # an index from before sentence vectors
            return None
        return (vectors @ np.asarray(request.query_vector, dtype=np.float32)).tolist()

    def _lexical_candidates(self, request: AnswerRequest,
                            weights: dict[str, float]) -> list[_Candidate]:
        total = sum(weights.values())
        if not request.passages or total <= 0:
            return []
        kind = question_type(request.question)
        question_words = {stem(word) for word, _, _ in word_spans(request.question)}
        question_terms = terms(request.question)
        bigrams = set(zip(question_terms, question_terms[1:]))
        candidates = []
        for rank, passage in enumerate(request.passages):
            passage_terms = set(terms(passage.text))
            passage_match = sum(w for t, w in weights.items() if t in passage_terms) / total
            spans = sentences(passage.text)
            cosines = self._sentence_cosines(request, rank, spans)
            for number, span in enumerate(spans):
                sentence = passage.text[span[0] : span[1]]
                sentence_list = terms(sentence)
                sentence_terms = set(sentence_list)
                match = sum(w for t, w in weights.items() if t in sentence_terms) / total
                # Question words that stand together in the sentence too ("drones target").
                pairs = set(zip(sentence_list, sentence_list[1:]))
                phrase = len(bigrams & pairs) / len(bigrams) if bigrams else 0.0
                score = 0.5 * match + 0.3 * phrase + 0.2 * passage_match + 0.08 / (rank + 1)
                if kind and self._typed_spans(kind, sentence, question_words):
                    score += 0.1
                similarity = None
                if cosines is not None:
                    similarity = cosines[number]
                    score += SEMANTIC_WEIGHT * similarity
                candidates.append(_Candidate(rank, span, score, similarity))
        return candidates

    @staticmethod
    def _typed_spans(kind: str, sentence: str, question_words: set[str]) -> list[Span]:
        """Spans of the expected kind that are not just words of the question."""
        found = []
        for begin, end in _spans_of(kind, sentence):
            span_words = {stem(word) for word, _, _ in word_spans(sentence[begin:end])}
            if span_words and not span_words <= question_words:
                found.append((begin, end))
        return found

    def _exact_span(self, request: AnswerRequest, sentence: str,
                    weights: dict[str, float]) -> Span | None:
        """The typed span nearest to the words the question matched in this sentence."""
        kind = question_type(request.question)
        if kind is None:
            return None
        question_words = {stem(word) for word, _, _ in word_spans(request.question)}
        current = set(terms(request.question))
        anchors = [(begin, weights[stem(word)] * (2 if stem(word) in current else 1))
                   for word, begin, _ in word_spans(sentence) if stem(word) in weights]
        if not anchors:
            return None
        positions = [begin for _, begin, _ in word_spans(sentence)]

        def word_index(offset: int) -> int:
            return sum(1 for position in positions if position < offset)

        counted = counted_words(request.question)
        top_weight = max(w for _, w in anchors)

        def closeness(span: Span) -> float:
            here = word_index(span[0])
            score = sum(w / (1 + abs(word_index(a) - here)) for a, w in anchors)
            # "165 drones" answers "how many drones"; "24 of them" answers "how many of them".
            following = {stem(word) for word, _, _ in word_spans(sentence[span[1]:])[:3]}
            return score + (2 * top_weight if counted & following else 0.0)

        candidates = self._typed_spans(kind, sentence, question_words)
        return max(candidates, key=closeness) if candidates else None

    # --- output ---------------------------------------------------------------

    def _answer(self, request: AnswerRequest, best: _Candidate,
                weights: dict[str, float], confidence: float) -> Answer:
        passage = request.passages[best.passage]
        sentence = passage.text[best.span[0] : best.span[1]]
        exact = self._exact_span(request, sentence, weights)
        text = self._shorten(sentence, exact or _matched_middle(sentence, weights))
        if text == sentence:
            text = with_following(passage.text, best.span, self.max_words)
        span_text = sentence[exact[0] : exact[1]] if exact else None
        if span_text and span_text in text:
            text = text.replace(span_text, f"**{span_text}**", 1)
        return Answer(
            question=request.question,
            text=f"{text} [1]",
            citations=(passage,),
            span=span_text,
            confidence=confidence,
        )

    def _shorten(self, sentence: str, focus: Span | None) -> str:
        """At most `max_words` words, cut around the focus span when there is one."""
        spans = [(begin, end) for _, begin, end in word_spans(sentence)]
        if len(spans) <= self.max_words:
            return sentence
        centre = 0
        if focus:
            centre = next((i for i, (b, _) in enumerate(spans) if b >= focus[0]), 0)
        first = max(0, min(centre - self.max_words // 2, len(spans) - self.max_words))
        last = first + self.max_words - 1
        piece = sentence[spans[first][0] : spans[last][1]]
        return ("…" if first > 0 else "") + piece + ("…" if last < len(spans) - 1 else "")

    def _abstain(self, request: AnswerRequest, confidence: float) -> Answer:
        return Answer(
            question=request.question,
            text=prompts.abstention(request.question),
            citations=tuple(request.passages[:3]),
            abstained=True,
            confidence=confidence,
        )


def earlier_questions(previous: Sequence[str], follow_up: bool) -> tuple[str, ...]:
    """Which earlier questions this one leans on: the last one, when it is a follow-up."""
    return (previous[-1],) if follow_up and previous else ()


def _matched_middle(sentence: str, weights: dict[str, float]) -> Span | None:
    """The middle one of the sentence's words that the question has too.

    A long sentence is cut around it when there is no typed span to centre on:
    the answer sits near what the question restates, not at the sentence's start
    (on SQuAD 0.745 of cut answers held an accepted answer this way, against 0.724
    keeping the first words; first 1,000 answerable questions).
    """
    matched = [(begin, end) for word, begin, end in word_spans(sentence) if stem(word) in weights]
    return matched[len(matched) // 2] if matched else None


def legacy_request(request) -> AnswerRequest:
    """The shipped answerer's request (qa.answerer.AnswerRequest) in this answerer's terms.

    It keeps the question's cosine with each sentence, not the vectors: as
    one-column "vectors" against a query vector [1] they give the same cosines.
    """
    vectors = tuple(np.zeros((0, 1), np.float32) if c is None else np.asarray(c, np.float32)[:, None]
                    for c in request.sentence_cosines)
    return AnswerRequest(request.question, tuple(request.passages), request.idf,
                         tuple(request.earlier), query_vector=np.ones(1, np.float32),
                         embed=request.embed, sentence_vectors=vectors)
