"""What the API takes and returns: pydantic models, so /docs shows every field."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.types import Answer, Citation


class Turn(BaseModel):
    """One earlier message of the conversation, in Gradio's / OpenAI's messages format."""

    role: Literal["user", "assistant", "system"]
    content: str


class AnswerBody(BaseModel):
    question: str = Field(description="the question; at most SEEDQA_MAX_QUESTION_CHARS characters",
                          examples=["How many drones did Russia fire at Ukraine overnight?"])
    history: list[Turn] = Field(default_factory=list, max_length=200,
                                description="the conversation so far, for follow-up questions")
    backend: str | None = Field(default=None, description="who writes the answer: extractive, "
                                "or the configured LLM backend (default: the server's choice)")


class RetrieveBody(BaseModel):
    question: str = Field(examples=["Geran-5 warhead"])
    k: int = Field(default=5, ge=1, le=100, description="passages to return")
    history: list[Turn] = Field(default_factory=list, max_length=200)


class CitationOut(BaseModel):
    """A passage: `text` is the document's text between `start` and `end`."""

    number: int = Field(description="the n of the answer's [n] marker (rank for /v1/retrieve)")
    document_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    date: str | None = None
    page: int | None = None
    chunk_id: str = ""
    dense_score: float | None = None
    lexical_score: float | None = None

    @classmethod
    def of(cls, citation: Citation, number: int) -> CitationOut:
        return cls(number=number, document_id=document_id(citation.source), **citation.to_dict())


class AnswerOut(BaseModel):
    question: str
    text: str = Field(description="the answer, with [n] markers pointing at citations[n-1]")
    citations: list[CitationOut]
    abstained: bool = Field(description="true when the documents do not hold the answer; "
                            "citations are then the closest passages")
    span: str | None = Field(description="the exact phrase that answers a how many / when / who / "
                             "where question, when one was found")
    confidence: float
    unsupported: list[str] = Field(description="sentences of an LLM's answer that the cited "
                                   "passages do not support")
    backend: str = Field(description="who wrote the answer")
    fallback: str | None = Field(default=None, description='"extractive" when nothing an LLM '
                                 "wrote was supported, and the passages are quoted instead")
    standalone_question: str | None = Field(
        default=None, description="an LLM's rewrite of a follow-up, when it searched with one")
    corrected_question: str | None = Field(
        default=None, description="the question as searched, its typos corrected")

    @classmethod
    def of(cls, answer: Answer) -> AnswerOut:
        backend = answer.generation.backend if answer.generation else "extractive"
        return cls(question=answer.question, text=answer.text,
                   citations=[CitationOut.of(c, n) for n, c in enumerate(answer.citations, 1)],
                   abstained=answer.abstained, span=answer.span, confidence=float(answer.confidence),
                   unsupported=list(answer.unsupported), backend=backend, fallback=answer.fallback,
                   standalone_question=answer.standalone_question,
                   corrected_question=answer.corrected_question)


class RetrieveOut(BaseModel):
    question: str
    citations: list[CitationOut]


class DocumentOut(BaseModel):
    id: str = Field(description="stable id, for GET/DELETE /v1/documents/{id}")
    name: str = Field(description="the file name (an upload's original name)")
    source: str
    title: str
    date: str | None
    chunks: int
    chars: int
    ingested_at: float


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class DocumentText(DocumentOut):
    text: str


class UploadedFile(BaseModel):
    name: str
    status: str = Field(description="added | updated | unchanged | failed")
    chunks: int
    message: str = ""
    id: str | None = Field(default=None, description="the document's id, when it was indexed")


class UploadOut(BaseModel):
    files: list[UploadedFile]


class RemovedOut(BaseModel):
    id: str
    source: str
    chunks_removed: int


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class ErrorDetail(BaseModel):
    message: str
    type: str


class ErrorOut(BaseModel):
    error: ErrorDetail


# --- OpenAI-compatible chat ------------------------------------------------------------------

class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionBody(BaseModel):
    """OpenAI's chat request. Sampling fields (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(default="seedqa", examples=["seedqa"])
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    include_sources: bool | None = Field(
        default=None, description="seedqa extension: also list the sources, numbered, at the end "
                                  "of the message text (for chat UIs that ignore `citations`); "
                                  "default: the server's choice (seedqa serve --sources-in-text)")


def document_id(source: str) -> str:
    """A short stable id for a document, derived from its source path."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


ERRORS = {status: {"model": ErrorOut, "description": description} for status, description in (
    (400, "bad request (an empty or too long question)"), (401, "no valid login or key"),
    (404, "no such document"), (409, "the index holds no documents yet"),
    (413, "request body too large"), (422, "invalid request"), (500, "server error"),
)}
