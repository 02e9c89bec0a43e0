"""`Assistant(llm=...)` and `assistant.as_runnable()`, used the way a LangChain user would.

The user's own chat model is LangChain's `FakeListChatModel` (a stand-in for a paid
model, which cannot run here); everything else is real: the seed index, Chroma,
the embedding model, the grounding check.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda

import qa
from qa import Answer, Assistant
from seedqa.errors import InvalidQuestionError

QUESTION = "How many drones did Russia fire at Ukraine overnight?"
FOLLOW_UP = "How many of them got through air defences?"
SUPPORTED = "Russia fired 165 drones at Ukraine overnight [1]."
INVENTED = "The drones were launched from the Moon by 9,999 robots [1]."
REWRITE = "How many of the drones Russia fired at Ukraine overnight got through air defences?"


class Recorder(BaseCallbackHandler):
    """Every run that starts, with its kind, name and parent."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str | None, object, object]] = []

    def _add(self, kind: str, serialized, kwargs) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name")
        self.runs.append((kind, name, kwargs["run_id"], kwargs.get("parent_run_id")))

    def on_chain_start(self, serialized, inputs, **kwargs) -> None:
        self._add("chain", serialized, kwargs)

    def on_retriever_start(self, serialized, query, **kwargs) -> None:
        self._add("retriever", serialized, kwargs)

    def on_chat_model_start(self, serialized, messages, **kwargs) -> None:
        self._add("chat_model", serialized, kwargs)

    def named(self, kind: str, name: str | None = None) -> list[tuple]:
        return [run for run in self.runs if run[0] == kind and (name is None or run[1] == name)]

    def ancestors(self, run_id) -> list[str]:
        parents = {run[2]: run for run in self.runs}
        names, run = [], parents.get(run_id)
        while run is not None and run[3] is not None:
            run = parents.get(run[3])
            if run is not None:
                names.append(run[1])
        return names


@pytest.fixture
def extractive(seed_index) -> Assistant:
    return Assistant(seed_index)


def test_lcel_chain_with_the_users_own_llm_fires_callbacks_for_retrieval_and_answer(seed_index):
    assistant = Assistant(seed_index, llm=FakeListChatModel(responses=[SUPPORTED]))
    chain = (RunnableLambda(lambda question: {"question": question})
             | assistant.as_runnable()
             | RunnableLambda(lambda answer: {"text": answer.text, "answer": answer}))
    recorder = Recorder()
    out = chain.invoke(QUESTION, {"callbacks": [recorder]})
    answer = out["answer"]
    assert out["text"] == answer.text == "Russia fired 165 drones at Ukraine overnight [1]."
    assert answer.generation.backend == "llm: FakeListChatModel" and answer.generation.llm_called
    assert answer.unsupported == () and "165" in answer.citations[0].text

    [root] = recorder.named("chain", "seedqa")
    [retrieval] = recorder.named("retriever", "HybridRetriever")
    [answering] = recorder.named("chain", "answer")
    [model] = recorder.named("chat_model")
    assert retrieval[3] == answering[3] == root[2]  # both children of the assistant's run
    assert "answer" in recorder.ancestors(model[2])  # the user's model runs inside `answer`
    assert recorder.ancestors(root[2])[-1] == "RunnableSequence"


def test_the_users_llm_goes_through_the_grounding_check_and_falls_back(seed_index):
    assistant = Assistant(seed_index, llm=FakeListChatModel(responses=[INVENTED]))
    answer = assistant.as_runnable().invoke(QUESTION)
    quoted = Assistant(seed_index).answer(QUESTION)
    assert answer.fallback == "extractive" and answer.generation.generated == INVENTED
    assert answer.unsupported and "9,999" in answer.unsupported[0]
    assert answer.text == quoted.text and answer.citations == quoted.citations
    assert assistant.answer(QUESTION, backend="extractive") == quoted  # quoting on request


def test_the_users_llm_rewrites_follow_ups_given_langchain_messages(seed_index):
    history = [SystemMessage("You answer from the documents."), HumanMessage(QUESTION),
               AIMessage("Russia fired 165 drones [1].")]
    assistant = Assistant(seed_index, llm=FakeListChatModel(
        responses=[REWRITE, "24 of the drones hit targets in seven regions [1]."]))
    recorder = Recorder()
    answer = assistant.as_runnable().invoke({"question": FOLLOW_UP, "history": history},
                                           {"callbacks": [recorder]})
    assert answer.question == FOLLOW_UP and answer.standalone_question == REWRITE
    assert "24" in answer.text and "24" in answer.citations[0].text
    assert len(recorder.named("chat_model")) == 2  # the rewrite, then the answer
    rewrite_model = recorder.named("chat_model")[0]
    assert "answer" not in recorder.ancestors(rewrite_model[2])


def test_qa_answer_can_use_the_users_llm(seed_index):
    qa.set_default_assistant(Assistant(seed_index, llm=FakeListChatModel(responses=[SUPPORTED])))
    try:
        answer = qa.answer(QUESTION)
        assert answer.generation.backend == "llm: FakeListChatModel" and answer.text == SUPPORTED
        assert [c.chunk_id for c in qa.retrieve(QUESTION, k=2)] == \
            [c.chunk_id for c in Assistant(seed_index).retrieve(QUESTION, 2)]
    finally:
        qa.set_default_assistant(None)


