"""Values that cross the boundary between seedqa and its users."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

# An answer's citation markers, [1], [1][2], [1, 2], each number pointing at
# `Answer.citations[n - 1]`; the group holds the numbers.
MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def marker_numbers(group: str) -> list[int]:
    """The citation numbers of one marker's group ("1, 2" → [1, 2])."""
    return [int(number) for number in group.split(",")]


@dataclass(frozen=True)
class Citation:
    """A passage an answer rests on, located in its document.

    `text` equals the document's text between `start` and `end`, so a viewer
    can show it in place. `score` is the retrieval score (higher is better).
    """

    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    date: str | None = None
    page: int | None = None
    chunk_id: str = ""
    dense_score: float | None = None  # cosine similarity to the question
    lexical_score: float | None = None  # BM25

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    """What an LLM backend did for an answer (None on an extractive answer)."""

    backend: str  # e.g. "openai: gemma-3-270m"
    llm_called: bool = False  # False: nothing relevant was found, so the model was not asked
    generated: str = ""  # what the model wrote, before the grounding check
    claims: tuple[dict, ...] = ()  # per sentence: text, cited, supported, reason, scores
    model_abstained: bool = False  # the model said the documents do not hold the answer


@dataclass(frozen=True)
class Alternative:
    """Another possible answer, from another passage, shown when the answer is not sure."""

    text: str  # the extract, without a citation marker
    citation: Citation
    confidence: float  # the fitted probability that this one is right

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """An answer with inline `[n]` markers that point at `citations[n-1]`.

    When the documents do not hold the answer, `abstained` is True and `text`
    says so; `citations` then lists the closest passages that were considered.
    `span` is the exact phrase (a number, date or name) that answers a
    "how many / when / who / where" question, when one was found.
    `confidence` is the reader model's probability that the answer is right.
    `sure` is False when it is above the abstention threshold but below the
    "sure" level (the text then says so) and for abstentions; `alternatives`
    then lists up to three best answers of other passages, each with its citation.
    `unsupported` lists the sentences of an LLM-written answer that the grounding
    check found unsupported by the passages they cite (empty for the extractive
    answerer, whose sentence is quoted from a passage). When none was supported,
    `text` is the extractive answer, `fallback` is "extractive" and `unsupported`
    what the model wrote. `partial` marks the growing answers an LLM streams
    (text only); `standalone_question` is the LLM's rewrite of a follow-up, when
    it searched with one; `corrected_question` the question with its typos
    corrected, when it had any; `generation` says what the LLM did.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    span: str | None = None
    confidence: float = 0.0
    unsupported: tuple[str, ...] = ()
    partial: bool = False
    fallback: str | None = None
    standalone_question: str | None = None
    corrected_question: str | None = None  # the question as searched, its typos corrected
    generation: Generation | None = field(default=None, compare=False)

    sure: bool = True
    alternatives: tuple[Alternative, ...] = ()

    @property
    def focus(self) -> str | None:
        """The answer's words as they read in the document: no markers, bold or ellipses."""
        if self.abstained:
            return None
        plain = " ".join(MARKER.sub("", self.text).replace("**", "").split()).strip(" …")
        return plain or None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["citations"] = [c.to_dict() for c in self.citations]
        data["unsupported"] = list(self.unsupported)
        if self.generation is not None:
            data["generation"]["claims"] = list(self.generation.claims)
        data["alternatives"] = [a.to_dict() for a in self.alternatives]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)
