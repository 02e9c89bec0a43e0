"""`seedqa serve`, tested as its users would: a real server process on loopback over a
real index (the seed document), driven with httpx and with the official `openai` client.

One server for the module, with both kinds of login on (SEEDQA_AUTH and
SEEDQA_API_KEYS), so every call here also checks that a login is accepted.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from seedqa.settings import Settings
from tests.api_server import ApiServer
from tests.conftest import SEEDS

QUESTION = "How many drones did Russia fire at Ukraine overnight?"
FOLLOW_UP = "How many of them got through air defences?"
KEY = "test-key-7f3a"
LOGIN = ("alice", "s3cret:with-colon")
BEARER = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> ApiServer:
    from ingest import ingest_paths

    data_dir = tmp_path_factory.mktemp("api-index")
    cache_dir = Path(os.environ.get("SEEDQA_CACHE_DIR") or tmp_path_factory.mktemp("cache"))
    report = ingest_paths([SEEDS], Settings(data_dir=data_dir, cache_dir=cache_dir))
    assert not report.errors
    running = ApiServer.start(data_dir, cache_dir, {"SEEDQA_API_KEYS": f"other-key, {KEY}",
                                                    "SEEDQA_AUTH": ":".join(LOGIN)})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, headers=BEARER, timeout=120) as client:
        yield client


def _error(response: httpx.Response, status: int) -> str:
    """The response is `status` with seedqa's JSON error shape; returns its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type"}, body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body["error"]["message"]


# --- login ----------------------------------------------------------------------------------

def test_health_needs_no_login(server):
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/models"), ("POST", "/v1/answer"), ("POST", "/v1/retrieve"),
    ("GET", "/v1/documents"), ("DELETE", "/v1/documents/x"), ("POST", "/v1/chat/completions"),
    ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/chat/"),
])
def test_every_other_endpoint_needs_a_login(server, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong-key"},
                    {"Authorization": "Basic " + base64.b64encode(b"alice:wrong").decode()},
                    {"Authorization": "Basic not-base64!"}):
        response = httpx.request(method, f"{server.url}{path}", headers=headers,
                                 json={"question": QUESTION})
        assert "authentication" in _error(response, 401).lower()
        assert response.headers["www-authenticate"].startswith("Basic")


def test_bearer_key_and_basic_login_are_both_accepted(server):
    basic = httpx.get(f"{server.url}/v1/documents", auth=LOGIN)
    bearer = httpx.get(f"{server.url}/v1/documents", headers=BEARER)
    key_as_password = httpx.get(f"{server.url}/v1/documents", auth=("anyone", KEY))
    login_as_bearer = httpx.get(f"{server.url}/v1/documents",
                                headers={"Authorization": "Bearer " + ":".join(LOGIN)})
    assert basic.status_code == bearer.status_code == 200
    assert key_as_password.status_code == login_as_bearer.status_code == 200
    assert basic.json() == bearer.json()


# --- answers and retrieval ------------------------------------------------------------------

def test_answer_is_the_answer_with_citations_as_json(http):
    body = http.post("/v1/answer", json={"question": QUESTION}).json()
    assert body["question"] == QUESTION and not body["abstained"]
    assert body["span"] == "165" and "165" in body["text"]
    assert body["backend"] == "extractive" and 0 < body["confidence"] <= 1
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["text"])}
    assert markers and markers <= {c["number"] for c in body["citations"]}
    cited = body["citations"][0]
    document = http.get(f"/v1/documents/{cited['document_id']}").json()
    assert document["text"][cited["start"]:cited["end"]] == cited["text"]
    assert "165" in cited["text"]


def test_answer_follows_the_conversation(http):
    first = http.post("/v1/answer", json={"question": QUESTION}).json()
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first["text"]}]
    follow = http.post("/v1/answer", json={"question": FOLLOW_UP, "history": history}).json()
    alone = http.post("/v1/answer", json={"question": FOLLOW_UP}).json()
    assert "24" in follow["text"] and follow["citations"]
    assert follow["text"] != alone["text"] or follow["citations"] != alone["citations"]


def test_retrieve_returns_k_ranked_passages(http):
    body = http.post("/v1/retrieve", json={"question": "Geran-5 warhead", "k": 3}).json()
    citations = body["citations"]
    assert [c["number"] for c in citations] == [1, 2, 3]
    assert [c["score"] for c in citations] == sorted((c["score"] for c in citations), reverse=True)
    assert "Geran" in citations[0]["text"]


# --- errors ---------------------------------------------------------------------------------

