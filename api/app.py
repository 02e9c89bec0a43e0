"""`build_app`: the FastAPI app over one `qa.Assistant`.

    GET  /health                 liveness, no login needed
    POST /v1/answer              a cited answer (the Answer as JSON)
    POST /v1/retrieve            the passages alone, ranked
    GET/POST /v1/documents       list; upload and ingest (multipart)
    GET/DELETE /v1/documents/ID  one document's text; remove it
    POST /v1/chat/completions    OpenAI-compatible, streaming or not (api/completions.py)
    GET  /v1/models              OpenAI-compatible
    GET  /docs, /openapi.json    the API's documentation, served from this machine
    /chat                        the Gradio chat (ui), when mounted

Route functions are plain `def`s: FastAPI runs them in its thread pool, and the
Assistant is safe to share between threads.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from api import docs, errors
from api.completions import completions_router
from api.documents import documents_router
from api.guard import AuthMiddleware, BodyLimitMiddleware
from api.models import ERRORS, AnswerBody, AnswerOut, CitationOut, Health, RetrieveBody, RetrieveOut
from seedqa.settings import Settings
from ui.security import login_pairs  # the chat's own reading of SEEDQA_AUTH(_FILE)

if TYPE_CHECKING:
    from qa import Assistant

JSON_BODY_LIMIT = 1_000_000  # bytes: a question and its history, with room to spare
CHAT_PATH = "/chat"


def _version() -> str:
    try:
        return version("seedqa")
    except PackageNotFoundError:
        return "0"


def backends(assistant: Assistant) -> list[str]:
    """The answer writers this server offers: quoting always, plus the configured LLM."""
    offered = ["extractive"]
    default = assistant.backend()
    if default != "extractive":
        offered.append(default)
    return offered


def checked_backend(assistant: Assistant, backend: str | None) -> str:
    offered = backends(assistant)
    if backend is not None and backend not in offered:
        raise errors.APIError(400, f"Unknown backend {backend!r}; this server offers "
                                   f"{', '.join(offered)}.")
    return backend or assistant.backend()


def answers_router(assistant: Assistant) -> APIRouter:
    router = APIRouter(tags=["answers"], responses=ERRORS)

    @router.post("/v1/answer", response_model=AnswerOut, summary="Answer a question, with citations")
    def answer(body: AnswerBody) -> AnswerOut:
        history = [turn.model_dump() for turn in body.history]
        backend = checked_backend(assistant, body.backend)
        return AnswerOut.of(assistant.answer(body.question, history, backend=backend))

    @router.post("/v1/retrieve", response_model=RetrieveOut, summary="The passages alone, best first")
    def retrieve(body: RetrieveBody) -> RetrieveOut:
        history = [turn.model_dump() for turn in body.history]
        citations = assistant.retrieve(body.question, body.k, history)
        question = " ".join(body.question.split())
        return RetrieveOut(question=question,
                           citations=[CitationOut.of(c, n) for n, c in enumerate(citations, 1)])

    return router


def build_app(assistant: Assistant, settings: Settings | None = None, *,
              chat: bool = True, sources_in_text: bool = False) -> FastAPI:
    """The API over `assistant`; with `chat`, the Gradio chat at /chat. Not served.

    `sources_in_text`: chat completions list the sources at the end of the text too,
    unless a request says otherwise (for chat UIs that show only the text).
    """
    settings = settings or assistant.settings
    app = FastAPI(
        title="seedqa", version=_version(), docs_url=None, redoc_url=None,
        description="Ask questions about your documents; every answer cites its passages. "
                    "Errors are `{\"error\": {\"message\", \"type\"}}`.",
    )
    errors.install(app)

    @app.get("/health", response_model=Health, tags=["server"], summary="Liveness (no login)")
    def health() -> Health:
        return Health(version=_version())

    app.include_router(answers_router(assistant))
    app.include_router(documents_router(assistant, settings))
    app.include_router(completions_router(assistant, sources_in_text))
    docs.install(app)
    if chat:
        _mount_chat(app, assistant, settings)

    upload_limit = int(settings.max_file_mb * 1e6 * settings.max_upload_files) + JSON_BODY_LIMIT

    def limit_for(path: str) -> int:
        uploads = path == "/v1/documents" or path.startswith(CHAT_PATH + "/")
        return upload_limit if uploads else JSON_BODY_LIMIT

    app.add_middleware(BodyLimitMiddleware, limit_for=limit_for)
    app.add_middleware(AuthMiddleware, logins=login_pairs(settings), keys=api_keys(settings))
    return app


def api_keys(settings: Settings) -> list[str]:
    return [key.strip() for key in (settings.api_keys or "").split(",") if key.strip()]


def _mount_chat(app: FastAPI, assistant: Assistant, settings: Settings) -> None:
    """The Gradio chat at /chat; the API's login middleware guards it (Gradio's own is off)."""
    import gradio as gr

    import ui
    from ui.assets import CSS

    demo = ui.build_app(assistant, settings)
    demo.state_session_capacity = settings.max_sessions  # what `launch` sets for `seedqa chat`
    gr.mount_gradio_app(
        app, demo, path=CHAT_PATH, show_error=False, css=CSS,
        max_file_size=int(settings.max_file_mb * 1e6), ssr_mode=False, mcp_server=False,
        pwa=False, enable_monitoring=False, run_history=False, footer_links=["gradio", "settings"],
    )
