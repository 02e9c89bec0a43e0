"""Ask questions of the index: `answer`, `retrieve`, or an `Assistant` per index.

    >>> import qa
    >>> qa.answer("How many drones did Russia fire at Ukraine overnight?").text
    'Russia fired **165** drones at Ukraine overnight, ... [1]'

The module-level functions ask the default assistant: one over the index in
`SEEDQA_DATA_DIR`, made on first use (and made again when the SEEDQA_*
settings change). `set_default_assistant` swaps in your own; build
`Assistant(Settings(...))` yourself for several indexes in one process.
"""

from __future__ import annotations

import threading

from qa.assistant import Assistant
from index import DocumentRecord  # what Assistant.documents() lists
from qa.types import Answer, Citation
from seedqa.errors import (
    DocumentNotFoundError,
    IndexNotReadyError,
    InvalidQuestionError,
    SeedqaError,
)
from seedqa.settings import Settings

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "DocumentRecord",
    "DocumentNotFoundError",
    "IndexNotReadyError",
    "InvalidQuestionError",
    "SeedqaError",
    "answer",
    "default_assistant",
    "retrieve",
    "set_default_assistant",
]

_default: Assistant | None = None
_chosen = False  # set_default_assistant was called: keep that one whatever the settings say
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The assistant `answer` and `retrieve` use."""
    global _default
    with _default_lock:
        if _default is None or (not _chosen and _default.settings != Settings()):
            _default = Assistant(Settings())
        return _default


def set_default_assistant(assistant: Assistant | None) -> None:
    """Make `answer` and `retrieve` use `assistant`, e.g. `Assistant(settings, llm=my_model)`;
    None goes back to one built from the SEEDQA_* settings."""
    global _default, _chosen
    with _default_lock:
        _default, _chosen = assistant, assistant is not None


def answer(question: str, history: list[dict] | None = None) -> Answer:
    """Answer `question` from the index in SEEDQA_DATA_DIR, citing its passages.

    `history` is the chat so far in Gradio's messages format:
    `[{"role": "user" | "assistant", "content": str}, ...]`.
    """
    return default_assistant().answer(question, history)


def retrieve(question: str, k: int = 5, history: list[dict] | None = None) -> list[Citation]:
    """The `k` passages of the index in SEEDQA_DATA_DIR most likely to answer `question`."""
    return default_assistant().retrieve(question, k, history)
