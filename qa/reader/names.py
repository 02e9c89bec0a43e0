"""What counts as a text naming one of a question's key names.

A question's key names are its capitalised words and numbers (`question.key_names`).
A text names one when it holds the word, or writes the same name another usual
way: "US" as "United States" or "U.S.", "NYC" as "New York City", "3" as "three",
"third" or "3rd", "50s" as "1950s", "Israeli" as "Israel" (a closed list of places
and the words for their people). Looser matches (a shared prefix, a name one
letter off) let through the altered names of SQuAD 2.0's unanswerable questions
more often than they rescue answerable ones (qa/reader/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from seedqa.text import NUMBER_WORDS, stem

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
# A place and the words for its people and things: a question asks about "the Israeli
# firm" of a text that says "Israel's Teva", or "American" of one that says "US".
# Whole words of a closed list, not a shared prefix ("Austria" is not "Australian").
_DEMONYMS = (
    "america american americans us usa", "britain british briton britons uk",
    "england english", "scotland scottish scots", "wales welsh", "ireland irish",
    "france french", "germany german germans", "italy italian italians",
    "spain spanish spaniard", "portugal portuguese", "netherlands holland dutch",
    "belgium belgian", "switzerland swiss", "austria austrian", "sweden swedish swede",
    "norway norwegian", "denmark danish dane", "finland finnish finn", "poland polish pole",
    "russia russian russians", "ukraine ukrainian ukrainians", "belarus belarusian",
    "greece greek", "turkey turkish turk", "israel israeli israelis", "iran iranian",
    "iraq iraqi iraqis", "egypt egyptian", "syria syrian", "lebanon lebanese",
    "palestine palestinian palestinians", "saudi arabia", "afghanistan afghan",
    "pakistan pakistani", "india indian indians", "china chinese", "japan japanese",
    "korea korean", "vietnam vietnamese", "thailand thai", "indonesia indonesian",
    "philippines filipino", "australia australian australians", "canada canadian",
    "mexico mexican", "brazil brazilian", "argentina argentine argentinian",
    "chile chilean", "colombia colombian", "peru peruvian", "cuba cuban",
    "nigeria nigerian", "ghana ghanaian", "kenya kenyan", "ethiopia ethiopian",
    "somalia somali", "sudan sudanese", "libya libyan", "morocco moroccan",
    "algeria algerian", "hungary hungarian", "romania romanian", "bulgaria bulgarian",
    "serbia serbian serb", "croatia croatian croat", "czech czechs", "europe european",
    "africa african", "asia asian",
)
_DEMONYM_FORMS = {stem(word): frozenset(stem(w) for w in group.split())
                  for group in _DEMONYMS for word in group.split()}


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
    places: list[str] = []  # names that may be a place or the word for its people
    for w in words:
        aliases = _aliases(w.folded)
        forms.update(aliases)
        if w.capital:
            places += [w.stem, *aliases]  # "Israel's", "U.S."
        if plural := _PLURAL_ACRONYM.match(w.text):
            forms.add(plural.group(1).lower())  # "MPs" is "MP" in a question
    acronyms = _acronyms(words)
    forms.update(acronyms)
    for name in (*places, *acronyms):
        forms.update(_DEMONYM_FORMS.get(name, ()))
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
