"""Who may call the API, and how much they may send: two plain ASGI middlewares.

Login: when SEEDQA_AUTH / SEEDQA_AUTH_FILE (the chat's `user:password` pairs) or
SEEDQA_API_KEYS (bearer tokens) is set, every request but `GET /health` needs
`Authorization: Basic ...` with one of the pairs (or any user name and a key as
the password, so that a browser can open /docs with a key), or
`Authorization: Bearer ...` with one of the keys (or a `user:password` pair as the
token, for clients such as the openai package that only send bearer tokens). They guard the mounted chat too,
so one login covers the whole server.

Size: a request body is refused with 413 past its limit, from its Content-Length
when it has one, else as it arrives.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Sequence

from starlette.exceptions import HTTPException

from api.errors import error_body

OPEN_PATHS = frozenset({"/health"})


def _send_error(status: int, message: str, kind: str, headers: Sequence[tuple[bytes, bytes]] = ()):
    body = json.dumps(error_body(message, kind)).encode()

    async def respond(send) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *headers]})
        await send({"type": "http.response.body", "body": body})

    return respond


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class AuthMiddleware:
    """Refuses (401) every request without a valid login or key, when any is configured."""

    def __init__(self, app, logins: Sequence[tuple[str, str]], keys: Sequence[str]) -> None:
        self.app = app
        self.logins = [f"{user}:{password}" for user, password in logins]
        self.keys = list(keys)

    def allows(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        credentials = credentials.strip()
        if not credentials:
            return False
        if scheme.lower() == "bearer":
            return _any_equal(credentials, self.keys + self.logins)
        if scheme.lower() != "basic":
            return False
        try:
            pair = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # A key also works as the password (any user name), so a browser can open /docs.
        return _any_equal(pair, self.logins) | _any_equal(pair.partition(":")[2], self.keys)

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] != "http" or not (self.logins or self.keys)
                or scope["path"] in OPEN_PATHS
                or self.allows(_header(scope, b"authorization"))):
            return await self.app(scope, receive, send)
        challenge = [(b"www-authenticate", b'Basic realm="seedqa", charset="UTF-8"')]
        await _send_error(401, "Authentication required: send Authorization: Bearer <key> "
                               "(SEEDQA_API_KEYS) or HTTP Basic user:password (SEEDQA_AUTH).",
                          "authentication_error", challenge)(send)


def _any_equal(value: str, candidates: Sequence[str]) -> bool:
    # Compared with every candidate, so the time taken says nothing about which one matched.
    return sum(hmac.compare_digest(value.encode(), c.encode()) for c in candidates) > 0


class BodyTooLarge(HTTPException):
    """Raised while a body without Content-Length arrives; an HTTPException, so that
    FastAPI's body parsing passes it on (as 413) instead of calling it unparseable."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over the limit of {limit:,} bytes.")


class BodyLimitMiddleware:
    """Refuses (413) request bodies over `limit_for(path)` bytes."""

    def __init__(self, app, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await _send_error(413, BodyTooLarge(limit).detail, "request_too_large")(send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)  # the app's handler answers 413
            return message

        await self.app(scope, counted, send)