def test_user_errors_are_4xx_json_without_a_trace(http):
    assert "empty" in _error(http.post("/v1/answer", json={"question": "   "}), 400)
    assert "question" in _error(http.post("/v1/answer", json={"text": QUESTION}), 422)
    assert "limit" in _error(http.post("/v1/answer", json={"question": "word " * 1000}), 400)
    _error(http.post("/v1/retrieve", json={"question": QUESTION, "k": 1000}), 422)
    _error(http.post("/v1/answer", content=b"{not json", headers={"content-type": "application/json"}), 422)
    assert "No such endpoint" in _error(http.get("/v1/nothing-here"), 404)
    _error(http.put("/v1/answer", json={"question": QUESTION}), 405)
    assert "backend" in _error(http.post("/v1/answer", json={"question": QUESTION,
                                                             "backend": "gpt-9"}), 400).lower()
    # OpenAI-compatible endpoint: unknown model, no user message at the end.
    assert "gpt-9" in _error(http.post("/v1/chat/completions", json={
        "model": "gpt-9", "messages": [{"role": "user", "content": QUESTION}]}), 404)
    _error(http.post("/v1/chat/completions", json={
        "model": "seedqa", "messages": [{"role": "assistant", "content": "hello"}]}), 400)
    assert "empty" in _error(http.post("/v1/chat/completions", json={
        "model": "seedqa", "stream": True, "messages": [{"role": "user", "content": " "}]}), 400)


def test_unknown_document_is_404(http):
    assert "id" in _error(http.get("/v1/documents/0123456789abcdef"), 404)
    _error(http.delete("/v1/documents/0123456789abcdef"), 404)


def test_request_bodies_over_the_limit_are_413(http):
    huge = json.dumps({"question": "x" * 1_500_000}).encode()
    _error(http.post("/v1/answer", content=huge, headers={"content-type": "application/json"}), 413)

    def chunked():  # no Content-Length: counted as it arrives
        for start in range(0, len(huge), 65536):
            yield huge[start:start + 65536]

    _error(http.post("/v1/answer", content=chunked(), headers={"content-type": "application/json"}),
           413)


# --- documents ------------------------------------------------------------------------------

def test_upload_answer_from_it_then_delete_it(http, tmp_path):
    fact = ("date 2026-03-14\nThe Velmora lighthouse keepers counted 3,817 migrating cranes "
            "over the Harwick estuary during the spring survey.\n")
    listed = {d["source"] for d in http.get("/v1/documents").json()["documents"]}
    upload = http.post("/v1/documents", files=[("files", ("cranes survey.txt", fact.encode(),
                                                          "text/plain"))])
    assert upload.status_code == 201, upload.text
    [added] = upload.json()["files"]
    # Shown under the chat's cleaned form of the name it came with (ui/security.upload_name).
    assert added["name"] == "cranes_survey.txt" and added["status"] == "added" and added["chunks"] >= 1
    documents = http.get("/v1/documents").json()["documents"]
    [new] = [d for d in documents if d["source"] not in listed]
    assert new["id"] == added["id"] and new["name"] == "cranes_survey.txt"
    assert new["date"] == "2026-03-14"

    question = "How many migrating cranes did the Velmora lighthouse keepers count?"
    answer = http.post("/v1/answer", json={"question": question}).json()
    assert "3,817" in answer["text"] and answer["citations"][0]["document_id"] == new["id"]

    removed = http.delete(f"/v1/documents/{new['id']}")
    assert removed.status_code == 200 and removed.json()["chunks_removed"] == added["chunks"]
    _error(http.get(f"/v1/documents/{new['id']}"), 404)
    after = http.post("/v1/answer", json={"question": question}).json()
    assert all(c["document_id"] != new["id"] for c in after["citations"])
    assert {d["source"] for d in http.get("/v1/documents").json()["documents"]} == listed


