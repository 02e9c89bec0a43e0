"""Candidate answer spans of a sentence, and their span types (qa/reader/span_rows.py
has the features the span model scores them by).

A candidate is a run of one to `MAX_WORDS` whole words of the sentence: a word
here keeps its hyphens, decimal points, thousands commas, currency sign and
per cent sign ("£60,000", "Geran-5", "1.5%"), so no span ever cuts one. It
never holds a content word of the question (the answer is what the question
does not already say), and it neither starts nor ends on a stop word
("of the drones" -> "drones"). Typed runs (money, a date, a duration, a
number with its unit or scale word, a run of capitalised words) are always
candidates, whatever their length.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.reader.question import QuestionProfile
from seedqa.text import NUMBER_WORDS, STOPWORDS, Span, fold, stem

MAX_WORDS = 6
SPAN_TYPES = ("money", "percent", "duration", "date", "number", "age", "name", "phrase")
FIGURES = frozenset(SPAN_TYPES[:6])

_WORD = re.compile(r"[£$€¥]?\d[\d,.]*\d(?:\w+)?%?|[£$€¥]?\d\w*%?|\w+(?:[-'’.]\w+)*", re.UNICODE)
_NUMBER_WORDS = frozenset(NUMBER_WORDS[1:]) | frozenset(
    "thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million "
    "millions billion billions trillion dozen dozens half quarter".split())
_SCALE = frozenset("hundred thousand million billion trillion bn m k".split())
_CURRENCY_WORDS = frozenset("dollars dollar pounds pound euros euro yen cents pence p usd gbp "
                            "eur francs marks rupees".split())
_TIME_UNITS = frozenset("second seconds minute minutes min mins hour hours hr hrs day days week "
                        "weeks month months year years decade decades century centuries "
                        "fortnight".split())
_MONTHS = frozenset("january february march april may june july august september october "
                    "november december jan feb mar apr jun jul aug sep sept oct nov dec".split())
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
UNITS = _TIME_UNITS | _CURRENCY_WORDS | _SCALE | {"percent", "cent", "km", "kg", "miles", "metres",
                                                   "meters", "feet", "tonnes", "tons"}
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})s?$")
_DIGITS = re.compile(r"^[£$€¥]?\d")
_PERCENT_WORDS = frozenset({"percent", "per", "%"})


@dataclass(frozen=True, slots=True)
class Facts:
    """What the span types need to know of one word, worked out once per distinct word."""

    folded: str
    stem: str
    numeric: bool
    stop: bool
    currency_sign: bool
    percent_sign: bool
    currency_word: bool
    percent_word: bool
    time_unit: bool
    month: bool
    date_word: bool  # a month or a weekday
    year: bool
    age: bool = False  # where it stands, not the word alone, makes a number an age


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    folded: str
    stem: str
    begin: int
    end: int
    capital: bool
    numeric: bool
    facts: Facts


@functools.lru_cache(maxsize=200_000)
def _facts(text: str) -> Facts:
    folded = fold(text)
    return Facts(folded, stem(folded), bool(_DIGITS.match(text)) or folded in _NUMBER_WORDS,
                 folded in STOPWORDS, text[:1] in "£$€¥", text.endswith("%"),
                 folded in _CURRENCY_WORDS, folded in _PERCENT_WORDS, folded in _TIME_UNITS,
                 folded in _MONTHS, folded in _MONTHS or folded in _WEEKDAYS,
                 bool(_YEAR.match(folded)))


def parts(folded: str) -> list[str]:
    """The stems of a joined word's pieces ("geran-5" -> "geran", "5"), as the question's
    plain word split sees them."""
    return [stem(piece) for piece in re.split(r"[^\w]+", folded) if piece]


def sentence_words(sentence: str) -> list[Word]:
    found = []
    for match in _WORD.finditer(sentence):
        text = match.group()
        facts = _facts(text)
        found.append(Word(text, facts.folded, facts.stem, match.start(), match.end(),
                          text[:1].isupper(), facts.numeric, facts))
    for i, word in enumerate(found):
        if word.facts.year and _counts(found, i):
            found[i] = replace(word, facts=replace(word.facts, year=False))
        elif word.numeric and _gives_age(sentence, found, i):
            found[i] = replace(word, facts=replace(word.facts, age=True))
    return found


_AGED_AFTER = frozenset({"year-old", "years-old", "month-old", "months-old"})
_AGED_BEFORE = frozenset({"aged", "age", "ages"})


def _gives_age(sentence: str, words: Sequence[Word], i: int) -> bool:
    """Does the number at `i` give someone's age: "the 79-year-old", "aged 79", "at the
    age of 79", "79 years old", or a newspaper's "Mr Greenspan, 79, said"?"""
    if not words[i].folded.isdigit() or not 0 < int(words[i].folded) < 120:
        return False
    after = [w.folded for w in words[i + 1 : i + 3]]
    before = [w.folded for w in words[max(0, i - 2) : i]]
    if after[:1] and (after[0] in _AGED_AFTER or after == ["years", "old"]):
        return True
    if before and (before[-1] in _AGED_BEFORE or before == ["age", "of"]):
        return True
    return (i > 0 and words[i - 1].capital and sentence[words[i - 1].end : words[i].begin] == ", "
            and sentence[words[i].end : words[i].end + 1] == ",")


_COUNTED = frozenset("people men women children staff police cattle sheep fish".split())
_BEFORE_YEAR = frozenset("in since by from until till of during after before circa c".split())


