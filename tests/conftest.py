"""Shared fixtures. Everything is real: the embedding model, Chroma on disk in a
temp dir, tiktoken from the packaged BPE files. The model loads once per test
session (store.shared_embedder) and the seed index is built once per session.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from seedqa.offline import quiet_environment  # isort: skip

quiet_environment()  # quiets telemetry before anything else loads

from seedqa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_QUESTIONS = Path(__file__).parent / "data" / "seed_questions.jsonl"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real index or cache."""
    monkeypatch.setenv("SEEDQA_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("SEEDQA_CACHE_DIR", str(_session_cache(tmp_path_factory)))


_CACHE: list[Path] = []


def _session_cache(factory) -> Path:
    if not _CACHE:
        _CACHE.append(factory.mktemp("cache"))
    return _CACHE[0]


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings for a fresh, empty index in this test's temp dir."""
    return Settings(data_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Settings:
    """Settings of an index holding the seed document, built once. Read-only for tests."""
    from ingest import ingest_paths

    settings = Settings(data_dir=tmp_path_factory.mktemp("seed-index"),
                        cache_dir=_session_cache(tmp_path_factory))
    report = ingest_paths([SEEDS], settings)
    assert not report.errors, report.errors
    return settings


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    """A private copy of seeds/ that a test may change."""
    target = tmp_path / "docs"
    shutil.copytree(SEEDS, target)
    return target


def assistant_over(factory, files: dict[str, str]):
    """An assistant over a fresh index of `files` (name -> text), for a module's tests."""
    from qa import Assistant

    root = factory.mktemp("docs")
    docs = root / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text)
    assistant = Assistant(Settings(data_dir=root / "data", cache_dir=_session_cache(factory)))
    assistant.add_documents([docs])
    return assistant


def seed_questions() -> list[dict]:
    return [json.loads(line) for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def gguf(tmp_path_factory) -> Path:
    """The packaged Gemma 3 270M GGUF, assembled once per test session."""
    from tests.llm_server import assemble_gguf

    return assemble_gguf(tmp_path_factory.mktemp("gguf"))


@pytest.fixture(scope="session")
def llm_server(gguf, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server on loopback, one per test session."""
    from tests.llm_server import start_llm_server

    yield from start_llm_server(gguf, tmp_path_factory.mktemp("llm-server"))