def test_runnable_answers_equal_the_assistants(extractive):
    runnable = extractive.as_runnable()
    first = extractive.answer(QUESTION)
    assert runnable.invoke(QUESTION) == first
    dicts = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first.text}]
    expected = extractive.answer(FOLLOW_UP, dicts)
    for history in (dicts, [HumanMessage(QUESTION), AIMessage(first.text)],
                    [("human", QUESTION), ("ai", first.text)]):
        assert runnable.invoke({"question": FOLLOW_UP, "history": history}) == expected
    assert "24" in expected.text


def test_stream_and_astream_yield_the_answer_as_it_grows(seed_index):
    assistant = Assistant(seed_index, llm=FakeListChatModel(responses=[SUPPORTED]))
    runnable = assistant.as_runnable()

    async def collect() -> list[Answer]:
        return [answer async for answer in runnable.astream(QUESTION)]

    for answers in (list(runnable.stream(QUESTION)), asyncio.run(collect())):
        partial = [a.text for a in answers[:-1]]
        assert len(partial) > 5 and all(a.partial for a in answers[:-1])
        assert all(later.startswith(earlier) for earlier, later in zip(partial, partial[1:]))
        assert answers[-1].text == SUPPORTED and answers[-1].citations
    assert asyncio.run(runnable.ainvoke(QUESTION)).text == SUPPORTED


def test_astream_events_shows_retrieval_and_answer(seed_index):
    runnable = Assistant(seed_index, llm=FakeListChatModel(responses=[SUPPORTED])).as_runnable()

    async def events() -> list[dict]:
        return [event async for event in runnable.astream_events(QUESTION, version="v2")]

    seen = asyncio.run(events())
    kinds = [(event["event"], event["name"]) for event in seen]
    for expected in [("on_chain_start", "seedqa"), ("on_retriever_start", "HybridRetriever"),
                     ("on_retriever_end", "HybridRetriever"), ("on_chain_start", "answer"),
                     ("on_chain_end", "answer"), ("on_chain_end", "seedqa")]:
        assert expected in kinds
    assert kinds.index(("on_retriever_end", "HybridRetriever")) < kinds.index(("on_chain_start", "answer"))
    assert any(kind == "on_chat_model_stream" for kind, _ in kinds)
    streamed = [event["data"]["chunk"] for event in seen
                if event["event"] == "on_chain_stream" and event["name"] == "seedqa"]
    assert len(streamed) > 5 and streamed[-1].text == SUPPORTED
    assert len(streamed) == len(list(runnable.stream(QUESTION)))  # each answer once
    [retrieved] = [e for e in seen if e["event"] == "on_retriever_end"]
    documents = retrieved["data"]["output"]
    assert documents and "165" in documents[0].page_content
    json.dumps([d.metadata for d in documents])
    assert seen[-1]["data"]["output"].text == SUPPORTED
    assert [e["data"]["chunk"].text for e in seen if e["event"] == "on_chain_stream"
            and e["name"] == "answer"][-1] == SUPPORTED

    # Inside a chain too: the assistant's run streams its growing answer.
    chain = RunnableLambda(lambda q: {"question": q}) | runnable | RunnableLambda(lambda a: a.text)

    async def chain_events() -> list[dict]:
        return [event async for event in chain.astream_events(QUESTION, version="v2")]

    inside = asyncio.run(chain_events())
    grown = [e["data"]["chunk"].text for e in inside
             if e["event"] == "on_chain_stream" and e["name"] == "seedqa"]
    assert len(grown) > 5 and grown[-1] == SUPPORTED
    assert ("on_retriever_end", "HybridRetriever") in [(e["event"], e["name"]) for e in inside]
    assert inside[-1]["data"]["output"] == SUPPORTED


def test_input_and_output_json_schemas(extractive):
    runnable = extractive.as_runnable()
    schema = runnable.get_input_jsonschema()
    text = json.dumps(schema)
    assert {"type": "string"} in schema["anyOf"]
    question_input = schema["$defs"]["QuestionInput"]
    assert question_input["required"] == ["question"] and "history" in question_input["properties"]
    assert "HumanMessage" in text and "ChatTurn" in text
    output = runnable.get_output_jsonschema()
    answer = output["$defs"]["Answer"] if "$defs" in output and "Answer" in output["$defs"] else output
    for field in ("text", "citations", "abstained", "span", "confidence", "unsupported"):
        assert field in answer["properties"]
    assert "Citation" in json.dumps(output)


def test_bad_inputs_are_clear_errors(extractive):
    runnable = extractive.as_runnable()
    with pytest.raises(InvalidQuestionError):
        runnable.invoke("   ")
    with pytest.raises(TypeError, match="question"):
        runnable.invoke({"history": []})
    with pytest.raises(TypeError, match="history"):
        runnable.invoke({"question": QUESTION, "history": [42]})
