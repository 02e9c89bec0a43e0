"""A small version of benchmarks/load.py, in the suite: concurrent chat sessions against the
served app over loopback get the same answers as one user, with no errors.

The full run (20 sessions x 25 questions) is `python -m benchmarks.load`; its figures are in
benchmarks/results/load.json and RELIABILITY.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.load import Server, measure


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
    # Memory: the run must not grow the server by more than a little (no per-request leak).
    memory = result["server_rss_mb"]
    assert memory["after"] < memory["before"] * 1.25 + 50, memory
    # Generous bound on a shared 2-core machine; the benchmark reports the real figures.
    assert result["latency_s"]["p95"] < 20, result["latency_s"]
