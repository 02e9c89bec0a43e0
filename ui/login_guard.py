"""The chat's login page: throttled, and without the API schema it would otherwise embed.

Gradio checks a login and nothing more: 100 wrong passwords took 3.3 s. Here a
user name may miss once, and an address (several people behind one) four
times, without waiting; after that each failure makes the next try wait twice
as long as the last (0.5 s, 1 s, 2 s ... up to 60 s). A wait not yet over is
answered 429 with Retry-After; a right password clears its user name's count. Gradio's page for a visitor who has not logged in also carries
`window.gradio_api_info`, the schema that /gradio_api/info refuses without a
login: it is emptied there.

A plain ASGI middleware, given to Gradio's FastAPI app through `app_kwargs`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict

from starlette.datastructures import FormData
from starlette.requests import Request

FIRST_WAIT = 0.5  # seconds after the first failure past the free ones; doubled after each
FREE = {"user": 1, "ip": 4}  # failures a key may have before it waits
LONGEST_WAIT = 60.0
_KEPT = 10_000  # addresses and names remembered, least recent forgotten first
_API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)


class LoginThrottle:
    """Failures per key (an address, a user name) and when the key may try again."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, keys: list[str]) -> float:
        """Seconds until every one of `keys` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            return max((self._failures.get(key, (0, 0.0))[1] - now for key in keys), default=0.0)

    def failed(self, keys: list[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                count = self._failures.pop(key, (0, 0.0))[0] + 1
                over = count - FREE[key.split(":", 1)[0]]
                delay = min(LONGEST_WAIT, FIRST_WAIT * 2 ** (over - 1)) if over > 0 else 0.0
                self._failures[key] = (count, now + delay)
            while len(self._failures) > _KEPT:
                self._failures.popitem(last=False)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class LoginGuard:
    """ASGI middleware: throttles POST .../login, empties the API schema on the login page."""

    def __init__(self, app, throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if scope["method"] == "POST" and path.rstrip("/").endswith("/login"):
            return await self._login(scope, receive, send)
        if scope["method"] == "GET" and not path.rstrip("/").rsplit("/", 1)[-1].count("."):
            return await self.app(scope, receive, _without_api_info(send))
        return await self.app(scope, receive, send)

    async def _login(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        form = await _form(scope, replay)
        client = (scope.get("client") or ("?", 0))[0]
        keys = [f"ip:{client}", f"user:{str(form.get('username', '')).strip().lower()}"]
        wait = self.throttle.wait(keys)
        if wait > 0:
            return await _too_many(send, wait)
        status = {}

        async def watched(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, replay, watched)
        if status.get("code") == 200:
            self.throttle.succeeded(keys[1:])  # the user's count; an address's stays
        elif status.get("code") in (400, 401, 403):
            self.throttle.failed(keys)


async def _form(scope, receive) -> FormData:
    try:
        return await Request(scope, receive).form()
    except Exception:  # noqa: BLE001  (a malformed body: Gradio answers it; throttle by address)
        return FormData()


async def _too_many(send, wait: float) -> None:
    seconds = max(1, round(wait + 0.49))
    body = json.dumps({"detail": f"Too many failed logins; try again in {seconds} s."}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"),
                            (b"retry-after", str(seconds).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _without_api_info(send):
    """Pass a response on; an HTML page for a visitor not logged in loses its API schema."""
    held: dict = {}

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if b"text/html" in headers.get(b"content-type", b""):
                held["start"], held["body"] = message, b""
                return
            return await send(message)
        if "start" not in held:
            return await send(message)
        held["body"] += message.get("body", b"")
        if message.get("more_body"):
            return
        body = held["body"]
        if b'"auth_required":true' in body:
            body = _API_INFO.sub(b"window.gradio_api_info = {};</script>", body)
        start = held.pop("start")
        start["headers"] = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        start["headers"].append((b"content-length", str(len(body)).encode()))
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return wrapped
