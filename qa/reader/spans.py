"""Candidate answer spans of a sentence, and the features the span model scores them by.

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
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.reader.question import KINDS, QuestionProfile
from seedqa.text import NUMBER_WORDS, STOPWORDS, Span, fold, stem

MAX_WORDS = 6
SPAN_TYPES = ("money", "percent", "duration", "date", "number", "age", "name", "phrase")
_FIGURES = frozenset(SPAN_TYPES[:6])

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
_UNITS = _TIME_UNITS | _CURRENCY_WORDS | _SCALE | {"percent", "cent", "km", "kg", "miles", "metres",
                                                    "meters", "feet", "tonnes", "tons"}
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})s?$")
_DIGITS = re.compile(r"^[£$€¥]?\d")
_PERCENT_WORDS = frozenset({"percent", "per", "%"})
# Words before an answer that announce its type ("in 1763", "by Smith", "for £5m").
_PREPOSITIONS = ("in", "on", "at", "by", "from", "to", "for", "of", "with", "as", "during",
                 "since", "until", "after", "before", "about", "around", "over", "than")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    """The span type of any run of a sentence's words, from running counts of word facts."""

    _FLAGS = ("numeric", "currency_sign", "percent_sign", "currency_word", "percent_word",
              "time_unit", "month", "dated", "uncapitalised", "age")

    def __init__(self, words: Sequence[Word]) -> None:
        self.words = words
        self.counts = {flag: [0] for flag in self._FLAGS}
        for w in words:
            f = w.facts
            values = (f.numeric, f.currency_sign, f.percent_sign, f.currency_word,
                      f.percent_word, f.time_unit, f.month, f.date_word or f.year,
                      not (w.capital or f.stop), f.age)
            for flag, value in zip(self._FLAGS, values):
                counts = self.counts[flag]
                counts.append(counts[-1] + value)

    def _any(self, flag: str, first: int, last: int) -> bool:
        counts = self.counts[flag]
        return counts[last + 1] > counts[first]

    def type(self, first: int, last: int) -> str:
        """The type of words[first..last] (inclusive), one of SPAN_TYPES."""
        words = self.words
        after = words[last + 1].folded if last + 1 < len(words) else ""
        has_number = self._any("numeric", first, last)
        if self._any("currency_sign", first, last) or (has_number and (
                self._any("currency_word", first, last) or after in _CURRENCY_WORDS)):
            return "money"
        if self._any("percent_sign", first, last) or (has_number and (
                self._any("percent_word", first, last) or after in ("percent", "per"))):
            return "percent"
        if has_number and self._any("age", first, last):
            return "age"
        if has_number and self._any("time_unit", first, last) and not self._any(
                "month", first, last):
            return "duration"
        if self._any("dated", first, last) or (
                last > first and words[last].folded in ("century", "centuries") and has_number):
            return "date"
        if has_number:
            return "number"
        if words[first].capital and not self._any("uncapitalised", first, last):
            return "name"
        return "phrase"


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
    blocked = [w.stem in profile.weights and w.folded not in _UNITS for w in words]
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


