"""Starting the chat's server: offline, no share link unless asked, loud when exposed."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
from starlette.middleware import Middleware

from seedqa.settings import Settings
from ui.app import build_app
from ui.assets import CSS
from ui.login_guard import LoginGuard
from ui.security import exposure_warning, login_pairs

if TYPE_CHECKING:
    from qa import Assistant


def launch(demo: gr.Blocks, settings: Settings, *, host: str | None = None, port: int | None = None,
           share: bool = False, block: bool = True) -> str:
    """Start `demo`'s server (offline, no share link unless asked); returns the local URL.

    Port 0 means any free port. With `block`, serves until Ctrl+C.
    """
    host = host or settings.host
    port = port if port is not None else settings.port
    own_upload_cache(demo, settings)
    logins = login_pairs(settings)
    warning = exposure_warning(host, bool(logins))
    if warning:
        print(f"\n{'!' * 78}\n{warning}\n{'!' * 78}\n", file=sys.stderr, flush=True)
    _, url, share_url = demo.launch(
        server_name=host,
        server_port=port or _free_port(host),
        share=share,
        auth=logins or None,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        css=CSS,
        max_file_size=int(settings.max_file_mb * 1e6),
        state_session_capacity=settings.max_sessions,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        run_history=False,
        footer_links=["gradio", "settings"],
        app_kwargs={"middleware": [Middleware(LoginGuard)]} if logins else None,
    )
    print(f"seedqa chat is running at {url}", flush=True)
    if share_url:
        print(f"Public share link (anyone with it can use this app): {share_url}", flush=True)
    if block:
        print("Press Ctrl+C to stop.", flush=True)
        demo.block_thread()
    return url


def own_upload_cache(demo: gr.Blocks, settings: Settings) -> Path:
    """Give this server its own Gradio upload cache, under the data dir.

    Gradio's default (`$TMPDIR/gradio`, one per machine) is served by every Gradio
    app on the machine: a file uploaded to a chat with a login was served by an open
    one. Each server gets `<data dir>/gradio-cache/<pid>`; a dead server's is removed.
    Gradio reads GRADIO_TEMP_DIR when the Blocks is made and when it launches, so
    both are set here (one chat server per process).
    """
    base = Path(settings.data_dir) / "gradio-cache"
    base.mkdir(parents=True, exist_ok=True)
    for old in base.iterdir():
        if old.name.isdigit() and int(old.name) != os.getpid() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / str(os.getpid())
    folder.mkdir(mode=0o700, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    demo.GRADIO_CACHE = str(folder)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def serve(assistant: Assistant, settings: Settings, *, host: str | None = None, port: int | None = None,
          share: bool = False) -> None:
    """Build the app and serve it until interrupted, printing its URL."""
    launch(build_app(assistant, settings), settings, host=host, port=port, share=share, block=True)
