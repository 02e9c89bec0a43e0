"""Chat models for LLM-written answers: one constructor per backend, chosen by settings.

    openai    any OpenAI-compatible endpoint (OpenAI, vLLM, LM Studio, llama.cpp's server)
    ollama    a local Ollama server
    llamacpp  a GGUF file loaded in this process by llama-cpp-python

Each backend's package is optional. A missing one raises `BackendNotInstalledError`
with the pip command that installs it, never a bare ImportError. Nothing is
imported or loaded until a model is built, and a key is read only then.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from seedqa.errors import BackendNotInstalledError, LLMSetupError
from seedqa.settings import BACKENDS, Settings

LLM_BACKENDS = tuple(backend for backend in BACKENDS if backend != "extractive")

# backend -> (module to import, pinned requirement, pyproject extra)
_PACKAGES = {
    "openai": ("langchain_openai", "langchain-openai==1.7.4", "openai"),
    "ollama": ("langchain_ollama", "langchain-ollama==1.1.0", "ollama"),
    "llamacpp": ("llama_cpp", "llama-cpp-python==0.3.36", "llamacpp"),
}


def import_backend(backend: str) -> ModuleType:
    """The backend's package, or an error that says how to install it."""
    module, requirement, extra = _PACKAGES[backend]
    try:
        return importlib.import_module(module)
    except ImportError:
        note = " (it compiles llama.cpp from source: about 10 minutes)" if backend == "llamacpp" else ""
        raise BackendNotInstalledError(
            f"The {backend} backend needs the {requirement.split('==')[0]} package, which is not "
            f"installed. Install it with: .venv/bin/pip install '{requirement}'{note} "
            f"(or: .venv/bin/pip install -e '.[{extra}]'), or answer without an LLM: "
            "--backend extractive."
        ) from None


def chat_model(settings: Settings) -> BaseChatModel:
    """The chat model that `settings.llm_backend` names, ready to invoke or stream."""
    backend = settings.llm_backend
    if backend not in LLM_BACKENDS:
        raise LLMSetupError(
            f"{backend!r} is not an LLM backend; choose one of {', '.join(LLM_BACKENDS)}.")
    return {"openai": _openai, "ollama": _ollama, "llamacpp": _llamacpp}[backend](settings)


def describe(settings: Settings) -> str:
    """A short label for the configured backend, such as `ollama: llama3.2`."""
    if settings.llm_backend == "llamacpp":
        name = Path(settings.llm_model_path).name if settings.llm_model_path else "no model file"
    else:
        name = settings.llm_model or "no model"
    return f"{settings.llm_backend}: {name}"


def describe_model(model: BaseChatModel) -> str:
    """A short label for a chat model passed in by the user, such as `llm: gpt-4o-mini`."""
    name = next((str(value) for attribute in ("model_name", "model", "model_id")
                 if isinstance(value := getattr(model, attribute, None), str) and value), None)
    return f"llm: {name or type(model).__name__}"


def _require_model(settings: Settings) -> str:
    if not settings.llm_model:
        raise LLMSetupError(
            f"The {settings.llm_backend} backend needs a model name: set SEEDQA_LLM_MODEL "
            "(for example SEEDQA_LLM_MODEL=llama3.2 for Ollama, gpt-4o-mini for OpenAI)."
        )
    return settings.llm_model


def _openai(settings: Settings) -> BaseChatModel:
    module = import_backend("openai")
    model = _require_model(settings)
    key = settings.llm_api_key()
    if settings.llm_api_key_env and not key:
        raise LLMSetupError(
            f"The openai backend reads its API key from the environment variable "
            f"{settings.llm_api_key_env}, which is not set. Set it (export "
            f"{settings.llm_api_key_env}=...), or name another variable with "
            "SEEDQA_LLM_API_KEY_ENV, or set SEEDQA_LLM_API_KEY_ENV= (empty) for a local "
            "server that takes no key."
        )
    return module.ChatOpenAI(
        model=model,
        base_url=settings.llm_base_url,
        api_key=key or "no-key",  # a local server ignores it; the client insists on one
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        max_retries=1,
        # The client sends the new `max_completion_tokens`; older OpenAI-compatible servers
        # (llama.cpp's Python server among them) only read `max_tokens`, so send both there.
        extra_body=None if _is_openai(settings.llm_base_url) else {"max_tokens": settings.llm_max_tokens},
    )


def _is_openai(base_url: str | None) -> bool:
    return base_url is None or "api.openai.com" in base_url


def _ollama(settings: Settings) -> BaseChatModel:
    module = import_backend("ollama")
    return module.ChatOllama(
        model=_require_model(settings),
        base_url=settings.llm_base_url,
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _llamacpp(settings: Settings) -> BaseChatModel:
    import_backend("llamacpp")
    path = settings.llm_model_path
    if path is None:
        raise LLMSetupError(
            "The llamacpp backend needs a GGUF model file: set SEEDQA_LLM_MODEL_PATH=/path/to/model.gguf."
        )
    if not Path(path).is_file():
        raise LLMSetupError(f"No GGUF model file at {path} (SEEDQA_LLM_MODEL_PATH).")
    return LlamaCppChat(
        model_path=str(path),
        n_ctx=settings.llm_context_tokens,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )


class LlamaCppChat(BaseChatModel):
    """A GGUF chat model run in this process by llama-cpp-python.

    The model loads on the first request and is kept; llama.cpp contexts are not
    thread-safe, so requests take turns.
    """

    model_path: str
    n_ctx: int = 4096
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0

    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def _client(self):
        if self._llama is None:
            llama_cpp = import_backend("llamacpp")
            self._llama = llama_cpp.Llama(model_path=self.model_path, n_ctx=self.n_ctx,
                                          seed=self.seed, verbose=False)
        return self._llama

    @staticmethod
    def _messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(str(chunk.message.content) for chunk in
                       self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            parts = self._client().create_chat_completion(
                messages=self._messages(messages), stream=True, stop=stop,
                temperature=self.temperature, max_tokens=self.max_tokens, seed=self.seed,
            )
            for part in parts:
                delta = part["choices"][0].get("delta", {}).get("content")
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
