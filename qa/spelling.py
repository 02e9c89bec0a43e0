"""Typos in questions: "How mcuh did the compnay earn befor tax?" still finds and answers.

A lower-case word of a question is corrected only when nothing knows it: not
the documents (their stemmed terms, their words), not the stop-word list, and
not the embedding model's own vocabulary of 22,500 whole English words (so
"earn" stays "earn" in a corpus that never uses it). It becomes the most
frequent word of the documents within one edit (two for words of seven
letters or more), counting a swap of neighbouring letters as one edit.
Capitalised words are left alone: a name the documents lack ("Belarus",
"Lviv") must stay absent, not turn into one they hold.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable

from seedqa.text import STOPWORDS, fold, stem

_WORD = re.compile(r"[A-Za-z]+")
_SHORTEST = 4  # shorter words have too many neighbours one edit away


class Speller:
    """Corrects question words against the words of a corpus; built once per index snapshot."""

    def __init__(self, texts: Iterable[str], known_terms: Callable[[str], bool],
                 dictionary: frozenset[str] = frozenset()) -> None:
        self._texts = texts
        self._known_terms = known_terms  # is this stem one of the corpus's terms?
        self._dictionary = dictionary

    def correct(self, question: str) -> str:
        """`question` with its unknown lower-case words corrected; unchanged when none are."""
        def replace(match: re.Match) -> str:
            word = match.group()
            if len(word) < _SHORTEST or not word.islower() or self._known(word):
                return word
            return self._nearest(word) or word

        return _WORD.sub(replace, question)

    def _known(self, word: str) -> bool:
        # The corpus's word counts are built only when the cheap checks all fail.
        return (word in STOPWORDS or word in self._dictionary or self._known_terms(stem(word))
                or word in self._counts)

    def _nearest(self, word: str) -> str | None:
        limit = 2 if len(word) >= 7 else 1
        found = {candidate for variant in _deletes(word, limit)
                 for candidate in self._by_delete.get(variant, ())}
        scored = [(distance(word, candidate), -self._counts[candidate], candidate)
                  for candidate in found]
        scored = [entry for entry in scored if entry[0] <= limit]
        return min(scored)[2] if scored else None

    @functools.cached_property
    def _counts(self) -> Counter:
        counts = Counter(fold(word) for text in self._texts for word in _WORD.findall(text))
        for word in STOPWORDS:
            counts[word] += 1
        return counts

    @functools.cached_property
    def _by_delete(self) -> dict[str, tuple[str, ...]]:
        """Each corpus word under itself and the strings one deletion away from it."""
        index: dict[str, list[str]] = {}
        for word in self._counts:
            if len(word) >= _SHORTEST - 1:
                for variant in _deletes(word, 1):
                    index.setdefault(variant, []).append(word)
        return {variant: tuple(words) for variant, words in index.items()}


def _deletes(word: str, depth: int) -> set[str]:
    """`word` and every string `depth` deletions or fewer away from it."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def distance(a: str, b: str) -> int:
    """Edits from `a` to `b`: insertions, deletions, substitutions, neighbour swaps."""
    previous2, previous = None, list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (char_a != char_b))
            if (previous2 is not None and i > 1 and j > 1 and char_a == b[j - 2]
                    and a[i - 2] == char_b):
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
