"""`serve`: run the API (and the chat at /chat) with uvicorn until interrupted."""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING

from seedqa.settings import Settings

if TYPE_CHECKING:
    from qa import Assistant


def serve(assistant: Assistant, settings: Settings | None = None, *, host: str | None = None,
          port: int | None = None, chat: bool = True, sources_in_text: bool = False) -> None:
    """Serve `build_app(assistant, settings)` on host:port (port 0: any free one), printing its URL."""
    import uvicorn

    from api.app import api_keys, build_app
    from ui.security import exposure_warning, login_pairs

    settings = settings or assistant.settings
    host = host or settings.host
    port = port if port is not None else settings.port
    port = port or _free_port(host)
    warning = exposure_warning(host, bool(login_pairs(settings) or api_keys(settings)))
    if warning:
        warning = warning.replace("seedqa chat", "seedqa serve").replace(
            "(or SEEDQA_AUTH_FILE)", "(or SEEDQA_AUTH_FILE, or SEEDQA_API_KEYS)")
        print(f"\n{'!' * 78}\n{warning}\n{'!' * 78}\n", file=sys.stderr, flush=True)
    app = build_app(assistant, settings, chat=chat, sources_in_text=sources_in_text)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                print(f"seedqa serve is running at {url} (API docs: {url}/docs"
                      + (f", chat: {url}/chat" if chat else "") + ")", flush=True)

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            server_header=False, proxy_headers=False)
    Server(config).run()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
