"""Corrupted stores and repair: real Chroma files damaged on disk, then every door tried.

Each index is built for real (the seed document, or about 1,100 short
paragraphs: enough that Chroma has flushed its vectors to the HNSW folder
and purged its write log, as in any index of some size), copied, and damaged
the way a disk, a crash or a careless hand would: chroma.sqlite3 cut in half,
its header overwritten, random bytes written into it, emptied, deleted; the
chunks' HNSW folder deleted; its data_level0.bin cut short. Every command
must answer with one line naming the fix, write nothing over the old files,
and `seedqa repair` must bring back what the SQLite file still holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ingest import ingest_paths
from qa import Assistant
from seedqa.errors import ForeignCollectionError, IndexCorruptError, IndexNotReadyError
from seedqa.settings import Settings
from tests.conftest import SEEDS
from tests.faults import PYTHON, ROOT, child_env, report_text, seedqa_cli

QUESTION = "How many drones did Russia fire at Ukraine overnight?"
SQLITE_DAMAGE = ["cut_in_half", "header_overwritten", "random_bytes", "zero_bytes", "deleted"]
VECTOR_DAMAGE = ["hnsw_folder_deleted", "data_level0_truncated"]


# --- building and damaging -------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_index(tmp_path_factory, seed_index) -> Settings:
    """~1,100 chunks in three documents: Chroma has persisted the HNSW and purged its log."""
    root = tmp_path_factory.mktemp("large")
    docs = root / "docs"
    docs.mkdir()
    for part in range(3):
        lines = report_text(f"Harbour Survey {part}", 370, seed=40 + part).splitlines()
        # One sentence a paragraph: one short chunk each (cheap to embed).
        (docs / f"survey{part}.txt").write_text(lines[0] + "\n\n" + "\n\n".join(lines[2:]) + "\n")
    settings = Settings(data_dir=root / "index", cache_dir=seed_index.cache_dir)
    report = ingest_paths([docs], settings)
    assert not report.errors and report.chunks_added > 1000
    return settings


def _copy(settings: Settings, tmp_path: Path, name: str = "index") -> Settings:
    target = tmp_path / name
    shutil.copytree(settings.data_dir, target)
    return settings.model_copy(update={"data_dir": target})


def _chunk_segment(data_dir: Path) -> Path:
    """The chunks collection's HNSW folder, read from Chroma's own tables."""
    with sqlite3.connect(f"file:{data_dir / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
        [(segment,)] = db.execute(
            "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
            "WHERE s.scope = 'VECTOR' AND c.name LIKE '%\\_chunks' ESCAPE '\\'").fetchall()
    return data_dir / segment


def _damage(data_dir: Path, case: str) -> None:
    database = data_dir / "chroma.sqlite3"
    size = database.stat().st_size
    if case == "cut_in_half":
        os.truncate(database, size // 2)
    elif case == "header_overwritten":
        with database.open("r+b") as file:
            file.write(b"\0" * 100)
    elif case == "random_bytes":
        rng = random.Random(13)
        with database.open("r+b") as file:
            for _ in range(20):
                file.seek(rng.randrange(4096, size - 512))
                file.write(rng.randbytes(512))
    elif case == "zero_bytes":
        os.truncate(database, 0)
    elif case == "deleted":
        database.unlink()
        assert any(path.is_dir() for path in data_dir.iterdir())  # the HNSW folders remain
    elif case == "hnsw_folder_deleted":
        shutil.rmtree(_chunk_segment(data_dir))
    elif case == "data_level0_truncated":
        level0 = _chunk_segment(data_dir) / "data_level0.bin"
        os.truncate(level0, level0.stat().st_size // 2)
    else:
        raise ValueError(case)


def _files(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its content's hash: what must not change."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": QUESTION, "answers": ["165"],
                                "answerable": True}) + "\n")
    return path


def _cli(settings: Settings, *args: str):
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def _one_error_line(output: str) -> str:
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, output
    return lines[0]


# --- a damaged SQLite file --------------------------------------------------------------------


@pytest.mark.parametrize("case", SQLITE_DAMAGE)
def test_a_damaged_sqlite_file_is_one_line_from_every_door_and_nothing_is_written(
        case, seed_index, tmp_path):
    settings = _copy(seed_index, tmp_path)
    _damage(settings.data_dir, case)
    before = _files(settings.data_dir)
    note = tmp_path / "note.txt"
    note.write_text(report_text("Kiln Survey", 12, seed=3))
    questions = _questions(tmp_path)

    assistant = Assistant(settings)
    for call in (lambda: assistant.answer(QUESTION), lambda: assistant.retrieve(QUESTION),
                 assistant.documents, lambda: assistant.add_documents([note])):
        with pytest.raises(IndexCorruptError) as caught:
            call()
        message = str(caught.value)
        assert "\n" not in message and "seedqa ingest" in message and "repair" in message
        assert str(settings.data_dir) in message
    for args in (["ask", QUESTION], ["documents"], ["ingest", str(note)],
                 ["eval", str(questions), "--out", str(tmp_path / "eval"), "--no-progress"]):
        result = _cli(settings, *args)
        assert result.exit_code == 1, (args, result.output)
        line = _one_error_line(result.output)
        assert "is damaged" in line and "seedqa ingest" in line, line
    # No fresh index over the old files, no write into the broken one.
    assert _files(settings.data_dir) == before
    assert (case == "deleted") == (not (settings.data_dir / "chroma.sqlite3").exists())


def test_a_real_process_prints_one_line_for_a_damaged_store(seed_index, tmp_path):
    settings = _copy(seed_index, tmp_path)
    _damage(settings.data_dir, "random_bytes")
    env = child_env(settings.data_dir, settings.cache_dir)
    for args in (["ask", QUESTION], ["documents"], ["ingest", str(SEEDS)]):
        result = seedqa_cli(*args, env=env)
        assert result.returncode == 1
        line = _one_error_line(result.stderr)
        assert "integrity check" in line and "seedqa ingest" in line


# --- lost or cut vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTOR_DAMAGE)
def test_lost_vectors_are_detected_and_repair_brings_every_chunk_back(
        case, large_index, tmp_path):
    original = Assistant(large_index)
    asked = "How many lanterns did the council count in survey round 70 of the harbour survey 1?"
    expected = [c.chunk_id for c in original.retrieve(asked, k=10)]
    chunk_count = sum(record.chunks for record in original.documents())
    settings = _copy(large_index, tmp_path)
    uploads = settings.data_dir / "uploads"
    uploads.mkdir()
    (uploads / "kept.txt").write_text("An upload that must survive the repair.\n")
    _damage(settings.data_dir, case)

    damaged = Assistant(settings)
    with pytest.raises(IndexCorruptError) as caught:
        damaged.retrieve(asked)
    assert caught.value.repairable and "repair" in str(caught.value)
    # Ingest must refuse too, not keep writing into the broken index.
    note = tmp_path / "note.txt"
    note.write_text(report_text("Kiln Survey", 12, seed=3))
    refused = _cli(settings, "ingest", str(note))
    assert refused.exit_code == 1 and "is damaged" in _one_error_line(refused.output)

    repaired = _cli(settings, "repair")
    assert repaired.exit_code == 0, repaired.output
    assert f"3 documents and {chunk_count} chunks recovered" in repaired.output
    assert "no document was lost" in repaired.output
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("index.damaged-")]
    assert str(aside) in repaired.output and (aside / "chroma.sqlite3").exists()
    assert (uploads / "kept.txt").read_text().startswith("An upload")  # moved into the new one

    fresh = Assistant(settings)
    assert [c.chunk_id for c in fresh.retrieve(asked, k=10)] == expected  # the same vectors
    assert sorted(r.source for r in fresh.documents()) == sorted(
        r.source for r in original.documents())
    assert str(note.resolve()) not in {r.source for r in fresh.documents()}
    assert _cli(settings, "repair").output.strip().endswith("nothing to repair.")


def test_repair_says_what_it_could_not_rebuild(large_index, tmp_path):
    """A document missing some of its chunks is left out, named, and the exit status says so."""
    settings = _copy(large_index, tmp_path)
    _damage(settings.data_dir, "hnsw_folder_deleted")
    # Not opened through Chroma in this process first: it would keep the vectors in memory.
    with sqlite3.connect(settings.data_dir / "chroma.sqlite3") as db:  # a chunk's record is lost
        source = min(value for (value,) in db.execute(
            "SELECT DISTINCT string_value FROM embedding_metadata WHERE key = 'source'"))
        [(row,)] = db.execute(
            "SELECT e.id FROM embeddings e JOIN embedding_metadata m ON m.id = e.id "
            "WHERE m.key = 'source' AND m.string_value = ? AND e.segment_id IN ("
            "  SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id"
            "  WHERE c.name LIKE '%\\_chunks' ESCAPE '\\') LIMIT 1", (source,)).fetchall()
        db.execute("DELETE FROM embedding_metadata WHERE id = ?", (row,))
        db.execute("DELETE FROM embeddings WHERE id = ?", (row,))
    result = _cli(settings, "repair")
    assert result.exit_code == 1, result.output
    assert "2 documents" in result.output and f"re-ingest them: {source}" in result.output
    assert source not in {record.source for record in Assistant(settings).documents()}


def test_repair_of_an_unreadable_store_sets_it_aside_for_a_reingest(seed_index, tmp_path):
    settings = _copy(seed_index, tmp_path)
    (settings.data_dir / "uploads").mkdir()
    (settings.data_dir / "uploads" / "kept.txt").write_text("An upload.\n")
    _damage(settings.data_dir, "header_overwritten")
    result = _cli(settings, "repair")
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert "Nothing can be rebuilt" in line and "seedqa ingest PATH" in line
    assert "uploads" in line
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("index.damaged-")]
    assert (aside / "chroma.sqlite3").read_bytes()[:16] == b"\0" * 16
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["uploads"]
    with pytest.raises(IndexNotReadyError):
        Assistant(settings).answer(QUESTION)
    assert _cli(settings, "ingest", str(SEEDS)).exit_code == 0
    assert "165" in Assistant(settings).answer(QUESTION).text


def test_a_sound_index_opens_after_rewrites_and_repair_leaves_it_alone(seed_index, tmp_path,
                                                                       seed_copy):
    """No false alarm: many versions written and deleted, then a fresh open checks clean."""
    settings = _copy(seed_index, tmp_path)
    [path] = sorted(seed_copy.iterdir())
    text = path.read_text()
    for round_ in range(4):
        path.write_text(f"Revision {round_}\n\n" + text)
        assert not ingest_paths([seed_copy], settings).errors
    before = _files(settings.data_dir)
    result = _cli(settings, "repair")
    assert result.exit_code == 0 and "nothing to repair" in result.output
    assert _files(settings.data_dir) == before
    assert "165" in Assistant(settings).answer(QUESTION).text


# --- reads create nothing ----------------------------------------------------------------------


@pytest.mark.parametrize("exists", [False, True])
def test_reads_on_no_index_create_no_files(exists, tmp_path, monkeypatch):
    import qa

    data = tmp_path / "index"
    if exists:
        data.mkdir()
    monkeypatch.setenv("SEEDQA_DATA_DIR", str(data))
    settings = Settings()
    qa.set_default_assistant(None)
    assistant = Assistant(settings)
    for call in (lambda: assistant.answer(QUESTION), lambda: assistant.retrieve(QUESTION),
                 assistant.documents, lambda: qa.answer(QUESTION), lambda: qa.retrieve(QUESTION)):
        with pytest.raises(IndexNotReadyError, match="Add some first: seedqa ingest PATH"):
            call()
    questions = _questions(tmp_path)
    for args in (["ask", QUESTION], ["documents"],
                 ["eval", str(questions), "--out", str(tmp_path / "eval"), "--no-progress"]):
        result = _cli(settings, *args)
        assert result.exit_code == 1 and "Add some first" in _one_error_line(result.output)
    assert data.exists() == exists and (not exists or list(data.iterdir()) == [])
    # A write creates the index as before.
    assert _cli(settings, "ingest", str(SEEDS)).exit_code == 0
    assert (data / "chroma.sqlite3").exists() and len(assistant.documents()) == 1


FOREIGN = """
import sys
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_chroma import Chroma
from index import shared_embedder
from seedqa.settings import Settings

