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
from collections.abc import Callable
from dataclasses import dataclass

from qa.reader.question import KINDS, QuestionProfile
from seedqa.text import STOPWORDS, Span, fold, stem

MAX_WORDS = 6
SPAN_TYPES = ("money", "percent", "duration", "date", "number", "name", "phrase")

_WORD = re.compile(r"[£$€¥]?\d[\d,.]*\d(?:\w+)?%?|[£$€¥]?\d\w*%?|\w+(?:[-'’.]\w+)*", re.UNICODE)
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions billion billions trillion dozen "
    "dozens half quarter".split())
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
class Word:
    text: str
    folded: str
    stem: str
    begin: int
    end: int
    capital: bool
    numeric: bool


@functools.lru_cache(maxsize=200_000)
def _word(text: str) -> tuple[str, str, bool]:
    folded = fold(text)
    return folded, stem(folded), bool(_DIGITS.match(text)) or folded in _NUMBER_WORDS


def parts(folded: str) -> list[str]:
    """The stems of a joined word's pieces ("geran-5" -> "geran", "5"), as the question's
    plain word split sees them."""
    return [stem(piece) for piece in re.split(r"[^\w]+", folded) if piece]


def sentence_words(sentence: str) -> list[Word]:
    found = []
    for match in _WORD.finditer(sentence):
        text = match.group()
        folded, stemmed, numeric = _word(text)
        found.append(Word(text, folded, stemmed, match.start(), match.end(),
                          text[:1].isupper(), numeric))
    return found


def word_type(words: list[Word], first: int, last: int) -> str:
    """The type of words[first..last] (inclusive), one of SPAN_TYPES."""
    run = words[first : last + 1]
    folded = [w.folded for w in run]
    after = words[last + 1].folded if last + 1 < len(words) else ""
    has_number = any(w.numeric for w in run)
    if any(w.text[:1] in "£$€¥" for w in run) or (has_number and (
            set(folded) & _CURRENCY_WORDS or after in _CURRENCY_WORDS)):
        return "money"
    if any(w.text.endswith("%") for w in run) or (has_number and (
            set(folded) & _PERCENT_WORDS or after in ("percent", "per"))):
        return "percent"
    if has_number and (set(folded) & _TIME_UNITS) and not set(folded) & _MONTHS:
        return "duration"
    if set(folded) & (_MONTHS | _WEEKDAYS) or any(_YEAR.match(w.folded) for w in run) or (
            len(run) >= 2 and folded[-1] in ("century", "centuries") and has_number):
        return "date"
    if has_number:
        return "number"
    if all(w.capital or w.folded in STOPWORDS for w in run) and run[0].capital:
        return "name"
    return "phrase"


# Which span types answer which question kinds: the "type match" features.
COMPATIBLE = {
    "money": {"money"}, "percent": {"percent"}, "duration": {"duration"},
    "count": {"number"}, "quantity": {"number", "money", "percent", "duration"},
    "date": {"date"}, "person": {"name"}, "place": {"name"},
    "thing": {"name", "phrase"}, "reason": {"phrase"}, "other": {"phrase", "name"},
}
LOOSE = {"money": {"number"}, "duration": {"number", "date"}, "count": {"money", "percent"},
         "percent": {"number"}, "date": {"number"}}


def typed_kinds(kind: str) -> set[str]:
    return COMPATIBLE.get(kind, set())


_INSIDE = re.compile(r"[()\[\];:\"“”]")


def candidates(words: list[Word], profile: QuestionProfile,
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


def span_features(words: list[Word], spans: list[tuple[int, int]], profile: QuestionProfile,
                  idf: Callable[[str], float], sentence: str) -> list[list[float]]:
    """One row of `SPAN_FEATURES` per candidate span."""
    matched = [i for i, w in enumerate(words) if w.stem in profile.weights]
    weight_at = {i: profile.weights.get(words[i].stem, 0.0) * (2 if words[i].stem in
                 profile.current else 1) for i in matched}
    total = sum(weight_at.values()) or 1.0
    rows = []
    kind_row = [1.0 if profile.kind == kind else 0.0 for kind in KINDS]
    for first, last in spans:
        kind = word_type(words, first, last)
        type_row = [1.0 if kind == t else 0.0 for t in SPAN_TYPES]
        exact = 1.0 if kind in typed_kinds(profile.kind) else 0.0
        loose = 1.0 if kind in LOOSE.get(profile.kind, set()) else 0.0
        distances = [min(abs(i - first), abs(i - last)) for i in matched]
        nearest = min(distances) if distances else len(words)
        closeness = sum(w / (1 + min(abs(i - first), abs(i - last)))
                        for i, w in weight_at.items()) / total
        left = sum(w for i, w in weight_at.items() if i < first) / total
        right = sum(w for i, w in weight_at.items() if i > last) / total
        before = words[first - 1] if first > 0 else None
        after = words[last + 1] if last + 1 < len(words) else None
        gap_before = sentence[before.end : words[first].begin] if before else ""
        gap_after = sentence[words[last].end : after.begin] if after else ""
        length = last - first + 1
        inner_stop = sum(1 for w in words[first : last + 1] if w.folded in STOPWORDS)
        rarity = sum(min(idf(w.stem), 10.0) for w in words[first : last + 1]) / length
        counted = 1.0 if profile.counted and any(
            w.stem in profile.counted for w in words[last + 1 : last + 4]) else 0.0
        noun = 1.0 if profile.noun and any(
            w.stem in profile.noun for w in words[max(0, first - 3) : last + 4]) else 0.0
        row = [
            exact, loose, exact * kind_row[KINDS.index("count")],
            math.log1p(nearest), 1.0 / (1 + nearest), closeness, left, right,
            1.0 if length == 1 else 0.0, 1.0 if length == 2 else 0.0,
            1.0 if length == 3 else 0.0, 1.0 if length >= 4 else 0.0,
            inner_stop / length, rarity / 10.0, counted, noun,
            1.0 if before is None else 0.0, 1.0 if after is None else 0.0,
            1.0 if before is not None and before.folded in _PREPOSITIONS else 0.0,
            1.0 if before is not None and (before.folded in STOPWORDS or before.stem
                                           in profile.weights) else 0.0,
            1.0 if after is None or after.folded in STOPWORDS or after.stem in profile.weights
            else 0.0,
            1.0 if any(ch in gap_before for ch in ",;:(\"“") else 0.0,
            1.0 if any(ch in gap_after for ch in ",;:.)\"”") else 0.0,
            1.0 if before is not None and before.capital and kind == "name" else 0.0,
            1.0 if after is not None and after.capital and kind == "name" else 0.0,
            1.0 if after is not None and after.numeric else 0.0,
            1.0 if before is not None and before.numeric else 0.0,
            first / max(1, len(words)),
            *type_row,
            *[t * k for k in kind_row for t in type_row],
        ]
        rows.append(row)
    return rows


SPAN_FEATURES = (
    "type_exact", "type_loose", "count_number", "log_distance", "inv_distance", "closeness",
    "question_left", "question_right", "len1", "len2", "len3", "len4plus", "inner_stop",
    "rarity", "counted_after", "asked_noun_near", "sentence_start", "sentence_end",
    "after_preposition", "clean_left", "clean_right", "punct_left", "punct_right",
    "name_continues_left", "name_continues_right", "number_after", "number_before",
    "position", *[f"is_{t}" for t in SPAN_TYPES],
    *[f"{k}_x_{t}" for k in KINDS for t in SPAN_TYPES],
)


def span_of(words: list[Word], first: int, last: int) -> Span:
    return words[first].begin, words[last].end
