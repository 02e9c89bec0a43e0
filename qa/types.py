"""Values that cross the boundary between seedqa and its users."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


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
    `text` is the extractive answer and `unsupported` what the model wrote.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    span: str | None = None
    confidence: float = 0.0
    meta: dict = field(default_factory=dict, compare=False)
    unsupported: tuple[str, ...] = ()
    sure: bool = True
    alternatives: tuple[Alternative, ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["citations"] = [c.to_dict() for c in self.citations]
        data["unsupported"] = list(self.unsupported)
        data["alternatives"] = [a.to_dict() for a in self.alternatives]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)
