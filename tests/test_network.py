"""No outbound connection, ever: ingest, ask, the Python API, the chat and `seedqa serve` run with the network
guarded by an audit hook (tests/netguard/sitecustomize.py) that refuses and records every
non-loopback connect, send or name lookup. Afterwards, the record must be empty.

The hook sees what Python code does (Chroma's client, httpx, urllib, huggingface_hub,
gradio, posthog). Native code (Chroma's Rust core, the `chroma run` server, tokenizers)
opens sockets without passing through it, so a second test runs the same steps, and a
real `chroma run` server, under `strace -f` and checks every connect and send at the
system-call level: only loopback and local (Unix) sockets may appear.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from benchmarks.load import Server, client, final_answer
from tests.api_server import ApiServer
from tests.faults import PYTHON, ROOT, child_env, free_port, wait_for_port

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
def test_ingest_ask_python_chat_and_serve_make_no_outbound_connection(guarded, tmp_path):
    env, log = guarded
    steps = [
        [PYTHON, "-m", "cli", "ingest", str(ROOT / "seeds")],
        [PYTHON, "-m", "cli", "ask", QUESTION],
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

    # `seedqa serve` (the HTTP API, its docs page and the chat mounted in it), guarded the same way.
    api = ApiServer.start(tmp_path / "index", Path(os.environ["SEEDQA_CACHE_DIR"]),
                          extra_env={k: v for k, v in env.items() if k.startswith(
                              ("SEEDQA_NET", "PYTHONPATH", "ANONYMIZED", "GRADIO", "HF_"))})
    try:
        with httpx.Client(base_url=api.url, timeout=120) as http:
            assert "165" in http.post("/v1/answer", json={"question": QUESTION}).json()["text"]
            streamed = http.post("/v1/chat/completions", json={
                "model": "seedqa", "stream": True, "messages": [{"role": "user", "content": QUESTION}]})
            assert "165" in streamed.text and streamed.text.rstrip().endswith("data: [DONE]")
            for path in ("/docs", "/docs/assets/swagger-ui-bundle.js", "/openapi.json", "/chat/"):
                assert http.get(path).status_code == 200, path
    finally:
        api.stop()

    assert len(_started(log).splitlines()) >= 5  # every process above ran with the guard
    assert _attempts(log) == []


# --- the same at the system-call level: strace sees native code too ---------------------------

STRACE = shutil.which("strace")
_INET = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')


def _traced(log: Path) -> list[str]:
    """strace prefix: follow children, record connect and send calls (with their addresses)."""
    assert STRACE, "strace is missing: bash scripts/install_browser.sh installs it"
    return [STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log)]


def _inet_targets(*logs: Path) -> list[str]:
    """Every IPv4/IPv6 address a traced process connected or sent to."""
    return [match.group(1) or match.group(2) for log in logs if log.exists()
            for match in _INET.finditer(log.read_text(errors="replace"))]


def _outward(targets: list[str]) -> list[str]:
    def local(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        mapped = getattr(ip, "ipv4_mapped", None)
        return ip.is_loopback or (mapped is not None and mapped.is_loopback)

    return sorted({target for target in targets if not local(target)})


def test_the_system_call_check_sees_an_outbound_attempt(tmp_path):
    log = tmp_path / "strace.log"
    code = ("import socket\ntry:\n    socket.create_connection(('203.0.113.7', 9), timeout=1)\n"
            "except OSError:\n    pass\n")
    subprocess.run([*_traced(log), PYTHON, "-c", code], timeout=60, check=True)
    assert _outward(_inet_targets(log)) == ["203.0.113.7"]


@pytest.mark.slow
def test_no_process_connects_outward_at_the_system_call_level(guarded, tmp_path):
    env, _ = guarded
    env = {k: v for k, v in env.items() if k not in ("SEEDQA_NETGUARD_LOG", "PYTHONPATH")}
    logs = [tmp_path / f"strace-{name}.log"
            for name in ("ingest", "ask", "server", "remote-ingest", "remote-ask", "chat", "serve")]
    for command, log in ((["ingest", str(ROOT / "seeds")], logs[0]), (["ask", QUESTION], logs[1])):
        result = subprocess.run([*_traced(log), PYTHON, "-m", "cli", *command], env=env,
                                cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert "165" in result.stdout

    # A real Chroma server (native code) and a front end asking through it.
    port = free_port()
    server = subprocess.Popen([*_traced(logs[2]), str(Path(PYTHON).parent / "chroma"), "run",
                               "--path", str(tmp_path / "served"), "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, server)
        remote = dict(env, SEEDQA_CHROMA_URL=f"http://127.0.0.1:{port}",
                      SEEDQA_DATA_DIR=str(tmp_path / "front"))
        for command, log in ((["ingest", str(ROOT / "seeds")], logs[3]), (["ask", QUESTION], logs[4])):
            result = subprocess.run([*_traced(log), PYTHON, "-m", "cli", *command], env=remote,
                                    cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
        assert "165" in result.stdout
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

    chat = Server.start(tmp_path / "index", Path(os.environ["SEEDQA_CACHE_DIR"]),
                        extra_env={k: v for k, v in env.items()
                                   if k.startswith(("ANONYMIZED", "GRADIO", "HF_"))},
                        wrapper=_traced(logs[5]))
    try:
        session = client(chat.url)
        assert "165" in final_answer(session.predict(QUESTION, api_name="/ask"))
        session.close()
    finally:
        chat.stop()

    api = ApiServer.start(tmp_path / "index", Path(os.environ["SEEDQA_CACHE_DIR"]),
                          extra_env={k: v for k, v in env.items()
                                     if k.startswith(("ANONYMIZED", "GRADIO", "HF_"))},
                          wrapper=_traced(logs[6]))
    try:
        answered = httpx.post(f"{api.url}/v1/chat/completions", timeout=120, json={
            "model": "seedqa", "messages": [{"role": "user", "content": QUESTION}]})
        assert "165" in answered.json()["choices"][0]["message"]["content"]
        assert httpx.get(f"{api.url}/docs", timeout=60).status_code == 200
    finally:
        api.stop()

    targets = _inet_targets(*logs)
    assert "127.0.0.1" in targets  # the trace saw the front ends' loopback traffic to the server
    assert _outward(targets) == []

