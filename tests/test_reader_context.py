"""What the reader's features see around a sentence: adjacent retrieved passages of the
same document read as one text, and whether the answer's span is of the asked kind."""

from __future__ import annotations

import numpy as np
import pytest

from qa.reader.features import (
    CONFIDENCE_FEATURES,
    TABLE_FEATURES,
    ReaderInput,
    adjacent,
    confidence_features,
    sentence_table,
)
from qa.types import Citation

# Two paragraphs of one report, each its own chunk, with a photo credit opening the second.
FIRST = "The Odesa attack involved more than 50 drones, officials said."
SECOND = ("One person was killed in overnight strikes (Michael Shtekel/AP)\n\n"
          "The drones targeted the power grid and hit five apartment blocks.")
ELSEWHERE = "Kharkiv was also attacked by drones on Sunday night."


def _passage(text: str, start: int, source: str = "report.txt", score: float = 1.0) -> Citation:
    return Citation(source=source, title="", text=text, start=start, end=start + len(text),
                    score=score)


def _reader(question: str, passages) -> ReaderInput:
    return ReaderInput(question, tuple(passages), lambda term: 1.0)


def _column(table, name: str, text: str) -> float:
    index = next(i for i, s in enumerate(table.sentences) if s.text.startswith(text))
    return float(table.features[index, TABLE_FEATURES.index(name)])


def test_adjacent_retrieved_passages_of_one_document_are_linked():
    first = _passage(FIRST, 100)
    second = _passage(SECOND, first.end + 2)  # a paragraph break between them
    far = _passage(ELSEWHERE, second.end + 400)
    other_document = _passage(ELSEWHERE, first.end + 2, source="other.txt")
    # Retrieval order is by score, not by place in the document.
    assert adjacent([second, far, first, other_document]) == [
        (2, None), (None, None), (None, 0), (None, None)]


def test_a_sentence_opening_a_passage_follows_the_retrieved_paragraph_before_it():
    first = _passage(FIRST, 100)
    second = _passage(SECOND, first.end + 2, score=0.5)
    question = "What did the drones target in Odesa?"
    table = sentence_table(_reader(question, [first, second]))
    alone = sentence_table(_reader(question, [second]))
    targeted = "The drones targeted"
    # Past the credit, the paragraph naming Odesa is what comes before.
    assert _column(table, "prev_match", targeted) > 0
    assert _column(alone, "prev_match", targeted) == 0
    assert (_column(table, "with_prev_match", targeted)
            > _column(alone, "with_prev_match", targeted))
    # Odesa is not in the passage, but it is in the text around it.
    assert _column(table, "names_missing_passage", targeted) == 1.0
    assert _column(table, "names_missing_context", targeted) == 0.0
    assert _column(alone, "names_missing_context", targeted) == 1.0
    assert _column(table, "next_match", "The Odesa attack") > 0


def _confidence(question: str, text: str, span_text: str) -> dict[str, float]:
    reader = _reader(question, [_passage(text, 0)])
    table = sentence_table(reader)
    begin = table.sentences[0].text.index(span_text)
    row = confidence_features(table, np.zeros(len(table.sentences)), 0, 0.0, reader,
                              (begin, begin + len(span_text)))
    return dict(zip(CONFIDENCE_FEATURES, row, strict=True))


@pytest.mark.parametrize(("question", "text", "span", "of_kind"), [
    ("How old is the club's new manager?",
     "The club's new manager, Tom Hale, 44, joined from Hull in the summer.", "44", 1.0),
    ("How old is the club's new manager?",
     "The club's new manager joined from Hull in the summer.", "Hull", 0.0),
    ("How much did the club pay for its stake?",
     "The club bought a 50% stake in the stadium company.", "50%", 0.0),
    ("How much did the club pay for its stake?",
     "The club paid £4m for its stake in the stadium company.", "£4m", 1.0),
])
def test_the_confidence_head_sees_whether_the_span_is_of_the_asked_kind(
        question, text, span, of_kind):
    row = _confidence(question, text, span)
    assert (row["span_of_kind"], row["span_not_of_kind"]) == (of_kind, 1.0 - of_kind)


def test_a_question_of_no_kind_in_particular_has_neither():
    row = _confidence("What did the club buy?", "The club bought a stake in the stadium.",
                      "stadium")
    assert (row["span_of_kind"], row["span_not_of_kind"]) == (0.0, 0.0)


def test_a_hyphenated_name_is_held_by_the_sentence_that_writes_it_whole():
    """The question's "Geran-5" is the key names "geran" and "5"; the sentence's word is
    "geran-5", held as itself and as its parts, as the passage holds it."""
    text = ("Russia has deployed the new jet-powered Geran-5 strike drone. "
            "The drone can carry a 90kg warhead and has a range of nearly 1,000km.")
    table = sentence_table(_reader("What is the range of the Geran-5?", [_passage(text, 0)]))
    assert _column(table, "names_missing_sentence", "Russia has deployed") == 0.0
    assert _column(table, "names_missing_sentence", "The drone can carry") == 1.0
    assert _column(table, "names_missing_passage", "The drone can carry") == 0.0
