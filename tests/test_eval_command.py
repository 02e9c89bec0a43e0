"""`seedqa eval` end to end: the real assistant on the seed document, every file written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner


ROOT = Path(__file__).resolve().parents[1]
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


# --- end to end: the real assistant on the seed document ----------------------------


@pytest.fixture(scope="module")
def seed_eval(tmp_path_factory):
    """`seedqa eval` on the seed questions, ingesting seeds/ into a fresh index."""
    from cli.eval import eval_command

    out = tmp_path_factory.mktemp("eval") / "out"
    args = [str(SEED_QUESTIONS), "--docs", str(ROOT / "seeds"), "--out", str(out),
            "--no-progress", "--min-recall-at-5", "0.5", "--max-false-abstention", "0.5"]
    result = CliRunner().invoke(eval_command, args)
    return result, out


def test_eval_command_writes_every_file(seed_eval):
    result, out = seed_eval
    assert result.exit_code == 0, result.output
    assert "16 questions: 14 answerable, 2 unanswerable" in result.output
    assert "floor passed: recall@5" in result.output
    summary = json.loads((out / "results.json").read_text())
    metrics = summary["metrics"]
    for name in ("recall@1", "recall@5", "recall@10", "mrr", "accuracy", "abstention",
                 "false_abstention", "citation_correctness", "citation_precision",
                 "seconds_median", "seconds_p95", "ingest_seconds", "chunks_per_second",
                 "peak_memory_mb"):
        assert name in metrics, name
    assert metrics["ingest_chunks"] > 0 and metrics["peak_memory_mb"] > 0
    assert metrics["warmup_seconds"] > 0
    assert summary["settings"]["data_dir"] == str(out / "index")
    assert summary["machine"]["cpus"] >= 1 and summary["date"]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == [f"seed-{n:02d}" for n in range(1, 17)]
    assert all(isinstance(line["correct"], bool) and line["why"] for line in lines)
    follow_up = lines[-1]
    assert follow_up["history"] == ["How many drones did Russia fire at Ukraine overnight?"]
    assert (out / "report.md").read_text().startswith("# seedqa evaluation")
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("data:image/png;base64,") == 3


def test_eval_command_fails_below_a_floor(seed_eval, tmp_path):
    """A floor no run can meet fails with a line naming it; the report is still written."""
    from cli import main

    _, out = seed_eval
    args = ["--data-dir", str(out / "index"),  # the index the first run built
            "eval", str(SEED_QUESTIONS), "--out", str(tmp_path / "again"), "--no-progress",
            "--limit", "3", "--max-p95-seconds", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "floor failed: seconds_p95 = " in result.output
    assert "is above --max-p95-seconds 0" in result.output
    summary = json.loads((tmp_path / "again" / "results.json").read_text())
    assert summary["docs"] is None and summary["metrics"]["questions"] == 3
    assert summary["index"] == str(out / "index")
    assert summary["floors"][0]["verdict"] == "failed"
