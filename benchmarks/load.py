"""Load: many chat sessions at once against the running Gradio app, over loopback.

    .venv/bin/python -m benchmarks.load                       # 20 sessions x 25 questions
    .venv/bin/python -m benchmarks.load --sessions 4 --questions 5 --out /tmp/load.json

It builds an index of seeds/ in a temporary data dir, starts `seedqa chat` as a
separate process (so the clients' CPU is not counted as the server's), and:

1. asks the questions once, in one session, one at a time: the reference answers;
2. runs N sessions at once, each asking the same questions in the same order in
   its own Gradio session (so follow-ups use its own history), as a browser tab
   does: join the queue, read the event stream to the final answer, and keep a
   heartbeat open while the session lasts (closing it lets Gradio free the
   session's state);
3. compares every answer with the reference, counts errors, and reports latency
   (p50, p95, max, per question, from submit to the final answer) and the
   server's resident memory (sampled every 0.25 s) before, during and after.

The questions are the shared seed questions (tests/data/seed_questions.jsonl),
repeated in order to make up the count. Results go to benchmarks/results/load.json.

The sessions are coroutines on one thread speaking Gradio's HTTP protocol with
httpx, not `gradio_client.Client`s in threads: each of those polls its queue
every 50 ms and deep-copies the whole conversation on every streamed update,
and 20 of them used about 1.2 of the machine's 2 cores, twice the server's
share, so the figures measured the load generator more than seedqa.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "load.json"


def questions(count: int) -> list[dict]:
    """The seed question records (question, answers, answerable), repeated to make `count`."""
    pool = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [pool[i % len(pool)] for i in range(count)]


def holds_an_accepted_answer(answer_html: str | None, record: dict) -> bool:
    """Whether the reference answer is right: so identical answers under load mean right ones."""
    if not answer_html or not record.get("answerable", True):
        return bool(answer_html)
    text = html.unescape(re.sub(r"<[^>]+>", " ", answer_html)).lower()
    return any(accepted.lower() in text for accepted in record["answers"])


@dataclass
class Server:
    """`seedqa chat` in its own process, on a free loopback port."""

    process: subprocess.Popen
    url: str
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (time, MB)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, data_dir: Path, cache_dir: Path, extra_env: dict[str, str] | None = None,
              timeout: float = 300, wrapper: Sequence[str] = ()) -> Server:
        """Start the chat; `wrapper` runs it under another command (the network test's strace)."""
        env = dict(os.environ, SEEDQA_DATA_DIR=str(data_dir), SEEDQA_CACHE_DIR=str(cache_dir),
                   PYTHONUNBUFFERED="1", **(extra_env or {}))
        process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "cli", "chat", "--host", "127.0.0.1",
             "--port", "0", str(ROOT / "seeds")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)  # its own process group, stopped whole (wrapper and all)
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"seedqa chat exited: {''.join(lines)}")
            lines.append(line)
            if "seedqa chat is running at" in line:
                url = line.rsplit(" ", 1)[1].strip()
                server = cls(process, url)
                threading.Thread(target=server._drain, daemon=True).start()
                threading.Thread(target=server._sample, daemon=True).start()
                return server
        process.kill()
        raise RuntimeError(f"seedqa chat did not start within {timeout} s: {''.join(lines)}")

    def _drain(self) -> None:
        for _ in self.process.stdout:
            pass

    def _sample(self) -> None:
        while not self._stop.is_set() and self.process.poll() is None:
            self.rss_samples.append((time.monotonic(), rss_mb(self.process.pid)))
            time.sleep(0.25)

    def rss_now(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        self._stop.set()
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def client(url: str, auth: tuple[str, str] | None = None):
    """A gradio_client session: its own Gradio session (and so its own conversation)."""
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False, auth=auth)


def final_answer(result) -> str:
    """The last chat bubble's HTML from the `ask` endpoint's result (chatbot, textbox)."""
    messages = result[0] if isinstance(result, (list, tuple)) else result
    content = messages[-1]["content"]
    if isinstance(content, list):  # Gradio 6: a list of parts such as {"type": "text", "text": ...}
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


@dataclass(frozen=True)
class Endpoint:
    """The chat's `ask` event, read from the app's config: its index and which inputs are state."""

    url: str
    fn_index: int
    is_state: tuple[bool, ...]

    @classmethod
    def find(cls, url: str, api_name: str = "ask") -> Endpoint:
        config = httpx.get(url + "config", timeout=30).raise_for_status().json()
        kinds = {component["id"]: component["type"] for component in config["components"]}
        for index, dependency in enumerate(config["dependencies"]):
            if dependency.get("api_name") == api_name:
                return cls(url, dependency.get("id", index),
                           tuple(kinds[i] == "state" for i in dependency["inputs"]))
        raise RuntimeError(f"{url} has no {api_name!r} endpoint")

    def payload(self, question: str, session_hash: str) -> dict:
        # State inputs are sent empty: the server keeps each session's state itself.
        values = iter([question])
        data = [None if state else next(values, None) for state in self.is_state]
        return {"data": data, "fn_index": self.fn_index, "session_hash": session_hash,
                "event_data": None, "trigger_id": None}


