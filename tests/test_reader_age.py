""""How old is he?" asks for an age: a number a sentence gives as someone's age, not any
number near the name ("the 14th lecture", "odds of 40-1")."""

from __future__ import annotations

import pytest

from qa.reader.question import answer_kind
from qa.reader.spans import sentence_words, word_type
from tests.conftest import assistant_over


def _type(sentence: str, span: str) -> str:
    words = sentence_words(sentence)
    first = next(i for i, w in enumerate(words) if sentence[w.begin:].startswith(span))
    last = next(i for i, w in enumerate(words) if w.end == sentence.index(span) + len(span))
    return word_type(words, first, last)


@pytest.mark.parametrize("question", [
    "How old is Alan Greenspan?", "At what age did she retire?",
    "What was his age when he died?", "Jackie Stallone age"])
def test_age_questions(question):
    assert answer_kind(question) == "age"


def test_a_long_question_is_not_an_age_question():
    assert answer_kind("How long did the old bridge stand?") == "duration"
    assert answer_kind("How many years did the war last?") == "duration"


@pytest.mark.parametrize("sentence, span", [
    ("The 79-year-old said he would retire.", "79"),
    ("He died aged 71 in Rome.", "71"),
    ("She retired at the age of 32.", "32"),
    ("He is 45 years old.", "45 years"),
    ("Mr Greenspan, 79, delivered the lecture.", "79"),
])
def test_ages_in_a_sentence(sentence, span):
    assert _type(sentence, span) == "age"


@pytest.mark.parametrize("sentence, span", [
    ("He delivered the 14th lecture.", "14th"),
    ("She is the outsider at odds of 40-1.", "40-1"),
    ("In March, 12 people were hurt.", "12"),
    ("It scored 3, 4, and then 5.", "4"),
    ("The bridge stood for 45 years.", "45 years"),
])
def test_other_numbers_are_no_ages(sentence, span):
    assert _type(sentence, span) != "age"


@pytest.fixture(scope="module")
def lecture_assistant(tmp_path_factory):
    return assistant_over(tmp_path_factory, {"lecture.txt": (
        "Greenspan praises Adam Smith\n\n"
        "US Federal Reserve chairman Alan Greenspan has paid tribute to the economist Adam "
        "Smith in a lecture in Scotland.\n\n"
        "He delivered the 14th Adam Smith Lecture in Kirkcaldy, Fife, on Sunday.\n\n"
        "Mr Greenspan, 79, said Smith's ideas still shaped the modern economy, and he "
        "compared his genius to that of Mozart.\n")})


def test_how_old_gets_the_age_not_another_number(lecture_assistant):
    answer = lecture_assistant.answer("How old is Alan Greenspan?")
    assert not answer.abstained, answer.text
    assert "79" in answer.text, answer.text
    assert answer.span is None or "79" in answer.span
