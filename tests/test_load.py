"""A small version of benchmarks/load.py, in the suite: concurrent chat sessions against the
served app over loopback get the same answers as one user, with no errors.

The full run (20 sessions x 25 questions) is `python -m benchmarks.load`; its figures are in
benchmarks/results/load.json and RELIABILITY.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from benchmarks.load import Server, holds_an_accepted_answer, measure, questions, run_sessions
from qa import Assistant
from seedqa.settings import Settings
from ui.app import build_app
from ui.server import launch


@pytest.mark.slow
def test_concurrent_sessions_get_single_user_answers_without_errors(tmp_path):
    server = Server.start(tmp_path / "index", Path(os.environ["SEEDQA_CACHE_DIR"]))
    try:
        result = measure(server.url, server, sessions=6, per_session=8)
    finally:
        server.stop()
    assert result["requests"] == 48
    assert result["errors"] == 0, result["error_examples"]
    assert result["answers_differing_from_single_user"] == 0
    assert result["single_user_answers_holding_an_accepted_answer"] == 8  # and they are right
    # Memory: the run must not grow the server by more than a little (no per-request leak).
    memory = result["server_rss_mb"]
    assert memory["after"] < memory["before"] * 1.25 + 50, memory
    # Generous bound on a shared 2-core machine; the benchmark reports the real figures.
    assert result["latency_s"]["p95"] < 20, result["latency_s"]


def test_the_chat_keeps_at_most_max_sessions_conversations(seed_index, tmp_path):
    # Gradio keeps each session's conversation (also the chat's last value, which its state
    # expiry does not free) and a record of each request; seedqa bounds both, so the server's
    # memory is bounded.
    shutil.copytree(seed_index.data_dir, tmp_path / "index")
    settings = Settings(data_dir=tmp_path / "index", cache_dir=seed_index.cache_dir, port=0,
                        max_sessions=3)
    demo = build_app(Assistant(settings), settings)
    url = launch(demo, settings, block=False)
    try:
        record = questions(1)[0]
        sessions = asyncio.run(run_sessions(url, 7, [record["question"]]))
        kept = len(demo.state_holder.session_data)
        request_records = demo._queue.ANALYTICS_MAX_EVENTS  # Gradio's per-request log, capped
    finally:
        demo.close()
    assert all(holds_an_accepted_answer(answer, record) for [(answer, _, _)] in sessions), sessions
    assert 1 <= kept <= 3
    assert request_records == 1000
