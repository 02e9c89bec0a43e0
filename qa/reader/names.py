"""What counts as a text naming one of a question's key names.

A question's key names are its capitalised words and numbers (`question.key_names`).
A text names one when it holds the word, or writes the same name another usual
way: "US" as "United States" or "U.S.", "NYC" as "New York City", "3" as "three",
"third" or "3rd", "50s" as "1950s". Looser matches (a demonym for its country, a
name one letter off) let through the altered names of SQuAD 2.0's unanswerable
questions more often than they rescue answerable ones (qa/reader/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from seedqa.text import NUMBER_WORDS

_ORDINAL_WORDS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth "
                  "eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
                  "eighteenth nineteenth twentieth").split()
_DIGITS_OF = {word: str(n) for words in (NUMBER_WORDS, _ORDINAL_WORDS)
              for n, word in enumerate(words)}
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_DECADE = re.compile(r"^(?:1\d|20)(\d0s)$")  # "1950s", which a question may call "50s"
_PLURAL_ACRONYM = re.compile(r"^([A-Z]{2,})s$")  # "DSMs"
# Lower-case words inside a capitalised name that its acronym skips ("Bank of England").
_CONNECTORS = frozenset("of and for the de du la von van".split())
_LONGEST_ACRONYM = 6


class _Word(Protocol):
    text: str
    folded: str
    stem: str
    capital: bool


def key_form(original: str, stemmed: str) -> str:
    """How a question's name is looked up: "3rd" as "3", "DSMs" as "dsm"."""
    if ordinal := _ORDINAL.match(original.lower()):
        return ordinal.group(1)
    if plural := _PLURAL_ACRONYM.match(original):
        return plural.group(1).lower()
    return stemmed


def name_forms(words: Sequence[_Word], parts: Iterable[str] = ()) -> frozenset[str]:
    """Every name a text of `words` holds: their stems, `parts` (of hyphenated words),
    and the other forms of its numbers and capitalised names."""
    forms = {w.stem for w in words}
    forms.update(parts)
    for w in words:
        forms.update(_aliases(w.folded))
        if plural := _PLURAL_ACRONYM.match(w.text):
            forms.add(plural.group(1).lower())  # "MPs" is "MP" in a question
    forms.update(_acronyms(words))
    return frozenset(forms)


def _aliases(folded: str) -> list[str]:
    if folded in _DIGITS_OF:
        return [_DIGITS_OF[folded]]
    if ordinal := _ORDINAL.match(folded):
        return [ordinal.group(1)]
    if decade := _DECADE.match(folded):
        return [decade.group(1)]
    if "." in folded and folded.replace(".", "").isalpha():
        return [folded.replace(".", "")]  # "u.s" -> "us"
    return []


def _acronyms(words: Sequence[_Word]) -> set[str]:
    """The initials of every run of two to six capitalised words, connectors skipped:
    "the New York City Council" gives "nyc", "ny", "yc", "nycc", "cc" and so on."""
    found: set[str] = set()
    run: list[str] = []
    for w in [*words, None]:
        if w is not None and w.capital and w.folded.isalpha():
            run.append(w.folded[0])
            continue
        if w is not None and run and w.folded in _CONNECTORS:
            continue
        initials = "".join(run)
        for begin in range(len(initials)):
            for end in range(begin + 2, min(begin + _LONGEST_ACRONYM, len(initials)) + 1):
                found.add(initials[begin:end])
        run = []
    return found
