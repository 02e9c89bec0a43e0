"""Soft word matches: how much of the question's predicate a sentence says in other words.

"What did the drones aim at in Odesa?" shares only "drones" and "Odesa" with
"The drones targeted the power grid", as it does with "The Odesa attack
involved more than 50 drones"; the word that tells them apart, "aim" against
"targeted", is a paraphrase. Each predicate word of the question (its terms
other than its key names) counts 1 where the sentence has its stem, else its
cosine with the sentence's nearest content word in the packaged model's
word-piece vectors (index/lexicon.py), less a floor that unrelated words
reach; weighted by idf as `predicate_match` is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.lexicon import Lexicon
from qa.reader import spans as span_lib

# Unrelated words sit about 0.1-0.2 apart in these vectors: a match counts above it.
_FLOOR = 0.2


@dataclass(frozen=True)
class Predicate:
    """The question's predicate words: one stem, surface form and idf weight each."""

    stems: tuple[str, ...]
    words: tuple[str, ...]
    weights: np.ndarray

    @classmethod
    def of(cls, question: str, predicate: dict[str, float]) -> Predicate:
        found: dict[str, str] = {}
        for word in span_lib.sentence_words(question):
            if word.stem in predicate and word.stem not in found:
                found[word.stem] = word.folded
        return cls(tuple(found), tuple(found.values()),
                   np.asarray([predicate[s] for s in found], np.float64))


def soft_matches(lexicon: Lexicon | None, asked: Predicate,
                 sentence_words: Sequence[Sequence[span_lib.Word]],
                 sentence_terms: Sequence[frozenset[str]]) -> np.ndarray:
    """Per sentence, the weighted share of the predicate it says, exactly or in other words.

    Without a lexicon (the packaged model missing) only exact matches count.
    """
    total = float(asked.weights.sum())
    out = np.zeros(len(sentence_words))
    if not asked.words or total <= 0:
        return out
    content = [[w.folded for w in words if w.stem in terms and not w.numeric]
               for words, terms in zip(sentence_words, sentence_terms)]
    vocabulary = sorted({w for listed in content for w in listed})
    near = None
    if lexicon is not None and vocabulary:
        sims = lexicon.vectors(list(asked.words)) @ lexicon.vectors(vocabulary).T
        near = np.clip((sims - _FLOOR) / (1.0 - _FLOOR), 0.0, 1.0)
        column = {w: i for i, w in enumerate(vocabulary)}
    for number, terms in enumerate(sentence_terms):
        exact = np.asarray([1.0 if s in terms else 0.0 for s in asked.stems])
        if near is not None and content[number]:
            soft = near[:, [column[w] for w in content[number]]].max(axis=1)
            exact = np.maximum(exact, soft)
        out[number] = float(exact @ asked.weights) / total
    return out