def test_uploads_keep_the_chats_limits(http):
    before = http.get("/v1/documents").json()
    assert "not '.exe'" in _error(http.post("/v1/documents", files=[
        ("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))]), 415)
    too_many = [("files", (f"note{n}.txt", b"A short note.", "text/plain")) for n in range(21)]
    assert "SEEDQA_MAX_UPLOAD_FILES" in _error(http.post("/v1/documents", files=too_many), 413)
    unreadable = _error(http.post("/v1/documents", files=[
        ("files", ("empty.txt", b"", "text/plain"))]), 422)
    assert "empty.txt" in unreadable
    _error(http.post("/v1/documents", data={"nothing": "here"}), 422)
    assert http.get("/v1/documents").json() == before


# --- OpenAI-compatible ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def openai_client(server) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=120)


def test_models_list_with_the_openai_client(openai_client):
    assert "seedqa" in [model.id for model in openai_client.models.list()]


def test_chat_completion_with_the_openai_client_streamed_and_not(openai_client):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    completion = openai_client.chat.completions.create(model="seedqa", messages=messages)
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "stop" and message.role == "assistant"
    assert "165" in message.content and "[1]" in message.content
    citations = message.model_extra["citations"]
    assert citations == completion.model_extra["citations"]
    assert citations[0]["number"] == 1 and "165" in citations[0]["text"]
    assert completion.model_extra["seedqa"]["span"] == "165"

    chunks = list(openai_client.chat.completions.create(model="seedqa", messages=messages,
                                                         stream=True))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 2  # it streamed, a few words at a time
    assert "".join(pieces) == message.content
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(final) == 1 and final[0] is chunks[-1]
    assert final[0].model_extra["citations"] == citations
    assert {c.id for c in chunks} == {chunks[0].id}


def test_follow_up_through_the_openai_client(openai_client):
    first = openai_client.chat.completions.create(
        model="seedqa", messages=[{"role": "user", "content": QUESTION}],
        extra_body={"include_sources": True})
    text = first.choices[0].message.content
    assert "**Sources**" in text and "[1] " in text.split("**Sources**")[1]
    follow = openai_client.chat.completions.create(model="seedqa", messages=[
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        {"role": "assistant", "content": text},  # its sources list is cut off before use
        {"role": "user", "content": FOLLOW_UP}])
    assert "24" in follow.choices[0].message.content


def test_stream_is_server_sent_events_ending_with_done(server):
    request = {"model": "seedqa", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=request,
                      auth=LOGIN, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


# --- docs and chat --------------------------------------------------------------------------

def test_docs_are_served_from_this_machine(http):
    page = http.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    links = re.findall(r'(?:src|href)=["\']([^"\']+)', page.text)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links)
    assert "http://" not in page.text and "https://" not in page.text
    for link in links:
        assert http.get(link).status_code == 200, link
    paths = http.get("/openapi.json").json()["paths"]
    for path in ("/v1/answer", "/v1/retrieve", "/v1/documents", "/v1/documents/{doc_id}",
                 "/v1/chat/completions", "/v1/models", "/health"):
        assert path in paths
    assert http.get("/redoc").status_code == 404


def test_the_chat_is_mounted_behind_the_same_login(http, server):
    page = http.get("/chat/")
    assert page.status_code == 200 and "gradio" in page.text.lower()
    assert httpx.get(f"{server.url}/chat/config").status_code == 401
    assert http.get("/chat/config").status_code == 200


# --- a server over an empty index, without logins or the chat -------------------------------

def test_an_empty_index_is_409_with_what_to_do(tmp_path):
    empty = ApiServer.start(tmp_path / "empty", Path(os.environ["SEEDQA_CACHE_DIR"]),
                            {"SEEDQA_AUTH": "", "SEEDQA_API_KEYS": ""}, args=["--no-chat"])
    try:
        with httpx.Client(base_url=empty.url, timeout=60) as client:  # no login configured
            assert client.get("/v1/documents").json() == {"documents": []}
            message = _error(client.post("/v1/answer", json={"question": QUESTION}), 409)
            assert "Add some first: seedqa ingest PATH" in message and "POST /v1/documents" in message
            _error(client.post("/v1/retrieve", json={"question": QUESTION}), 409)
            _error(client.post("/v1/chat/completions", json={
                "model": "seedqa", "stream": True,
                "messages": [{"role": "user", "content": QUESTION}]}), 409)
            _error(client.get("/chat/"), 404)
    finally:
        empty.stop()
    assert not (tmp_path / "empty" / "uploads").exists()


# --- the Gradio chat's own API, through the mounted chat -------------------------------------

def test_gradio_answer_endpoint_takes_named_inputs_and_returns_json(server):
    from gradio_client import Client

    client = Client(f"{server.url}/chat/", headers=BEARER, verbose=False)
    try:
        parameters = client.view_api(return_format="dict", print_info=False)[
            "named_endpoints"]["/answer"]["parameters"]
        assert [p["parameter_name"] for p in parameters] == ["question", "history"]
        answer = client.predict(question=QUESTION, api_name="/answer")
        assert answer["span"] == "165" and not answer["abstained"] and answer["confidence"] > 0
        assert "[1]" in answer["text"] and "165" in answer["citations"][0]["text"]
        follow = client.predict(question=FOLLOW_UP, history=[
            {"role": "user", "content": QUESTION}, {"role": "assistant", "content": answer["text"]}],
            api_name="/answer")
        assert "24" in follow["text"]
        with pytest.raises(Exception, match="question is empty"):
            client.predict(question="  ", api_name="/answer")
    finally:
        client.close()


def test_langchains_chatopenai_pointed_at_seedqa(server):
    """Another client nobody here wrote: LangChain's ChatOpenAI, invoked and streamed."""
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(base_url=f"{server.url}/v1", api_key=KEY, model="seedqa", max_retries=0,
                       temperature=0.2, timeout=120)
    whole = model.invoke(QUESTION)
    assert "165" in whole.content and "[1]" in whole.content
    streamed = "".join(str(chunk.content) for chunk in model.stream(QUESTION))
    assert streamed == whole.content
