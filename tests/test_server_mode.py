"""Chroma server mode: a real `chroma run` on a free loopback port, several seedqa front ends.

With SEEDQA_CHROMA_URL, seedqa talks to the server through chromadb.HttpClient
and nothing of the index lives in the data directory. The lexical (BM25) side
is rebuilt from the server's chunks whenever another front end changes them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qa import Assistant
from seedqa.errors import SeedqaError
from seedqa.settings import Settings
from tests.faults import child_env, free_port, report_text, seedqa_cli, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
CHROMA = Path(sys.executable).parent / "chroma"
QUESTION = "How many drones did Russia fire at Ukraine overnight?"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """`chroma run --path TMP --host 127.0.0.1 --port FREE` from the venv; stopped afterwards."""
    # chromadb is a pinned dependency: a missing server command is a broken install.
    assert CHROMA.exists(), f"no {CHROMA}: reinstall with bash scripts/setup.sh --test"
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path.parent / "chroma-server.log").open("w")
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


def _front_end(url: str, collection: str, tmp_path: Path, name: str) -> Settings:
    """Settings of one front end: its own data dir (lock, uploads), the shared server."""
    return Settings(chroma_url=url, collection=collection, data_dir=tmp_path / name,
                    cache_dir=Path(os.environ["SEEDQA_CACHE_DIR"]))


def test_ingest_and_answer_through_the_server(chroma_server, tmp_path):
    settings = _front_end(chroma_server, "served", tmp_path, "front")
    assistant = Assistant(settings)
    report = assistant.add_documents([ROOT / "seeds"])
    assert report.count("added") == 1 and report.location == chroma_server
    answer = assistant.answer(QUESTION)
    assert "165" in answer.text and answer.citations
    # Nothing of the index is stored locally: only the write lock lives in the data dir.
    assert {p.name for p in settings.data_dir.iterdir()} <= {".seedqa-write.lock"}
    assert type(assistant.index._collections()[0]._client).__name__ != "PersistentClient"
    # Ingesting again through the server changes nothing.
    assert assistant.add_documents([ROOT / "seeds"]).count("unchanged") == 1


def test_two_front_ends_share_vectors_and_the_lexical_side(chroma_server, tmp_path):
    first = Assistant(_front_end(chroma_server, "shared", tmp_path, "first"))
    second = Assistant(_front_end(chroma_server, "shared", tmp_path, "second"))
    first.add_documents([ROOT / "seeds"])
    assert "165" in second.answer(QUESTION).text  # second built its corpus from the server

    # second adds a document; first, which has a corpus cached, must see it in BM25 too.
    note = tmp_path / "ferry.txt"
    note.write_text("Ferry Notes\n\nThe Quillon ferry to Skerrivore departs at 07:15 from pier 9.\n")
    second.add_documents([note])
    answer = first.answer("When does the Quillon ferry to Skerrivore depart?")
    assert "07:15" in answer.text
    cited = answer.citations[0]
    assert cited.source == str(note.resolve())
    assert cited.lexical_score is not None and cited.lexical_score > 0  # BM25 found it, not only vectors
    lexical_only = first.retrieve("Quillon Skerrivore", k=1)
    assert lexical_only[0].lexical_score and lexical_only[0].source == str(note.resolve())

    # A removal by one front end is seen by the other.
    second.remove_document(str(note.resolve()))
    assert all(c.source != str(note.resolve()) for c in first.retrieve("Quillon ferry Skerrivore", k=5))


def test_another_process_ingests_and_this_one_answers(chroma_server, tmp_path):
    settings = _front_end(chroma_server, "byprocess", tmp_path, "reader")
    reader = Assistant(settings)
    with pytest.raises(SeedqaError, match="seedqa ingest"):
        reader.answer(QUESTION)  # nothing there yet
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kilns.txt").write_text(report_text("Kiln Survey", 30, seed=5))
    env = child_env(tmp_path / "writer", Path(os.environ["SEEDQA_CACHE_DIR"]),
                    SEEDQA_CHROMA_URL=chroma_server, SEEDQA_COLLECTION="byprocess")
    result = seedqa_cli("ingest", str(docs), env=env)
    assert result.returncode == 0, result.stderr
    assert chroma_server in result.stdout
    sentence = report_text("Kiln Survey", 30, seed=5).splitlines()[9]
    district = sentence.split(" the council")[0]  # "In <place> district 7"
    answer = reader.answer(f"How many were counted in {district.removeprefix('In ')}, survey round 7?")
    # What this test is for: the reader process, which opened the index empty, now answers
    # from what the other process wrote (its vectors and its words). Which of thirty
    # look-alike sentences the reader picks is the reader model's business, not this test's.
    assert not answer.abstained, answer.text
    assert [Path(c.source).name for c in answer.citations] == ["kilns.txt"]
    assert any(district in c.text for c in reader.retrieve(answer.question)), district


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        settings = Settings(chroma_url=f"http://127.0.0.1:{port}", data_dir=tmp_path / "front")
        with pytest.raises(SeedqaError, match="Cannot reach the Chroma server"):
            Assistant(settings).answer(QUESTION)
        env = child_env(tmp_path / "front", Path(os.environ["SEEDQA_CACHE_DIR"]),
                        SEEDQA_CHROMA_URL=f"http://127.0.0.1:{port}")
        result = seedqa_cli("ask", QUESTION, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: Cannot reach the Chroma server")
