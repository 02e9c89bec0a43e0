"""The reader's soft word matches: a sentence saying the question's predicate in other words."""

from __future__ import annotations

import numpy as np
import pytest

from index.lexicon import Lexicon, packaged_lexicon
from qa.reader import spans as span_lib
from qa.reader.features import TABLE_FEATURES, ReaderInput, sentence_table
from qa.reader.paraphrase import Predicate, soft_matches
from qa.types import Citation
from seedqa.text import terms

INVOLVED = "The Odesa attack involved more than 50 drones."
TARGETED = "The drones targeted the power grid and hit five apartment blocks."
KILLED = "The bombardment of Odesa killed at least three people."


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    found = packaged_lexicon()
    assert found is not None
    return found


def _soft(lexicon, question: str, sentences: list[str], names=("odesa", "drone")) -> np.ndarray:
    predicate = {t: 1.0 for t in terms(question) if t not in names}
    return soft_matches(lexicon, Predicate.of(question, predicate),
                        [span_lib.sentence_words(s) for s in sentences],
                        [frozenset(terms(s)) for s in sentences])


def test_related_words_are_nearer_than_unrelated_ones(lexicon):
    def cos(a: str, b: str) -> float:
        va, vb = lexicon.vectors([a, b])
        return float(va @ vb)

    assert cos("death", "killed") > cos("death", "involved") + 0.2
    assert cos("aim", "targeted") > cos("aim", "involved") + 0.1
    assert cos("residential", "apartment") > cos("residential", "drones") + 0.2
    assert lexicon.vectors(["targeted"])[0] @ lexicon.vectors(["targeted"])[0] == pytest.approx(1)


@pytest.mark.parametrize("question, right", [
    ("What did the drones aim at in Odesa?", TARGETED),
    ("How many residential buildings were struck in Odesa?", TARGETED),
    ("What was the death toll in Odesa?", KILLED),
])
def test_the_sentence_saying_the_predicate_in_other_words_matches_more(lexicon, question, right):
    sentences = [INVOLVED, TARGETED, KILLED]
    soft = _soft(lexicon, question, sentences)
    assert int(np.argmax(soft)) == sentences.index(right)
    # Word overlap alone cannot tell them apart: no sentence has a predicate word.
    assert _soft(None, question, sentences).max() == 0


def test_an_exact_word_counts_in_full_and_without_a_lexicon(lexicon):
    question = "Who was killed in Odesa?"
    assert _soft(lexicon, question, [KILLED])[0] == pytest.approx(1.0)
    assert _soft(None, question, [KILLED, INVOLVED]).tolist() == [1.0, 0.0]


def test_a_question_of_names_only_has_no_predicate(lexicon):
    assert _soft(lexicon, "Odesa drones", [INVOLVED, TARGETED]).tolist() == [0.0, 0.0]


def test_the_sentence_table_carries_the_soft_match():
    passage = Citation(source="r.txt", title="", text=f"{INVOLVED} {TARGETED}", start=0,
                       end=len(INVOLVED) + len(TARGETED) + 1, score=1.0)
    table = sentence_table(ReaderInput("What did the drones aim at in Odesa?", (passage,),
                                       lambda term: 1.0))
    soft = table.features[:, TABLE_FEATURES.index("soft_predicate")]
    gain = table.features[:, TABLE_FEATURES.index("soft_gain")]
    gap = table.features[:, TABLE_FEATURES.index("soft_predicate_gap")]
    assert soft[1] > soft[0] and gain[1] > 0
    assert gap.max() == 0 and gap[0] < 0


def test_the_lexicon_stays_bounded(lexicon, monkeypatch):
    import index.lexicon as module

    monkeypatch.setattr(module, "_MAX_WORDS", 50)
    made_up = [f"zq{i}xv" for i in range(120)]
    for start in range(0, 120, 30):
        lexicon.vectors(made_up[start : start + 30])
    assert len(lexicon._known) <= 50
    assert lexicon.vectors(made_up[:3]).shape == (3, 384)
