"""No outbound connection, ever: ingest, ask, the Python API and the chat run with the network
guarded by an audit hook (tests/netguard/sitecustomize.py) that refuses and records every
non-loopback connect, send or name lookup. Afterwards, the record must be empty.

The hook sees what Python code does (Chroma's client, httpx, urllib, huggingface_hub,
gradio, posthog); native code that opened its own sockets would not pass through it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from benchmarks.load import Server, client, final_answer
from tests.faults import PYTHON, ROOT, child_env

GUARD = Path(__file__).parent / "netguard"
QUESTION = "How many drones did Russia fire at Ukraine overnight?"


@pytest.fixture
def guarded(tmp_path):
    """Environment for a child whose outbound network is refused and recorded."""
    log = tmp_path / "netguard.jsonl"
    env = child_env(tmp_path / "index", Path(os.environ["SEEDQA_CACHE_DIR"]),
                    SEEDQA_NETGUARD_LOG=str(log), PYTHONPATH=f"{GUARD}{os.pathsep}{ROOT}",
                    # A user's own settings must not switch anything back on.
                    ANONYMIZED_TELEMETRY="True", GRADIO_ANALYTICS_ENABLED="True", HF_HUB_OFFLINE="0")
    return env, log


def _attempts(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _started(log: Path) -> str:
    return Path(str(log) + ".started").read_text()


def test_the_guard_refuses_and_records_outbound_attempts(guarded):
    env, log = guarded
    code = ("import socket, urllib.request\n"
            "for attempt in (lambda: socket.create_connection(('203.0.113.7', 443), timeout=3),\n"
            "                lambda: socket.getaddrinfo('pypi.org', 443),\n"
            "                lambda: urllib.request.urlopen('http://198.51.100.1/', timeout=3)):\n"
            "    try:\n"
            "        attempt(); print('CONNECTED')\n"
            "    except OSError as error:\n"
            "        print('refused', error)\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); port = s.getsockname()[1]\n"
            "socket.create_connection(('127.0.0.1', port), timeout=3); print('loopback ok')\n")
    result = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    lines = result.stdout.splitlines()
    assert "CONNECTED" not in lines and sum(line.startswith("refused") for line in lines) == 3, result
    assert "loopback ok" in result.stdout
    targets = " ".join(entry["target"] for entry in _attempts(log))
    assert "203.0.113.7" in targets and "pypi.org" in targets and "198.51.100.1" in targets


@pytest.mark.slow
def test_ingest_ask_python_and_chat_make_no_outbound_connection(guarded, tmp_path):
    env, log = guarded
    steps = [
        [PYTHON, "-m", "seedqa.cli", "ingest", str(ROOT / "seeds")],
        [PYTHON, "-m", "seedqa.cli", "ask", QUESTION],
        [PYTHON, "-c", f"import qa; print(qa.answer({QUESTION!r}).text)"],
    ]
    for command in steps:
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert "165" in result.stdout

    # The chat server, guarded, driven over loopback by a client in this (unguarded) process.
    server = Server.start(tmp_path / "index", Path(os.environ["SEEDQA_CACHE_DIR"]),
                          extra_env={k: v for k, v in env.items() if k.startswith(("SEEDQA_NET", "PYTHONPATH",
                                                                                    "ANONYMIZED", "GRADIO", "HF_"))})
    try:
        session = client(server.url)
        answer = final_answer(session.predict(QUESTION, api_name="/ask"))
        follow_up = final_answer(session.predict("How many of them got through air defences?", api_name="/ask"))
        session.close()
    finally:
        server.stop()
    assert "165" in answer and "24" in follow_up

    assert len(_started(log).splitlines()) >= 4  # every process above ran with the guard
    assert _attempts(log) == []
