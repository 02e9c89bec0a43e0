"""Each package exports a small, fixed surface."""

import cli
import evaluation
import index
import ingest
import qa
import ui


def test_qa_exports():
    assert sorted(qa.__all__) == sorted([
        "Answer", "Assistant", "Citation", "DocumentNotFoundError", "DocumentRecord",
        "IndexNotReadyError",
        "InvalidQuestionError", "SeedqaError", "answer", "default_assistant", "retrieve",
        "set_default_assistant",
    ])


def test_ingest_exports():
    assert sorted(ingest.__all__) == sorted([
        "SUPPORTED", "FileResult", "IngestError", "IngestReport", "Ingestor",
        "UnsupportedFileError", "ingest_paths",
    ])


def test_index_exports():
    assert sorted(index.__all__) == sorted([
        "ChunkRecord", "DocumentRecord", "Embedder", "Index", "LiveSet", "pack_vectors",
        "shared_embedder",
        "unpack_vectors", "write_lock",
    ])


def test_evaluation_exports():
    assert sorted(evaluation.__all__) == sorted([
        "EvalResult", "Floor", "IngestStats", "Question", "QuestionRecord", "QuestionsFileError",
        "evaluate", "load_questions", "machine_info", "summary_table", "write_report",
    ])


def test_ui_and_cli_exports():
    assert sorted(ui.__all__) == ["build_app", "serve"]
    assert cli.__all__ == ["main"]


def test_importing_loads_no_model():
    """Heavy things load on first use, not at import (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = ("import sys, qa, ingest, cli; "
            "loaded = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio') "
            "if m in sys.modules]; print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
