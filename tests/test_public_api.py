"""Each package exports a small, fixed surface."""

import ingest
import qa


def test_qa_exports():
    assert sorted(qa.__all__) == sorted([
        "Answer", "Assistant", "Citation", "DocumentNotFoundError", "IndexNotReadyError",
        "InvalidQuestionError", "SeedqaError", "answer", "retrieve", "set_default_assistant",
    ])


def test_ingest_exports():
    assert sorted(ingest.__all__) == sorted([
        "SUPPORTED", "FileResult", "IngestError", "IngestReport", "Ingestor",
        "UnsupportedFileError", "ingest_paths",
    ])


def test_importing_loads_no_model():
    """Heavy things load on first use, not at import (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = ("import sys, qa, ingest, seedqa.cli; "
            "loaded = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio') "
            "if m in sys.modules]; print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
