"""OpenAI-compatible chat: POST /v1/chat/completions and GET /v1/models.

The last user message is the question; the user and assistant messages before it
are the history (system messages are ignored: seedqa's answers follow its own
rules). The reply's `content` is the answer with its `[n]` markers. seedqa adds:

- `citations`: the cited passages (CitationOut: number, title, text, source,
  start, end, ...), on the message (`choices[0].message.citations`) and at the top
  level; when streaming, on the final chunk (the one with `finish_reason`).
- `seedqa`: the rest of the Answer (abstained, span, confidence, unsupported,
  backend, and the full final `text`), in the same places.
- `include_sources: true` in the request (or `seedqa serve --sources-in-text`,
  for every request that does not say) also appends the numbered sources to
  the text, for chat UIs that show only `content`. Such a list in an earlier
  assistant message is cut off again before it is used as history.

Streaming sends OpenAI's `chat.completion.chunk` events as server-sent events,
ending with `data: [DONE]`. The chunks' `delta.content` joined is the final text.
The one exception: when an LLM's streamed answer is replaced at the end (the
grounding check found none of it supported), the stream goes on with a note and
the replacement; the final chunk's `seedqa.text` is the answer either way.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.errors import APIError, error_body, seedqa_status
from api.models import ERRORS, AnswerOut, ChatCompletionBody, ChatMessage
from seedqa.errors import SeedqaError

if TYPE_CHECKING:
    from qa import Answer, Assistant

MODEL = "seedqa"
SOURCES_HEADING = "\n\n**Sources**\n"
REPLACED_NOTE = ("\n\n(The passages do not support what the model wrote; "
                 "quoting them instead.)\n\n")
_PIECE = re.compile(r"\s*\S+(?:\s+\S+){0,2}")  # about three words per streamed chunk


def models(assistant: Assistant) -> dict[str, str]:
    """Model id -> the backend that writes its answers."""
    offered = {MODEL: assistant.backend()}
    if offered[MODEL] != "extractive":
        offered[f"{MODEL}-extractive"] = "extractive"
    return offered


def content_text(content: str | list[dict[str, Any]] | None) -> str:
    """A message's text: a string, or OpenAI's list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    return " ".join(str(part.get("text", "")) for part in content or []
                    if isinstance(part, dict) and part.get("type") == "text")


def conversation(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The question (the last user message) and the history before it."""
    turns = [{"role": m.role, "content": content_text(m.content).split(SOURCES_HEADING)[0]}
             for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1]["role"] != "user":
        raise APIError(400, "The last message must be the user's question (role \"user\").")
    return turns[-1]["content"], turns[:-1]


def sources_text(answer: Answer) -> str:
    if not answer.citations:
        return ""
    lines = []
    for number, citation in enumerate(answer.citations, 1):
        details = ", ".join(part for part in (citation.date, f"page {citation.page}"
                                              if citation.page else None) if part)
        lines.append(f"[{number}] {citation.title or citation.source}"
                     + (f" ({details})" if details else ""))
    return SOURCES_HEADING + "\n".join(lines)


def extras(answer: Answer, text: str) -> dict[str, Any]:
    """seedqa's additions to OpenAI's reply: `citations` and `seedqa`."""
    out = AnswerOut.of(answer).model_dump()
    return {"citations": out["citations"],
            "seedqa": {"text": text, "abstained": out["abstained"], "span": out["span"],
                       "confidence": out["confidence"], "unsupported": out["unsupported"],
                       "backend": out["backend"]}}


def completions_router(assistant: Assistant, sources_in_text: bool = False) -> APIRouter:
    router = APIRouter(tags=["openai"], responses=ERRORS)

    @router.get("/v1/models", summary="The models (answer writers) offered, OpenAI's format")
    def list_models() -> dict:
        created = int(time.time())
        return {"object": "list",
                "data": [{"id": name, "object": "model", "created": created, "owned_by": "seedqa"}
                         for name in models(assistant)]}

    @router.post("/v1/chat/completions", summary="OpenAI-compatible chat, with citations",
                 response_description="a chat.completion, or with `stream` server-sent "
                                      "chat.completion.chunk events ending with [DONE]")
    def chat_completions(body: ChatCompletionBody):
        offered = models(assistant)
        if body.model not in offered:
            raise APIError(404, f"The model {body.model!r} does not exist; this server offers "
                                f"{', '.join(offered)} (GET /v1/models).", "model_not_found")
        question, history = conversation(body.messages)
        if body.include_sources is None:
            body = body.model_copy(update={"include_sources": sources_in_text})
        answers = assistant.stream(question, history, backend=offered[body.model])
        first = next(answers)  # here, so that a bad question or an empty index is a 4xx
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.stream:
            answer = first
            for answer in answers:
                pass
            text = answer.text + (sources_text(answer) if body.include_sources else "")
            added = extras(answer, text)
            message = {"role": "assistant", "content": text, **added}
            return {"id": reply_id, "object": "chat.completion", "created": created,
                    "model": body.model, **added,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop",
                                 "logprobs": None}]}
        events = _events(first, answers, reply_id, created, body)
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router


def _events(first: Answer, answers: Iterator[Answer], reply_id: str, created: int,
            body: ChatCompletionBody) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **more: Any) -> str:
        data = {"id": reply_id, "object": "chat.completion.chunk", "created": created,
                "model": body.model, **more,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    sent = ""
    answer = first
    try:
        for answer in _chain(first, answers):
            # An LLM's partial answers only grow; send what is new in each.
            if answer.partial and answer.text.startswith(sent):
                if len(answer.text) > len(sent):
                    yield chunk({"content": answer.text[len(sent):]})
                    sent = answer.text
        text = answer.text + (sources_text(answer) if body.include_sources else "")
        rest = text[len(sent):] if text.startswith(sent) else REPLACED_NOTE + text
        for piece in _PIECE.findall(rest):  # an answer that came whole goes out a few words at a time
            yield chunk({"content": piece})
        trailing = rest[len("".join(_PIECE.findall(rest))):]
        if trailing:
            yield chunk({"content": trailing})
        yield chunk({}, "stop", **extras(answer, text))
    except SeedqaError as error:
        _, kind = seedqa_status(error)
        yield f"data: {json.dumps(error_body(str(error), kind))}\n\n"
    except Exception:  # noqa: BLE001  (the response has begun: report it in the stream, plainly)
        import logging

        logging.getLogger("seedqa.api").exception("error while streaming a chat completion")
        yield f"data: {json.dumps(error_body('Internal server error.', 'server_error'))}\n\n"
    yield "data: [DONE]\n\n"


def _chain(first: Answer, rest: Iterator[Answer]) -> Iterator[Answer]:
    yield first
    yield from rest
