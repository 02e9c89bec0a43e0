"""The question file (docs/eval-format.md): its lines validated, and answers matched.

`Question` is a pydantic model that forbids unknown fields; `load_questions`
reads a JSON Lines file and names the line and field that is wrong.
`normalize`, `contains` and `find_any` are how an answer is matched against
the accepted ones, the same way everywhere (seedqa eval, benchmarks, tests).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from qa.types import MARKER
from seedqa.errors import SeedqaError

_ARTICLES = frozenset({"a", "an", "the"})


class QuestionsFileError(SeedqaError):
    """A questions file is not in the format of docs/eval-format.md."""


class Question(BaseModel):
    """One line of a questions file (see docs/eval-format.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StrictStr
    question: StrictStr
    answers: tuple[StrictStr, ...]
    answerable: StrictBool
    support: tuple[StrictStr, ...] = ()
    source: StrictStr | None = None
    history: tuple[StrictStr, ...] = ()

    @field_validator("answers", "history", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if not isinstance(value, list):  # a tuple would pass, but JSON has none; "a" must not
            raise ValueError("must be a list of strings")
        return value

    @field_validator("support", mode="before")
    @classmethod
    def _one_or_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else cls._a_list(value)

    @field_validator("id", "question", "source")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _answers_fit(self) -> Question:
        if self.answerable and not any(normalize(answer) for answer in self.answers):
            raise ValueError("an answerable question needs at least one non-empty answer")
        if not self.answerable and self.answers:
            raise ValueError(f"an unanswerable question must have no answers, got {self.answers!r}")
        return self

    @classmethod
    def from_dict(cls, data: Any) -> Question:
        """Validate one decoded line; raises ValueError naming the bad field."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ValueError(_first_problem(error, data)) from None


_EXPECTED = {
    "answers": "a list of strings",
    "history": "a list of strings",
    "support": "a string or a list of strings",
    "answerable": "true or false",
    "source": "a file name",
}


def _first_problem(error: ValidationError, data: dict) -> str:
    """pydantic's first complaint, said in the terms of docs/eval-format.md."""
    problem = error.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    if problem["type"] == "missing":
        return f"missing field {field!r}"
    if problem["type"] == "extra_forbidden":
        unknown = sorted(set(data) - set(Question.model_fields))
        return f"unknown field(s) {unknown}; allowed: {sorted(Question.model_fields)}"
    if not field:  # the whole-line checks
        return problem["msg"].removeprefix("Value error, ")
    expected = _EXPECTED.get(field, "a non-empty string")
    return f"{field!r} must be {expected}, got {data.get(field)!r}"


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSON Lines questions file; blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise QuestionsFileError(f"Cannot read questions file {path}: {error.strerror}.") from error
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = Question.from_dict(json.loads(line))
        except (json.JSONDecodeError, ValueError) as error:
            raise QuestionsFileError(
                f"{path}:{number}: {error}. See docs/eval-format.md for the format."
            ) from error
        if question.id in seen:
            raise QuestionsFileError(f"{path}:{number}: duplicate id {question.id!r}.")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise QuestionsFileError(f"{path} holds no questions; expected one JSON object per line.")
    return questions


# --- matching answers ----------------------------------------------------------


def normalize(text: str) -> str:
    """Lower case, punctuation and symbols turned to spaces, articles dropped, spaces folded.

    Punctuation becomes a space rather than vanishing so that word boundaries
    survive: "Geran-5" and "Geran 5" normalise alike, and so do "Russia's" and
    "Russia s".
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(word for word in text.split() if word not in _ARTICLES)


def contains(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as whole words, both normalised.

    Whole words, so that the answer "3" is not found in "23" or "2023".
    An answer that normalises to nothing (say "the") is never found.
    """
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {normalize(text)} "


def find_any(text: str, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` that `text` contains (see `contains`), or None."""
    haystack = f" {normalize(text)} "
    for phrase in phrases:
        needle = normalize(phrase)
        if needle and f" {needle} " in haystack:
            return phrase
    return None


def answer_body(text: str) -> str:
    """An answer's text without its `[n]` citation markers, which would read as numbers."""
    return MARKER.sub(" ", text)


def is_correct_passage(question: Question, text: str, source: str | None = None) -> bool:
    """Whether a passage backs `question`'s answer.

    With `support` quotes: the passage contains one of them. Otherwise it
    contains an accepted answer and, when the question names a `source`, it
    comes from that file (compared by file name).
    """
    if question.support:
        return find_any(text, question.support) is not None
    if question.source is not None and Path(source or "").name != question.source:
        return False
    return find_any(text, question.answers) is not None
