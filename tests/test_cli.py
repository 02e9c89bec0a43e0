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


@pytest.mark.parametrize("command", [[], ["ingest"], ["ask"], ["search"], ["chat"], ["eval"],
                                     ["documents"]])
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


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A data dir with the seed report, for the read-side commands."""
    data = tmp_path_factory.mktemp("cli-index")
    result = CliRunner().invoke(main, ["ingest", "--data-dir", str(data), str(SEEDS)])
    assert result.exit_code == 0, result.output
    return data


QUESTION = "How many drones did Russia fire at Ukraine overnight?"


@pytest.mark.parametrize("args", [["ask", "-"], ["ask"]])
def test_ask_reads_a_piped_question(indexed, args):
    result = CliRunner().invoke(main, [*args, "--data-dir", str(indexed)], input=QUESTION + "\n")
    assert result.exit_code == 0, result.output
    assert "165" in result.output and "Sources:" in result.output


def test_data_dir_goes_before_or_after_the_command(indexed):
    before = CliRunner().invoke(main, ["--data-dir", str(indexed), "ask", "--json", QUESTION])
    after = CliRunner().invoke(main, ["ask", "--json", QUESTION, "--data-dir", str(indexed)])
    assert before.exit_code == after.exit_code == 0, before.output + after.output
    assert json.loads(before.output)["text"] == json.loads(after.output)["text"]


def test_documents_as_json(indexed):
    result = CliRunner().invoke(main, ["documents", "--json", "--data-dir", str(indexed)])
    assert result.exit_code == 0, result.output
    [document] = json.loads(result.output)
    assert document["date"] == "2026-01-27" and document["chunks"] > 0
    assert document["source"].endswith("000_058eabdb224c7ed9.txt")


def test_search_is_retrieval_alone(indexed):
    result = CliRunner().invoke(main, ["search", "Geran-5 warhead", "--k", "2", "--json",
                                       "--data-dir", str(indexed)])
    assert result.exit_code == 0, result.output
    passages = json.loads(result.output)
    assert len(passages) == 2 and passages[0]["score"] >= passages[1]["score"]
    assert "Geran-5" in passages[0]["text"]
    shown = CliRunner().invoke(main, ["search", "Geran-5 warhead", "--data-dir", str(indexed)])
    assert shown.output.startswith("[1] ") and "[5] " in shown.output


def test_bytes_that_are_not_utf8_are_one_clear_line(indexed):
    """`seedqa ask $'caf\\xe9'` from a Latin-1 terminal: refused in words, no traceback."""
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "cli", "--data-dir", str(indexed), "ask",
                             b"caf\xe9 drones"], capture_output=True, timeout=120,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "not valid UTF-8" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
