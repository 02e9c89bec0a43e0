"""Questions about a document itself are answered from what the index knows of it, cited."""

from __future__ import annotations

import pytest

from qa import Assistant
from qa.about import asks_about_document
from seedqa.settings import Settings
from tests.conftest import SEEDS

NOTE = "Harbour Works Update\n\nBy Jane Smith\n\nThe quay will reopen in March after repairs costing £2m.\n"


@pytest.mark.parametrize(("question", "kind"), [
    ("When was the report published?", "date"),
    ("What is the date of the article?", "date"),
    ("When was it written?", "date"),
    ("Who wrote the report?", "author"),
    ("Who is the author of this article?", "author"),
    ("When did Russia fire the drones?", None),
    ("Who wrote the letter to Zelensky?", None),
    ("When was the Geran-5 first used?", None),
])
def test_questions_about_a_document_are_told_apart(question, kind):
    assert asks_about_document(question) == kind


def test_in_a_conversation_the_document_must_be_named():
    assert asks_about_document("When was it written?", follow_up=True) is None
    assert asks_about_document("When was the report written?", follow_up=True) == "date"


@pytest.fixture(scope="module")
def two_documents(tmp_path_factory, seed_index):
    docs = tmp_path_factory.mktemp("docs")
    (docs / "note.txt").write_text(NOTE)
    settings = Settings(data_dir=tmp_path_factory.mktemp("index"), cache_dir=seed_index.cache_dir)
    assistant = Assistant(settings)
    assert not assistant.add_documents([SEEDS, docs]).errors
    return assistant


def test_the_report_date_comes_from_its_metadata(two_documents):
    answer = two_documents.answer("When was the report published?")
    assert not answer.abstained and answer.span == "2026-01-27"
    assert "**2026-01-27**" in answer.text and answer.text.endswith("[1]")
    assert answer.citations[0].source.endswith("000_058eabdb224c7ed9.txt")
    assert answer.citations[0].start == 0  # the document's opening passage


def test_a_byline_answers_who_wrote_it(two_documents):
    answer = two_documents.answer("Who wrote the harbour update?")
    assert answer.span == "Jane Smith" and answer.citations[0].source.endswith("note.txt")


def test_a_named_document_without_a_byline_says_so(two_documents):
    answer = two_documents.answer("Who wrote the Odesa report?")
    assert answer.abstained and "states no author" in answer.text
    assert answer.citations[0].source.endswith("000_058eabdb224c7ed9.txt")
