"""Every text seedqa says to a user or a model lives in this folder's YAML files."""

from __future__ import annotations

import functools
from importlib import resources

import yaml


@functools.cache
def _load(name: str) -> dict[str, str]:
    return yaml.safe_load((resources.files(__package__) / f"{name}.yaml").read_text("utf-8"))


def llm_texts() -> dict[str, str]:
    """The texts of llm.yaml: the LLM's system and user prompts, the passage block, the rewrite."""
    return _load("llm")


def message(key: str, **values: str) -> str:
    return _load("messages")[key].strip().format(**values)


def abstention(question: str) -> str:
    return message("abstention", question=question.strip())
