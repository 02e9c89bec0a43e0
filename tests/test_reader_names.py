"""When a document names a question's key names: the other usual ways of writing a name
(qa/reader/names.py), a document's title, and the measure a "what is the X of" asks."""

from __future__ import annotations

import pytest

from qa import Assistant
from qa.reader.features import ReaderInput, title_names
from qa.reader.model import load_model
from qa.reader.names import name_forms
from qa.reader.question import asked_property, key_names
from qa.reader.reader import read
from qa.reader.spans import sentence_words
from qa.types import Citation
from tests.conftest import assistant_over


def _forms(text: str) -> frozenset[str]:
    return name_forms(sentence_words(text))


def test_acronyms_are_the_initials_of_capitalised_names():
    forms = _forms("Members of the Scottish Parliament met the New York City Council.")
    assert {"sp", "nyc", "nycc", "ny"} <= forms
    # Connectors inside a name are skipped; a run ends at any other word.
    assert "uefa" in _forms("the Union of European Football Associations")
    assert "nm" not in _forms("New members joined.")  # "members" is not capitalised
    assert "us" in _forms("The U.S. team won.") and "us" in _forms("the United States")


def test_numbers_are_found_in_words_ordinals_and_decades():
    assert {"3", "7"} <= _forms("Three ministers met on the seventh day.")
    assert "3" in _forms("It opened on the 3rd of May.")
    assert "50s" in _forms("Jazz thrived in the 1950s.")


def test_a_place_and_the_word_for_its_people_name_each_other():
    (israeli,) = key_names("Which firm did the Israeli maker buy?")
    assert israeli in _forms("Israel's Teva is the biggest maker.")
    (israel,) = key_names("Which firm in Israel is the biggest maker?")
    assert israel in _forms("The Israeli firm Teva is the biggest maker.")
    (american,) = key_names("What did the American unit cost?")
    for text in ("The US unit cost $339m.", "The U.S. unit cost $339m.",
                 "The United States unit cost $339m."):
        assert american in _forms(text)
    # A closed list of whole words, and only capitalised ones: not a shared prefix, and
    # not the pronoun "us".
    (australian,) = key_names("Which Australian firm bought it?")
    assert australian not in _forms("An Austrian firm bought it.")
    assert american not in _forms("It cost us $339m.")


def test_a_questions_names_are_looked_up_in_those_forms():
    assert key_names("How many DSMs did the US award on the 3rd of May?") == (
        "dsm", "us", "3", "may")
    assert "dsm" in _forms("Several DSMs were awarded.")
    assert "mp" in _forms("Labour MPs voted against it.")


def test_a_title_names_what_its_document_is_about():
    assert {"freder", "chopin"} <= title_names("Frédéric Chopin")
    assert title_names("") == frozenset()


def test_only_a_measure_must_be_named_by_the_document():
    assert asked_property("What is the population of Odesa?") == frozenset({"popul"})
    assert asked_property("What was the range of the drone?") == frozenset({"rang"})
    # A nickname ("known as ..."), an address or a cost are given without their word.
    assert asked_property("What is the nickname of New York City?") == frozenset()
    assert asked_property("What is the street address of the headquarters?") == frozenset()


@pytest.fixture(scope="module")
def city_assistant(tmp_path_factory):
    return assistant_over(tmp_path_factory, {"bridges.txt": (
        "Bridges of New York City\n\n"
        "New York City has more than 2,000 bridges and tunnels, the transport department "
        "said in a report published on Tuesday.\n\n"
        "The oldest of them, the High Bridge, opened in 1848 to carry water across the "
        "Harlem River.\n")})


def test_a_name_written_as_its_acronym_is_answered(city_assistant):
    answer = city_assistant.answer("How many bridges and tunnels does NYC have?")
    assert not answer.abstained, answer.text
    assert "2,000" in answer.text
    # A city the report never names still abstains.
    assert city_assistant.answer("How many bridges and tunnels does Boston have?").abstained


def test_a_subject_named_only_by_its_title_is_answered():
    # A passage deep in a long article calls its subject by the surname alone.
    passage = "Chopin left Warsaw in 1830 and settled in Paris the following year."
    model = load_model()

    def reading(title: str):
        cited = Citation(source="chopin.txt", title=title, text=passage, start=9000,
                         end=9000 + len(passage), score=1.0)
        return read(ReaderInput("When did Frédéric leave Warsaw?", (cited,), lambda t: 1.0),
                    model)

    best = reading("Frédéric Chopin").best
    assert best is not None and "1830" in best.sentence.text
    assert reading("Chopin").best is None  # nothing names "Frédéric"


def test_a_reports_date_holds_its_year(seed_index):
    # The seed report is dated 2026-01-27; its text never writes the year.
    assistant = Assistant(seed_index)
    answer = assistant.answer("How many drones did Russia fire at Ukraine overnight in 2026?")
    assert not answer.abstained, answer.text
    assert "165" in answer.text
    assert assistant.answer("How many drones did Russia fire at Ukraine in 2025?").abstained
