"""The features the span model scores candidate answer spans by (`SPAN_FEATURES`).

Every sentence of every retrieved passage is read, so the rows of all the spans
of all the sentences are worked out at once, in NumPy: the sentences' words
stand one after the other, and a span's neighbours stop at its sentence's ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from qa.reader.question import KINDS, QuestionProfile
from qa.reader.spans import (
    FIGURES,
    LOOSE,
    SPAN_TYPES,
    TYPE_INDEX,
    UNITS,
    Runs,
    Word,
    candidates,
    typed_kinds,
)

# Words before an answer that announce its type ("in 1763", "by Smith", "for £5m").
_PREPOSITIONS = ("in", "on", "at", "by", "from", "to", "for", "of", "with", "as", "during",
                 "since", "until", "after", "before", "about", "around", "over", "than")


def span_features(words: Sequence[Word], spans: list[tuple[int, int]], profile: QuestionProfile,
                  idf: Callable[[str], float], sentence: str) -> np.ndarray:
    """One row of `SPAN_FEATURES` per candidate span of one sentence."""
    return span_rows([(words, sentence)], [spans], profile, idf)


def span_rows(sentences: Sequence[tuple[Sequence[Word], str]],
              spans: Sequence[Sequence[tuple[int, int]]], profile: QuestionProfile,
              idf: Callable[[str], float]) -> np.ndarray:
    """One row of `SPAN_FEATURES` per candidate span of each of `sentences` (its words and
    text), `spans[k]` being sentence k's, in order: the same rows as each sentence's alone."""
    table = np.zeros((sum(len(found) for found in spans), len(SPAN_FEATURES)))
    if not len(table):
        return table
    at = _Layout(sentences, spans)
    words = at.words
    types = Runs(words, at.is_end).types(at.first, at.last)
    exact = np.isin(types, [TYPE_INDEX[t] for t in typed_kinds(profile.kind)])
    loose = np.isin(types, [TYPE_INDEX[t] for t in LOOSE.get(profile.kind, ())])
    figure = np.isin(types, [TYPE_INDEX[t] for t in FIGURES])
    name = types == TYPE_INDEX["name"]
    length = at.last - at.first + 1
    stop = [w.facts.stop for w in words]
    clean = [stop[i] or w.stem in profile.weights for i, w in enumerate(words)]
    capital, numeric = [w.capital for w in words], [w.numeric for w in words]
    # Words of a figure that are not part of it: "fired" in "fired 165" answering "how many".
    plain = [not (w.numeric or w.folded in UNITS or w.facts.percent_word or w.facts.date_word
                  or w.facts.year) for w in words]
    columns = [
        exact, loose, exact & (profile.kind == "count"),
        *_question_distance(at, profile),
        length == 1, length == 2, length == 3, length >= 4,
        at.inside(stop) / length,
        at.inside([min(idf(w.stem), 10.0) for w in words]) / length / 10.0,
        at.count([bool(profile.counted) and w.stem in profile.counted for w in words],
                 at.last + 1, at.last + 4) > 0,
        at.count([bool(profile.noun) and w.stem in profile.noun for w in words],
                 at.first - 3, at.last + 4) > 0,
        at.first == at.begin, at.last + 1 >= at.end,
        at.before([w.folded in _PREPOSITIONS for w in words], False), at.before(clean, False),
        at.after(clean, True), at.punctuation_before(",;:(\"“"),
        at.punctuation_after(",;:.)\"”"),
        at.before(capital, False) & name, at.after(capital, False) & name,
        at.after(numeric, False), at.before(numeric, False),
        (at.first - at.begin) / np.maximum(1, at.end - at.begin),
        np.where(figure, at.inside(plain) / length, 0.0),
    ]
    table[:, :_FIRST_TYPE_COLUMN] = np.column_stack(columns)
    # The span's type, alone and crossed with the question's kind: one-hot blocks.
    rows = np.arange(len(table))
    table[rows, _FIRST_TYPE_COLUMN + types] = 1.0
    crossed = _FIRST_TYPE_COLUMN + len(SPAN_TYPES) * (1 + KINDS.index(profile.kind))
    table[rows, crossed + types] = 1.0
    return table


class _Layout:
    """Sentences' words one after the other, and where each candidate span lies in them:
    `first`, `last` (its words) and `begin`, `end` (its sentence's), per span."""

    def __init__(self, sentences: Sequence[tuple[Sequence[Word], str]],
                 spans: Sequence[Sequence[tuple[int, int]]]) -> None:
        self.words = [w for words, _ in sentences for w in words]
        self.texts = [text for _, text in sentences]
        self.sizes = [len(words) for words, _ in sentences]
        starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(int)
        self.sentence_of = np.repeat(np.arange(len(sentences)), self.sizes)
        self.is_end = np.zeros(len(self.words), bool)
        self.is_end[(starts + self.sizes - 1)[np.asarray(self.sizes) > 0]] = True
        self.is_start = np.zeros(len(self.words), bool)
        self.is_start[starts[np.asarray(self.sizes) > 0]] = True
        self.owner = np.repeat(np.arange(len(sentences)), [len(found) for found in spans])
        local = np.asarray([span for found in spans for span in found])
        self.begin = starts[self.owner]
        self.end = self.begin + np.asarray(self.sizes)[self.owner]
        self.first, self.last = self.begin + local[:, 0], self.begin + local[:, 1]
        self.gaps: list[str] | None = None

    def count(self, values: Sequence[float], low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Per span, the sum of `values` over words low..high-1, kept inside its sentence."""
        sums = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
        return sums[np.minimum(high, self.end)] - sums[np.maximum(low, self.begin)]

    def inside(self, values: Sequence[float]) -> np.ndarray:
        return self.count(values, self.first, self.last + 1)

    def before(self, values: Sequence[bool], fill: bool) -> np.ndarray:
        """Per span, the value of the word before it (`fill` at its sentence's start)."""
        shifted = np.concatenate([[fill], np.asarray(values, bool)[:-1]])
        return np.where(self.is_start, fill, shifted)[self.first]

    def after(self, values: Sequence[bool], fill: bool) -> np.ndarray:
        shifted = np.concatenate([np.asarray(values, bool)[1:], [fill]])
        return np.where(self.is_end, fill, shifted)[self.last]

    def _gaps(self) -> list[str]:
        """The text between each word and the next in its sentence ("" after its last)."""
        if self.gaps is None:
            self.gaps, start = [], 0
            for size, text in zip(self.sizes, self.texts):
                words = self.words[start : start + size]
                self.gaps += [text[a.end : b.begin] for a, b in zip(words, words[1:])]
                self.gaps += [""] * bool(words)
                start += size
        return self.gaps

    def punctuation_before(self, marks: str) -> np.ndarray:
        return self.before(self._punctuated(marks), False)

    def punctuation_after(self, marks: str) -> np.ndarray:
        return np.asarray(self._punctuated(marks))[self.last]

    def _punctuated(self, marks: str) -> list[bool]:
        marks = set(marks)
        return [not marks.isdisjoint(gap) for gap in self._gaps()]


def short_span_types(sentences: Sequence[Sequence[Word]], profile: QuestionProfile
                     ) -> list[set[str]]:
    """Per sentence (its words), the types of its candidate spans of at most four words:
    what it holds that the question may ask for. All sentences' spans are typed at once."""
    found = [[(first, last) for first, last in candidates(words, profile) if last - first < 4]
             for words in sentences]
    held: list[set[str]] = [set() for _ in sentences]
    if not any(found):
        return held
    at = _Layout([(words, "") for words in sentences], found)
    types = Runs(at.words, at.is_end).types(at.first, at.last)
    for sentence, kind in set(zip(at.owner.tolist(), types.tolist())):
        held[sentence].add(SPAN_TYPES[kind])
    return held


def _question_distance(at: _Layout, profile: QuestionProfile) -> list[np.ndarray]:
    """Per span: the log of and the inverse of the distance in words to the nearest
    question word of its sentence; and the question's weight near it (weight /
    (1 + distance)), before it and after it, as shares of the weight its sentence
    matches. A word of the current turn counts twice."""
    words = at.words
    matched = np.asarray([i for i, w in enumerate(words) if w.stem in profile.weights], int)
    weight = np.asarray([profile.weights[words[i].stem] * (2 if words[i].stem in profile.current
                         else 1) for i in matched], float)
    same = at.sentence_of[matched][None, :] == at.owner[:, None]
    distance = np.minimum(np.abs(matched - at.first[:, None]), np.abs(matched - at.last[:, None]))
    nearest = np.where(same, distance, np.iinfo(int).max).min(1, initial=np.iinfo(int).max)
    nearest = np.where(same.any(1), nearest, at.end - at.begin).astype(float)
    total = np.bincount(at.sentence_of[matched], weight, len(at.sizes))[at.owner]
    total = np.where(total > 0, total, 1.0)
    near = (same * weight / (1 + distance)).sum(1) / total
    left = (same * weight * (matched < at.first[:, None])).sum(1) / total
    right = (same * weight * (matched > at.last[:, None])).sum(1) / total
    return [np.log1p(nearest), 1.0 / (1 + nearest), near, left, right]


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