class SeedqaEmbeddings(Embeddings):  # seedqa's own model behind LangChain's interface
    def __init__(self):
        settings = Settings()
        self.model = shared_embedder(settings.embedding_model, settings.embed_batch_size)
    def embed_documents(self, texts):
        return [list(map(float, row)) for row in self.model.encode(list(texts))]
    def embed_query(self, text):
        return self.embed_documents([text])[0]

docs = [Document(page_content=f"Note {n}: the ferry leaves at 0{n}:15.", metadata={"n": n})
        for n in range(5)]
Chroma.from_documents(docs, SeedqaEmbeddings(), collection_name=sys.argv[2],
                      persist_directory=sys.argv[1])
print("BUILT")
"""


def test_a_collection_not_built_by_seedqa_is_named_and_left_alone(tmp_path):
    data = tmp_path / "langchain"
    built = subprocess.run([PYTHON, "-c", FOREIGN, str(data), "notes"], cwd=ROOT,
                           env=child_env(tmp_path / "unused", Path(os.environ["SEEDQA_CACHE_DIR"])),
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0 and "BUILT" in built.stdout, built.stderr
    before = _files(data)
    settings = Settings(data_dir=data, collection="notes")
    expected = ("The Chroma collection 'notes' was not built by seedqa; "
                "adopt it with: seedqa adopt notes")
    with pytest.raises(ForeignCollectionError) as caught:
        Assistant(settings).answer("When does the ferry leave?")
    assert str(caught.value) == expected
    for args in (["ask", "When does the ferry leave?"], ["documents"]):
        result = CliRunner().invoke(main, ["--data-dir", str(data), *args],
                                    env={"SEEDQA_COLLECTION": "notes"})
        assert result.exit_code == 1 and _one_error_line(result.output) == f"Error: {expected}"
    with sqlite3.connect(f"file:{data / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
        assert [name for (name,) in db.execute("SELECT name FROM collections")] == ["notes"]
    assert _files(data) == before


def test_repair_has_help():
    result = CliRunner().invoke(main, ["repair", "--help"])
    assert result.exit_code == 0 and "damaged" in result.output


def test_the_vector_probe_stands_aside_only_for_another_writer(tmp_path):
    """Another process's newest vectors can lag its records for a moment: no alarm then."""
    from index.locking import write_lock, writer_active

    assert not writer_active(tmp_path) and not list(tmp_path.iterdir())  # creates nothing
    code = ("import sys, time; from pathlib import Path; from index.locking import write_lock\n"
            "with write_lock(Path(sys.argv[1]), 5):\n"
            "    print('HELD', flush=True); sys.stdin.readline()\n")
    holder = subprocess.Popen([PYTHON, "-c", code, str(tmp_path)], cwd=ROOT,
                              env=child_env(tmp_path, tmp_path), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "HELD"
        assert writer_active(tmp_path)
    finally:
        holder.communicate("\n", timeout=30)
    assert not writer_active(tmp_path)
    with write_lock(tmp_path, 5):
        assert not writer_active(tmp_path)  # this thread is the writer: it probes


def test_chat_on_a_damaged_index_is_one_line_and_serves_nothing(seed_index, tmp_path,
                                                                  monkeypatch):
    import ui

    def serve(*args, **kwargs):
        raise AssertionError("the chat started over a damaged index")

    monkeypatch.setattr(ui, "serve", serve)
    settings = _copy(seed_index, tmp_path)
    _damage(settings.data_dir, "zero_bytes")
    result = _cli(settings, "chat")
    assert result.exit_code == 1
    assert "is damaged" in _one_error_line(result.output)


def test_an_interrupt_inside_chroma_stays_an_interrupt(seed_index, tmp_path, monkeypatch):
    """The store maps BaseException subclasses (Rust's PanicException is one), never Ctrl+C."""
    from index import Index

    settings = _copy(seed_index, tmp_path)
    index = Index(settings)
    chunks, _ = index._collections()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(chunks), "count", interrupted)
    with pytest.raises(KeyboardInterrupt):
        index.count()
