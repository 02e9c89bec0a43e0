"""The command line, through click's runner (in-process, real index)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import SEEDS


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["--data-dir", str(tmp_path / "index"), *args])

    return invoke


@pytest.mark.parametrize("command", [[], ["ingest"], ["ask"], ["chat"], ["eval"], ["documents"]])
def test_help_explains_each_command(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_ask_before_ingest_says_what_to_do(run):
    result = run("ask", "How many drones?")
    assert result.exit_code == 1
    assert "seedqa ingest" in result.output
    assert "Traceback" not in result.output


def test_ingest_then_ask(run):
    ingested = run("ingest", str(SEEDS))
    assert ingested.exit_code == 0, ingested.output
    assert "1 added" in ingested.output
    again = run("ingest", str(SEEDS))
    assert "1 unchanged" in again.output and "0 added" in again.output

    answered = run("ask", "How many drones did Russia fire at Ukraine overnight?")
    assert answered.exit_code == 0
    assert "165" in answered.output and "[1]" in answered.output
    assert "2026-01-27" in answered.output and "Sources:" in answered.output

    as_json = run("ask", "--json", "What is the population of Odesa?")
    data = json.loads(as_json.output)
    assert data["abstained"] is True and data["citations"]

    listed = run("documents")
    assert "2026-01-27" in listed.output and "chunks" in listed.output


def test_empty_question_is_one_clear_line(run):
    run("ingest", str(SEEDS))
    result = run("ask", "   ")
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: The question is empty")


def test_ingest_reports_failures_with_nonzero_exit(run, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    result = run("ingest", str(tmp_path / "empty.txt"))
    assert result.exit_code == 1
    assert "empty" in result.output
