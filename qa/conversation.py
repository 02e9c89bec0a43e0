"""The conversation so far: reading a history, and deciding whether a question leans on it.

A history is a list of turns, each a Gradio-style `{"role": "user" | "assistant",
"content": str}` dict or a LangChain message (`HumanMessage`, `AIMessage`).
`turns` reads either kind; everything else here works on what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from seedqa.text import terms, words

# Words that point back at an earlier turn: "How many of them ...", "When did it ...".
_ANAPHORA = frozenset(
    "it its they them their theirs those these that this he him his she her there then"
    " such same other others former latter".split()
)
_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


def turns(history: Iterable[Any] | None) -> list[Turn]:
    """The user and assistant turns of `history`, oldest first; anything else is left out."""
    found = []
    for message in history or []:
        if isinstance(message, dict):
            role, content = message.get("role"), message.get("content")
        else:  # a LangChain message: .type is "human" / "ai" / "system" / "tool"
            role, content = getattr(message, "type", None), getattr(message, "content", None)
        if role in _ROLES and isinstance(content, str):
            found.append(Turn(_ROLES[role], content))
    return found


def previous_questions(history: Iterable[Any] | None) -> list[str]:
    """The user's earlier questions, oldest first."""
    return [turn.content for turn in turns(history) if turn.role == "user"]


def is_follow_up(question: str) -> bool:
    """Does the question lean on the conversation so far?"""
    tokens = words(question)
    return bool(_ANAPHORA.intersection(tokens)) or len(terms(question)) <= 1


def search_query(question: str, history: Iterable[Any] | None) -> str:
    """What to search for: the question, plus the last one asked when this is a follow-up."""
    earlier = previous_questions(history)
    if earlier and is_follow_up(question):
        return f"{earlier[-1]} {question}"
    return question


def earlier_questions(question: str, history: Iterable[Any] | None) -> tuple[str, ...]:
    """Which earlier questions this one leans on: the last one, when it is a follow-up."""
    previous = previous_questions(history)
    return (previous[-1],) if previous and is_follow_up(question) else ()


def transcript(history: Sequence[Any], last: int = 6) -> str:
    """The last turns as "role: text" lines, for a model that rewrites a follow-up."""
    lines = [f"{turn.role}: {' '.join(turn.content.split())}" for turn in turns(history)]
    return "\n".join(lines[-last:])


def history_terms(history: Iterable[Any] | None) -> set[str]:
    """Every content term said so far, by either side."""
    return {term for turn in turns(history) for term in terms(turn.content)}
