"""Every seed question is answered correctly through `qa.answer` (the acceptance test).

Real model, real Chroma in a temp dir, the index chosen by SEEDQA_DATA_DIR as a
user would. Correct: contains an accepted answer and cites a passage holding
the `support` quote; unanswerable: abstains.
"""

from __future__ import annotations

import pytest

import qa
from evaluation.questions import answer_body, find_any
from tests.conftest import seed_questions

QUESTIONS = seed_questions()


@pytest.fixture
def seed_env(seed_index, monkeypatch):
    monkeypatch.setenv("SEEDQA_DATA_DIR", str(seed_index.data_dir))
    monkeypatch.setenv("SEEDQA_CACHE_DIR", str(seed_index.cache_dir))


def _history(questions: list[str]) -> list[dict]:
    messages = []
    for earlier in questions:
        messages.append({"role": "user", "content": earlier})
        messages.append({"role": "assistant", "content": qa.answer(earlier, messages).text})
    return messages


@pytest.mark.parametrize("item", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_seed_question(seed_env, item):
    answer = qa.answer(item["question"], _history(item.get("history", [])) or None)
    if not item["answerable"]:
        assert answer.abstained, answer.text
        assert answer.text.startswith("The documents don't say")
        return
    assert not answer.abstained, answer.text
    assert find_any(answer_body(answer.text), item["answers"]), answer.text
    support = item["support"] if isinstance(item["support"], list) else [item["support"]]
    assert any(find_any(c.text, support) for c in answer.citations), answer.citations
    assert "[1]" in answer.text
    assert len(answer_body(answer.text).replace("**", "").split()) <= 42  # about 40 words


def test_answers_are_short_and_highlight_the_span(seed_env):
    answer = qa.answer("How many drones did Russia fire at Ukraine overnight?")
    assert answer.span == "165"
    assert "**165**" in answer.text


def test_follow_up_uses_history(seed_env):
    first = "How many drones did Russia fire at Ukraine overnight?"
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": qa.answer(first).text}]
    follow_up = qa.answer("How many of them got through air defences?", history)
    assert not follow_up.abstained
    assert follow_up.span == "24"
