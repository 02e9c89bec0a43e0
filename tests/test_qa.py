"""The answering side: retrieval, the answer's shape, errors, LangChain plumbing."""

from __future__ import annotations

import json

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable

import qa
from qa import Answer, Assistant, Citation
from seedqa.errors import IndexNotReadyError, InvalidQuestionError


@pytest.fixture(scope="module")
def assistant(seed_index) -> Assistant:
    return Assistant(seed_index)


def test_retrieve_ranks_the_answering_passage_first(assistant):
    passages = assistant.retrieve("How many drones did Russia fire at Ukraine overnight?", k=3)
    assert len(passages) == 3
    assert all(isinstance(p, Citation) for p in passages)
    assert "Russia fired 165 drones" in passages[0].text
    assert passages[0].score >= passages[1].score >= passages[2].score
    first = passages[0]
    assert first.title and first.date == "2026-01-27" and first.source.endswith(".txt")
    assert assistant.document_text(first.source)[first.start : first.end] == first.text


def test_citations_are_the_document_text_between_their_offsets(assistant):
    answer = assistant.answer("What drone is the Geran a Russian variant of?")
    assert answer.citations
    for citation in answer.citations:
        assert assistant.document_text(citation.source)[citation.start : citation.end] == citation.text


def test_answer_serialises_to_json(assistant):
    answer = assistant.answer("How many apartment blocks were hit?")
    data = json.loads(answer.to_json())
    assert data["abstained"] is False
    assert data["citations"][0]["text"] == answer.citations[0].text
    assert set(data["citations"][0]) >= {"source", "title", "date", "page", "text", "start",
                                         "end", "score"}


def test_answer_is_frozen(assistant):
    answer = assistant.answer("How many apartment blocks were hit?")
    with pytest.raises(AttributeError):
        answer.text = "changed"  # type: ignore[misc]


def test_abstention_says_so_plainly(assistant):
    answer = assistant.answer("Who won the 2022 football World Cup?")
    assert answer.abstained
    assert answer.text.startswith("The documents don't say")
    assert "[1]" not in answer.text
    assert answer.span is None


def test_stream_ends_with_the_full_answer(assistant):
    parts = list(assistant.stream("How many people were injured in Odesa?"))
    assert parts[-1] == assistant.answer("How many people were injured in Odesa?")


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "?!?", "x" * 5000])
def test_bad_questions_raise_a_clear_error(assistant, question):
    with pytest.raises(InvalidQuestionError) as caught:
        assistant.answer(question)
    assert str(caught.value)


def test_missing_index_tells_the_user_to_ingest(settings):
    with pytest.raises(IndexNotReadyError, match="seedqa ingest"):
        Assistant(settings).answer("How many drones?")


def test_module_functions_read_seedqa_data_dir(seed_index, monkeypatch):
    monkeypatch.setenv("SEEDQA_DATA_DIR", str(seed_index.data_dir))
    answer = qa.answer("How many people were injured in Odesa?")
    assert isinstance(answer, Answer) and "23" in answer.text
    assert len(qa.retrieve("Geran-5 warhead", k=2)) == 2


def test_retriever_and_answerer_are_langchain_components(assistant):
    assert isinstance(assistant.retriever, BaseRetriever)
    assert isinstance(assistant.answerer, Runnable)
    documents = assistant.retriever.invoke("Which sites did Unesco say were damaged?")
    assert documents and "Unesco" in " ".join(d.page_content for d in documents)
    assert documents[0].metadata["source"].endswith(".txt")


def test_index_changes_are_seen_without_restart(settings, tmp_path):
    assistant = Assistant(settings)
    first = tmp_path / "a.txt"
    first.write_text("Ferry Times\n\nThe ferry to Skye leaves at 9 am.\n")
    assistant.add_documents([first])
    assert "9 am" in assistant.answer("When does the ferry to Skye leave?").text
    second = tmp_path / "b.txt"
    second.write_text("Bus Times\n\nThe bus to Portree departs at 4 pm.\n")
    assistant.add_documents([second])
    assert "4 pm" in assistant.answer("When does the bus to Portree depart?").text
    assistant.remove_document(str(second.resolve()))
    assert len(assistant.documents()) == 1


@pytest.mark.parametrize(("question", "leans"), [
    ("How old is he?", True),
    ("What is the second single from it?", True),
    ("How many people were injured there?", True),
    ("When did that happen?", True),
    ("What about Kharkiv?", True),
    ("And the second?", True),
    ("Are there any casualties in Odesa?", False),
    ("How much did the company earn this year?", False),
    ("Which company that bought Hexal paid most?", False),
    ("How many drones did Russia fire at Ukraine overnight?", False),
])
def test_a_follow_up_is_told_from_a_question_that_stands_alone(question, leans):
    from qa.conversation import is_follow_up

    assert is_follow_up(question) is leans


def test_a_follow_up_searches_with_the_names_the_last_answer_gave():
    from qa.conversation import search_query

    history = [{"role": "user", "content": "Which film topped the US box office?"},
               {"role": "assistant", "content": "**Meet the Fockers** took $46m [1]"}]
    assert search_query("Who directed it?", history) == \
        "Which film topped the US box office? Meet Fockers Who directed it?"
    assert search_query("Who directed Titanic?", history) == "Who directed Titanic?"


def test_an_unrelated_earlier_turn_leaves_a_standalone_answer_alone(seed_index):
    assistant = Assistant(seed_index)
    alone = assistant.answer("How many drones did Russia fire at Ukraine overnight?")
    history = [{"role": "user", "content": "What is the Geran-5?"},
               {"role": "assistant", "content": assistant.answer("What is the Geran-5?").text}]
    after = assistant.answer("How many drones did Russia fire at Ukraine overnight?", history)
    assert after.text == alone.text and after.citations == alone.citations


def test_fold_lines_joins_hard_wrapped_prose_and_keeps_headings_and_lists():
    from seedqa.text import fold_lines

    text = ("Harbour Report\n\nThe drone can carry a 90kg warhead and it has a range of nearly\n"
            "1,000km.\n\n- item one\n- item two\n")
    folded = fold_lines(text)
    assert "range of nearly 1,000km." in folded
    assert folded.startswith("Harbour Report\n\n") and "- item one\n- item two" in folded
    assert len(folded) == len(text)  # offsets into the text still hold


def test_the_answerers_input_is_json_with_a_schema_and_answers_the_same(seed_index):
    from qa.answerer import AnswerRequest

    assistant = Assistant(seed_index)
    schema = assistant.answerer.get_input_jsonschema()
    assert {"question", "passages", "term_weights", "sentence_cosines"} <= set(schema["properties"])
    request = assistant._request("How many drones did Russia fire at Ukraine overnight?", None)
    again = AnswerRequest.model_validate_json(request.model_dump_json())
    assert again.embed is None and again.passages == request.passages
    assert assistant.answerer.invoke(again).text == assistant.answerer.invoke(request).text
