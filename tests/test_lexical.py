"""BM25 scores against the formula worked by hand on a three-text corpus."""

import math

import numpy as np
import pytest

from qa.lexical import LexicalIndex

TEXTS = ["drones hit the power grid", "drones drones over Odesa", "a quiet night"]


def bm25(term_count: int, length: int, average: float, df: int, size: int,
         k1: float = 1.2, b: float = 0.75) -> float:
    idf = math.log1p((size - df + 0.5) / (df + 0.5))
    return idf * term_count * (k1 + 1) / (term_count + k1 * (1 - b + b * length / average))


def test_scores_follow_the_bm25_formula():
    index = LexicalIndex(TEXTS)
    lengths = [4, 3, 2]  # terms once stop words go: drone hit power grid / drone drone odesa
    average = sum(lengths) / 3
    scores = index.scores({"drone": 1.0, "odesa": 0.5})
    expected = [bm25(1, lengths[0], average, 2, 3),
                bm25(2, lengths[1], average, 2, 3) + 0.5 * bm25(1, lengths[1], average, 1, 3),
                0.0]
    assert scores == pytest.approx(expected, rel=1e-5)


def test_search_leaves_out_texts_without_a_query_term():
    index = LexicalIndex(TEXTS)
    found = index.search_scores(index.scores({"odesa": 1.0}), 3)
    assert [row for row, _ in found] == [1]


def test_unknown_terms_score_nothing_and_weigh_most():
    index = LexicalIndex(TEXTS)
    assert not index.scores({"belarus": 1.0}).any()
    assert index.idf("belarus") > index.idf("odesa") > index.idf("drone")


def test_an_empty_corpus_scores_nothing():
    index = LexicalIndex([])
    assert index.scores({"drone": 1.0}).shape == (0,)
    assert index.search_scores(np.zeros(0, np.float32), 5) == []