def _counts(words: Sequence[Word], i: int) -> bool:
    """Does a year-shaped number count the plural noun after it ("1180 bridges"), not date it?

    "the 2004 tour" and "in 1999 members voted" stay years: the noun is singular, or a
    preposition announces a date.
    """
    if (i + 1 >= len(words) or words[i].folded.endswith("s")  # "1990s bands"
            or (i and words[i - 1].folded in _BEFORE_YEAR)):
        return False
    after = words[i + 1]
    if after.capital or after.facts.stop or after.facts.date_word or after.facts.time_unit:
        return False
    folded = after.folded
    plural = len(folded) > 3 and folded.endswith("s") and not folded.endswith("ss")
    return plural or folded in _COUNTED


class Runs:
    """The span types of runs of a sentence's words, from running counts of word facts.

    Every candidate span of every retrieved sentence gets a type, so the types of
    all the spans of all the sentences are worked out at once, in NumPy.
    """

    _FLAGS = ("numeric", "currency_sign", "percent_sign", "currency_word", "percent_word",
              "time_unit", "month", "dated", "uncapitalised", "age")

    def __init__(self, words: Sequence[Word], ends: np.ndarray | None = None) -> None:
        """`words`: one sentence's, or several sentences' one after the other, with `ends`
        marking the last word of each (no span crosses a sentence's end)."""
        flags = [(f.numeric, f.currency_sign, f.percent_sign, f.currency_word, f.percent_word,
                  f.time_unit, f.month, f.date_word or f.year, not (w.capital or f.stop), f.age)
                 for w in words for f in (w.facts,)]
        table = np.asarray(flags, dtype=np.int32).reshape(len(words), len(self._FLAGS))
        self.counts = np.vstack([np.zeros((1, len(self._FLAGS)), np.int32), table.cumsum(0)])
        following = [w.folded for w in words[1:]] + [""]
        if ends is not None:
            following = ["" if end else folded for folded, end in zip(following, ends)]
        self.currency_after = np.asarray([f in _CURRENCY_WORDS for f in following], bool)
        self.percent_after = np.asarray([f in ("percent", "per") for f in following], bool)
        self.century = np.asarray([w.folded in ("century", "centuries") for w in words], bool)
        self.capital = np.asarray([w.capital for w in words], bool)

    def types(self, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """The type of each run words[first[k]..last[k]] (inclusive), as SPAN_TYPES indices."""
        held = (self.counts[last + 1] - self.counts[first]) > 0
        (numeric, currency_sign, percent_sign, currency_word, percent_word, time_unit, month,
         dated, uncapitalised, age) = held.T
        money = currency_sign | (numeric & (currency_word | self.currency_after[last]))
        percent = percent_sign | (numeric & (percent_word | self.percent_after[last]))
        date = dated | ((last > first) & self.century[last] & numeric)
        name = self.capital[first] & ~uncapitalised
        # Earlier conditions win: "£5 a day" is money, not a duration.
        return np.select([money, percent, numeric & age, numeric & time_unit & ~month, date,
                          numeric, name], [TYPE_INDEX[t] for t in _TYPE_ORDER],
                         default=TYPE_INDEX["phrase"])

    def type(self, first: int, last: int) -> str:
        """The type of words[first..last] (inclusive), one of SPAN_TYPES."""
        return SPAN_TYPES[int(self.types(np.array([first]), np.array([last]))[0])]


TYPE_INDEX = {t: i for i, t in enumerate(SPAN_TYPES)}
_TYPE_ORDER = ("money", "percent", "age", "duration", "date", "number", "name")


def word_type(words: Sequence[Word], first: int, last: int) -> str:
    """The type of words[first..last] (inclusive), one of SPAN_TYPES."""
    return Runs(words).type(first, last)


# Which span types answer which question kinds: the "type match" features.
COMPATIBLE = {
    "money": {"money"}, "percent": {"percent"}, "duration": {"duration"},
    "count": {"number"}, "quantity": {"number", "money", "percent", "duration", "age"},
    "age": {"age"},
    "date": {"date"}, "person": {"name"}, "place": {"name"}, "name": {"name"},
    "thing": {"name", "phrase"}, "reason": {"phrase"}, "other": {"phrase", "name"},
}
LOOSE = {"money": {"number"}, "duration": {"number", "date"}, "count": {"money", "percent"},
         "percent": {"number"}, "date": {"number"}, "age": {"number"}}


def typed_kinds(kind: str) -> set[str]:
    return COMPATIBLE.get(kind, set())


_INSIDE = re.compile(r"[()\[\];:\"“”]")


def candidates(words: Sequence[Word], profile: QuestionProfile,
               sentence: str | None = None) -> list[tuple[int, int]]:
    """(first, last) word indices of the candidate spans (none across brackets or quotes)."""
    # A unit the question names may stay with its number ("how many years" -> "ten years").
    blocked = [w.stem in profile.weights and w.folded not in UNITS for w in words]
    found = []
    for first in range(len(words)):
        if blocked[first] or (words[first].folded in STOPWORDS and not words[first].numeric):
            continue
        for last in range(first, min(len(words), first + MAX_WORDS)):
            if blocked[last]:
                break
            if sentence is not None and last > first and _INSIDE.search(
                    sentence, words[last - 1].end, words[last].begin):
                break
            if words[last].folded in STOPWORDS and not words[last].numeric:
                continue
            found.append((first, last))
    return found




def span_of(words: Sequence[Word], first: int, last: int) -> Span:
    return words[first].begin, words[last].end

