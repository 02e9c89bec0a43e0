"""Ask questions of the index: `answer`, `retrieve`, or an `Assistant` per index.

    >>> import qa
    >>> qa.answer("How many drones did Russia fire at Ukraine overnight?").text
    'Russia fired **165** drones at Ukraine overnight, ... [1]'

The module-level functions use the index in `SEEDQA_DATA_DIR` (one assistant
per distinct settings, created on first use); build `Assistant(Settings(...))`
yourself for several indexes in one process.
"""

from __future__ import annotations

import functools

from qa.assistant import Assistant
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
    "DocumentNotFoundError",
    "IndexNotReadyError",
    "InvalidQuestionError",
    "SeedqaError",
    "answer",
    "retrieve",
    "set_default_assistant",
]

_default: list[Assistant] = []  # the assistant set by set_default_assistant, if any


@functools.lru_cache(maxsize=4)
def _assistant_for(settings: Settings) -> Assistant:
    return Assistant(settings)


def set_default_assistant(assistant: Assistant | None) -> None:
    """Make `answer` and `retrieve` use `assistant`, e.g. `Assistant(settings, llm=my_model)`;
    None goes back to one built from the SEEDQA_* settings."""
    _default[:] = [assistant] if assistant is not None else []


def _current() -> Assistant:
    return _default[0] if _default else _assistant_for(Settings())


def answer(question: str, history: list[dict] | None = None) -> Answer:
    """Answer `question` from the index in SEEDQA_DATA_DIR, citing its passages.

    `history` is the chat so far in Gradio's messages format:
    `[{"role": "user" | "assistant", "content": str}, ...]`.
    """
    return _current().answer(question, history)


def retrieve(question: str, k: int = 5, history: list[dict] | None = None) -> list[Citation]:
    """The `k` passages of the index in SEEDQA_DATA_DIR most likely to answer `question`."""
    return _current().retrieve(question, k, history)