async def ask_once(http: httpx.AsyncClient, endpoint: Endpoint, question: str,
                   session_hash: str) -> list:
    """Join the queue with one question and read the session's event stream to its final output."""
    joined = (await http.post(endpoint.url + "gradio_api/queue/join",
                              json=endpoint.payload(question, session_hash))).raise_for_status()
    event_id = joined.json()["event_id"]
    async with http.stream("GET", endpoint.url + "gradio_api/queue/data",
                           params={"session_hash": session_hash}) as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                if not message.get("success", True):
                    raise RuntimeError(f"the app failed: {message.get('output')}")
                return message["output"]["data"]
    raise RuntimeError("the event stream closed before the answer was complete")


async def _heartbeat(http: httpx.AsyncClient, url: str, session_hash: str) -> None:
    async with http.stream("GET", f"{url}gradio_api/heartbeat/{session_hash}") as stream:
        async for _ in stream.aiter_bytes():
            pass


async def run_session(http: httpx.AsyncClient, endpoint: Endpoint,
                      asked: list[str]) -> list[tuple[str | None, float, str | None]]:
    """Ask `asked` in order in one new session: (answer html, seconds, error) per question."""
    session_hash = uuid.uuid4().hex
    heartbeat = asyncio.create_task(_heartbeat(http, endpoint.url, session_hash))
    out = []
    for question in asked:
        began = time.perf_counter()
        try:
            answer = final_answer(await ask_once(http, endpoint, question, session_hash))
            seconds = time.perf_counter() - began
            # An error bubble (the app caught something) is an error too.
            out.append((answer, seconds, "error bubble: " + answer if "seedqa-error" in answer else None))
        except Exception as error:  # a failed request is a result to count, not a crash
            out.append((None, time.perf_counter() - began, f"{type(error).__name__}: {error}"))
    heartbeat.cancel()
    return out


async def run_sessions(url: str, sessions: int, asked: list[str]) -> list[list[tuple]]:
    endpoint = Endpoint.find(url)
    limits = httpx.Limits(max_connections=4 * sessions + 4, max_keepalive_connections=4 * sessions)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120), limits=limits) as http:
        return list(await asyncio.gather(*(run_session(http, endpoint, asked)
                                           for _ in range(sessions))))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def measure(url: str, server: Server | None, sessions: int, per_session: int) -> dict:
    records = questions(per_session)
    asked = [record["question"] for record in records]
    [reference] = asyncio.run(run_sessions(url, 1, asked))  # also warms the index up
    reference_errors = [error for _, _, error in reference if error]
    single = [seconds for _, seconds, _ in reference]
    rss_before = server.rss_now() if server else None
    began = time.monotonic()
    results = asyncio.run(run_sessions(url, sessions, asked))
    elapsed = time.monotonic() - began
    latencies = [seconds for session in results for _, seconds, _ in session]
    errors = [error for session in results for _, _, error in session if error]
    mismatches = sum(answer is not None and answer != reference[i][0]
                     for session in results for i, (answer, _, _) in enumerate(session))
    during = [mb for t, mb in (server.rss_samples if server else []) if t >= began]
    time.sleep(1)
    return {
        "sessions": sessions,
        "questions_per_session": per_session,
        "requests": sessions * per_session,
        "errors": len(errors) + len(reference_errors),
        "error_examples": (reference_errors + errors)[:5],
        "answers_differing_from_single_user": mismatches,
        "single_user_answers_holding_an_accepted_answer": sum(
            holds_an_accepted_answer(answer, record)
            for (answer, _, _), record in zip(reference, records)),
        "single_user_latency_s": {"p50": round(statistics.median(single), 3),
                                  "p95": round(percentile(single, 0.95), 3)},
        "latency_s": {"p50": round(statistics.median(latencies), 3),
                      "p95": round(percentile(latencies, 0.95), 3),
                      "max": round(max(latencies), 3)},
        "throughput_per_s": round(len(latencies) / elapsed, 2),
        "wall_s": round(elapsed, 1),
        "server_rss_mb": None if server is None else {
            "before": round(rss_before, 1),
            "peak_during": round(max(during), 1) if during else None,
            "after": round(server.rss_now(), 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=25, help="per session")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the concurrent run; the report keeps each")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="seedqa-load-") as tmp:
        server = Server.start(Path(tmp) / "index", Path(tmp) / "cache")
        try:
            rounds = [measure(server.url, server, args.sessions, args.questions) for _ in range(args.rounds)]
        finally:
            server.stop()
    from seedqa.settings import Settings

    report = {
        "what": "concurrent chat sessions against `seedqa chat` over loopback (httpx, one event loop)",
        "command": " ".join([*(f"{k}={v}" for k, v in sorted(os.environ.items())
                               if k.startswith("SEEDQA_")), "python -m benchmarks.load",
                             *sys.argv[1:]]),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "concurrency_limit": Settings().concurrency_limit,
        "max_sessions": Settings().max_sessions,
        "answerer": "extractive (default)",
        "rounds": rounds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