def span_features(words: Sequence[Word], spans: list[tuple[int, int]], profile: QuestionProfile,
                  idf: Callable[[str], float], sentence: str) -> np.ndarray:
    """One row of `SPAN_FEATURES` per candidate span.

    Every sentence of every retrieved passage is read, so what depends on a word
    alone is worked out once per word, not once per span holding it.
    """
    matched = [i for i, w in enumerate(words) if w.stem in profile.weights]
    weight_at = {i: profile.weights.get(words[i].stem, 0.0) * (2 if words[i].stem in
                 profile.current else 1) for i in matched}
    total = sum(weight_at.values()) or 1.0
    stop = [w.facts.stop for w in words]
    rare = [min(idf(w.stem), 10.0) for w in words]
    counted = [bool(profile.counted) and w.stem in profile.counted for w in words]
    noun = [bool(profile.noun) and w.stem in profile.noun for w in words]
    preposition = [w.folded in _PREPOSITIONS for w in words]
    clean = [stop[i] or w.stem in profile.weights for i, w in enumerate(words)]
    # Words of a figure that are not part of it: "fired" in "fired 165" answering "how many".
    plain = [not (w.numeric or w.folded in _UNITS or w.facts.percent_word or w.facts.date_word
                  or w.facts.year) for w in words]
    runs = Runs(words)
    # The punctuation between each word and the next (before the first: none).
    gaps = [sentence[a.end : b.begin] for a, b in zip(words, words[1:])]
    punct_after = [any(ch in gap for ch in ",;:.)\"”") for gap in gaps] + [False]
    punct_before = [False] + [any(ch in gap for ch in ",;:(\"“") for gap in gaps]
    exact_kinds, loose_kinds = typed_kinds(profile.kind), LOOSE.get(profile.kind, set())
    is_count = 1.0 if profile.kind == "count" else 0.0
    rows, types = [], []
    for first, last in spans:
        kind = runs.type(first, last)
        types.append(SPAN_TYPES.index(kind))
        exact = 1.0 if kind in exact_kinds else 0.0
        loose = 1.0 if kind in loose_kinds else 0.0
        nearest, closeness, left, right = len(words), 0.0, 0.0, 0.0
        for i, w in weight_at.items():
            distance = min(abs(i - first), abs(i - last))
            nearest = min(nearest, distance)
            closeness += w / (1 + distance)
            if i < first:
                left += w
            elif i > last:
                right += w
        before = words[first - 1] if first > 0 else None
        after = words[last + 1] if last + 1 < len(words) else None
        length = last - first + 1
        row = [
            exact, loose, exact * is_count,
            math.log1p(nearest), 1.0 / (1 + nearest), closeness / total, left / total,
            right / total,
            1.0 if length == 1 else 0.0, 1.0 if length == 2 else 0.0,
            1.0 if length == 3 else 0.0, 1.0 if length >= 4 else 0.0,
            sum(stop[first : last + 1]) / length, sum(rare[first : last + 1]) / length / 10.0,
            1.0 if any(counted[last + 1 : last + 4]) else 0.0,
            1.0 if any(noun[max(0, first - 3) : last + 4]) else 0.0,
            1.0 if before is None else 0.0, 1.0 if after is None else 0.0,
            1.0 if before is not None and preposition[first - 1] else 0.0,
            1.0 if before is not None and clean[first - 1] else 0.0,
            1.0 if after is None or clean[last + 1] else 0.0,
            1.0 if punct_before[first] else 0.0,
            1.0 if punct_after[last] else 0.0,
            1.0 if before is not None and before.capital and kind == "name" else 0.0,
            1.0 if after is not None and after.capital and kind == "name" else 0.0,
            1.0 if after is not None and after.numeric else 0.0,
            1.0 if before is not None and before.numeric else 0.0,
            first / max(1, len(words)),
            sum(plain[first : last + 1]) / length if kind in _FIGURES else 0.0,
        ]
        rows.append(row)
    # The span's type, alone and crossed with the question's kind: one-hot blocks.
    table = np.zeros((len(rows), len(SPAN_FEATURES)))
    if rows:
        table[:, :_FIRST_TYPE_COLUMN] = rows
        at = np.arange(len(rows))
        table[at, _FIRST_TYPE_COLUMN + np.asarray(types)] = 1.0
        crossed = _FIRST_TYPE_COLUMN + len(SPAN_TYPES) * (1 + KINDS.index(profile.kind))
        table[at, crossed + np.asarray(types)] = 1.0
    return table


SPAN_FEATURES = (
    "type_exact", "type_loose", "count_number", "log_distance", "inv_distance", "closeness",
    "question_left", "question_right", "len1", "len2", "len3", "len4plus", "inner_stop",
    "rarity", "counted_after", "asked_noun_near", "sentence_start", "sentence_end",
    "after_preposition", "clean_left", "clean_right", "punct_left", "punct_right",
    "name_continues_left", "name_continues_right", "number_after", "number_before",
    "position", "plain_words_in_figure", *[f"is_{t}" for t in SPAN_TYPES],
    *[f"{k}_x_{t}" for k in KINDS for t in SPAN_TYPES],
)


_FIRST_TYPE_COLUMN = SPAN_FEATURES.index(f"is_{SPAN_TYPES[0]}")


def span_of(words: Sequence[Word], first: int, last: int) -> Span:
    return words[first].begin, words[last].end
