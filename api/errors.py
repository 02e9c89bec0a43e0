"""Every error as `{"error": {"message": ..., "type": ...}}`: 4xx for what a caller can fix,
a plain 500 for the rest. A stack trace goes to the server's log, never into a response."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from seedqa.errors import (
    DocumentNotFoundError,
    IndexBusyError,
    IndexCorruptError,
    IndexNotReadyError,
    IndexReplacedError,
    IndexWriteError,
    IngestError,
    InvalidQuestionError,
    LLMRequestError,
    LLMSetupError,
    SeedqaError,
    UnsupportedFileError,
)

log = logging.getLogger("seedqa.api")

# Most specific first: the first class an error is an instance of decides.
_STATUS: tuple[tuple[type[SeedqaError], int, str], ...] = (
    (InvalidQuestionError, 400, "invalid_request_error"),
    (IndexNotReadyError, 409, "index_not_ready"),
    (DocumentNotFoundError, 404, "not_found_error"),
    (UnsupportedFileError, 415, "unsupported_file"),
    (IngestError, 422, "ingest_error"),
    (IndexBusyError, 503, "index_busy"),
    (IndexWriteError, 507, "index_write_error"),
    (LLMRequestError, 502, "llm_request_error"),
    (LLMSetupError, 503, "llm_unavailable"),
    (IndexCorruptError, 503, "index_corrupt"),
    (IndexReplacedError, 503, "index_replaced"),
    (SeedqaError, 400, "invalid_request_error"),
)

_HTTP_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               405: "method_not_allowed", 409: "conflict", 413: "request_too_large",
               415: "unsupported_file", 422: "invalid_request_error"}


class APIError(Exception):
    """An error the API itself raises (not the Assistant): a status, a message, a type."""

    def __init__(self, status: int, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind or _HTTP_TYPES.get(status, "api_error")


def error_body(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind}}


def error_response(status: int, message: str, kind: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, kind or _HTTP_TYPES.get(status, "api_error")),
                        status_code=status, headers=headers)


def seedqa_status(error: SeedqaError) -> tuple[int, str]:
    return next((status, kind) for cls, status, kind in _STATUS if isinstance(error, cls))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the JSON error shape."""

    @app.exception_handler(SeedqaError)
    async def _seedqa(request: Request, error: SeedqaError) -> JSONResponse:
        status, kind = seedqa_status(error)
        message = str(error)
        if isinstance(error, IndexNotReadyError):
            message += " Or upload files: POST /v1/documents."
        return error_response(status, message, kind)

    @app.exception_handler(APIError)
    async def _api(request: Request, error: APIError) -> JSONResponse:
        return error_response(error.status, str(error), error.kind)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(error), "invalid_request_error")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "Request failed."
        if error.status_code == 404 and message == "Not Found":
            message = f"No such endpoint: {request.method} {request.url.path} (see /docs)."
        return error_response(error.status_code, message, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(500, "Internal server error; the server's log has the details.",
                              "server_error")


def validation_message(error: RequestValidationError) -> str:
    """FastAPI's validation errors in one line: where, and what is wrong (no echo of the input)."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts) + "."
