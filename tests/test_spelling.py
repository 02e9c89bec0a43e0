"""Typos in questions are corrected against the documents' own words."""

from __future__ import annotations

import pytest

from qa import Assistant
from qa.lexical import LexicalIndex
from qa.spelling import Speller, distance

TEXTS = ["The company earned 5bn before tax, much more than last year.",
         "Russia fired drones at Kyiv overnight; the ministry said most were downed."]


def speller(dictionary=frozenset({"earn", "much", "before", "company", "fired"})) -> Speller:
    lexical = LexicalIndex(TEXTS)
    return Speller(TEXTS, lambda term: term in lexical.vocabulary, dictionary)


@pytest.mark.parametrize(("a", "b", "edits"), [
    ("mcuh", "much", 1), ("compnay", "company", 1), ("befor", "before", 1), ("much", "much", 0),
    ("lviv", "kyiv", 2), ("dornes", "drones", 1), ("", "abc", 3),
])
def test_distance_counts_a_swap_as_one_edit(a, b, edits):
    assert distance(a, b) == edits


def test_misspelt_words_become_the_documents_words():
    assert speller().correct("How mcuh did the compnay earn befor tax?") == \
        "How much did the company earn before tax?"
    assert speller().correct("How many dornes were fierd overnigth?") == \
        "How many drones were fired overnight?"


def test_known_words_and_names_are_left_alone():
    # "earn": not in the documents, but a word; "Lviv": a name they lack must stay absent.
    assert speller().correct("Did they earn more in Lviv?") == "Did they earn more in Lviv?"
    assert speller(frozenset()).correct("Did the minstry say so?") == "Did the ministry say so?"
    assert speller().correct("zzzzqx") == "zzzzqx"  # nothing near it: unchanged


def test_a_question_with_typos_is_answered(seed_index):
    answer = Assistant(seed_index).answer("How mnay dornes did Russia fire at Ukraine overnigth?")
    assert answer.corrected_question == "How many drones did Russia fire at Ukraine overnight?"
    assert answer.question == "How mnay dornes did Russia fire at Ukraine overnigth?"
    assert not answer.abstained and "165" in answer.text
    clean = Assistant(seed_index).answer("How many drones did Russia fire at Ukraine overnight?")
    assert clean.corrected_question is None
