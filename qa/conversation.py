"""The conversation so far: reading a history, and deciding whether a question leans on it.

A history is a list of turns, each a Gradio-style `{"role": "user" | "assistant",
"content": str}` dict or a LangChain message (`HumanMessage`, `AIMessage`).
`turns` reads either kind; everything else here works on what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from seedqa.text import STOPWORDS, terms, word_spans, words

# Words that point back at an earlier turn: "How many of them ...", "When did it ...".
_PRONOUNS = frozenset(
    "it its they them their theirs he him his she her hers those these former latter".split()
)
# "this" and "that" point back too, but not in "this year" or "the company that bought";
# "there" and "then" only at the end ("How many were injured there?", not "Are there ...").
_TIMES = frozenset("year month week day season time morning afternoon evening weekend summer "
                   "winter spring autumn century decade quarter".split())
_AT_THE_END = frozenset({"there", "then"})
_OPENERS = ("and ", "what about ", "how about ", "also ")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


def turns(history: Iterable[Any] | None) -> list[Turn]:
    """The user and assistant turns of `history`, oldest first; system and tool ones are left out.

    A turn is a Gradio-style dict, a LangChain message (its `.type` is "human" or
    "ai"), any object with `role` and `content`, or a `(role, text)` pair; its
    content is a string or a list of content blocks (`{"type": "text", ...}`).
    """
    found = []
    for item in history or []:
        if isinstance(item, dict):
            role, content = item.get("role") or item.get("type"), item.get("content")
        elif isinstance(item, tuple | list) and len(item) == 2:
            role, content = item
        elif hasattr(item, "content"):
            role, content = getattr(item, "role", None) or getattr(item, "type", None), item.content
        else:
            raise TypeError("history items are dicts, LangChain messages or (role, text) pairs, "
                            f"not {type(item).__name__}")
        if role in _ROLES:
            found.append(Turn(_ROLES[role], message_text(content)))
    return found


def message_text(content: Any) -> str:
    """A message's text: a string, or a list of content blocks ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part if isinstance(part, str) else str(part.get("text", ""))
                        for part in content
                        if isinstance(part, str) or (isinstance(part, dict)
                                                     and part.get("type") == "text"))
    return ""


def previous_questions(history: Iterable[Any] | None) -> list[str]:
    """The user's earlier questions, oldest first."""
    return [turn.content for turn in turns(history) if turn.role == "user"]


def is_follow_up(question: str) -> bool:
    """Does the question lean on the conversation so far?

    It does when it points back (a pronoun; "this" or "that" used as one; "there"
    at its end), opens with "And ..." or "What about ...", or names almost nothing.
    A question that stands on its own is asked on its own, whatever came before.
    """
    tokens = words(question)
    if not tokens:
        return False
    if _PRONOUNS.intersection(tokens) or tokens[-1] in _AT_THE_END:
        return True
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        before = tokens[index - 1] if index else None
        if token == "this" and following not in _TIMES:
            return True
        if token == "that" and (before is None or before in STOPWORDS or following is None):
            return True
    return question.lower().lstrip().startswith(_OPENERS) or len(terms(question)) <= 1


def search_query(question: str, history: Iterable[Any] | None) -> str:
    """What to search for: a follow-up adds the last question and the names its answer gave.

    "Who directed it?" after "Which film topped the box office?" must find the
    film the answer named, which the earlier question never did.
    """
    said = turns(history)
    earlier = [turn.content for turn in said if turn.role == "user"]
    if not earlier or not is_follow_up(question):
        return question
    answers = [turn.content for turn in said if turn.role == "assistant"]
    named = _named(answers[-1]) if answers and said[-1].role == "assistant" else []
    return " ".join([earlier[-1], *named, question])


def _named(answer: str) -> list[str]:
    """The names in the answer's exact span (its bold phrase), or none when it has none.

    The rest of an answer's sentence names other things too, which pull the
    search away (measured on the news follow-ups).
    """
    spans = _BOLD.findall(answer)
    if not spans:
        return []
    plain = " ".join(spans)
    found = [plain[begin:end] for word, begin, end in word_spans(plain)
             if plain[begin].isupper() and word not in STOPWORDS]
    return list(dict.fromkeys(found))


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
