"""`api.build_app` in process (Starlette's TestClient is an httpx client over the ASGI app):
what needs settings or a model that the live server in tests/test_api.py does not have. The
user's own LLM is LangChain's FakeListChatModel, a stand-in for a paid model; the index,
Chroma, the embedding model and the grounding check are real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel
from openai import OpenAI
from starlette.testclient import TestClient

import api
from qa import Assistant
from seedqa.settings import Settings
from tests.test_api import QUESTION, _error


# --- an LLM's answers through the API ---------------------------------------------------------

@pytest.mark.parametrize("reply, replaced", [
    ("Russia fired 165 drones at Ukraine overnight [1].", False),
    ("The drones were launched from the Moon by 9,999 robots [1].", True),  # fails the check
])
def test_llm_answers_stream_through_the_openai_endpoint(seed_index, reply, replaced):
    assistant = Assistant(seed_index, llm=FakeListChatModel(responses=[reply]))
    with TestClient(api.build_app(assistant, chat=False)) as transport:
        client = OpenAI(base_url=f"{transport.base_url}/v1", api_key="none",
                        http_client=transport, max_retries=0)
        assert [m.id for m in client.models.list()] == ["seedqa", "seedqa-extractive"]
        messages = [{"role": "user", "content": QUESTION}]
        whole = client.chat.completions.create(model="seedqa", messages=messages)
        chunks = list(client.chat.completions.create(model="seedqa", messages=messages, stream=True))
        quoted = client.chat.completions.create(model="seedqa-extractive", messages=messages)
    text = whole.choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    extras = chunks[-1].model_extra
    assert extras["seedqa"]["text"] == text and extras["citations"] == whole.model_extra["citations"]
    assert len(chunks) > 10  # the model's tokens, as they came
    if replaced:  # the grounding check replaced what streamed: a note, then the quoted answer
        assert text == quoted.choices[0].message.content
        assert streamed.endswith(text) and "do not support" in streamed
        assert "9,999" in extras["seedqa"]["unsupported"][0]
    else:
        assert streamed == text == reply and extras["seedqa"]["backend"] == "llm: FakeListChatModel"
        assert quoted.model_extra["seedqa"]["backend"] == "extractive"


def test_sources_in_text_for_chat_uis_that_show_only_the_text(seed_index):
    app = api.build_app(Assistant(seed_index), chat=False, sources_in_text=True)
    request = {"model": "seedqa", "messages": [{"role": "user", "content": QUESTION}]}
    with TestClient(app) as client:
        listed = client.post("/v1/chat/completions", json=request).json()
        plain = client.post("/v1/chat/completions", json={**request, "include_sources": False}).json()
        with client.stream("POST", "/v1/chat/completions", json={**request, "stream": True}) as events:
            chunks = [json.loads(line[6:]) for line in events.iter_lines()
                      if line.startswith("data: {")]
    text = listed["choices"][0]["message"]["content"]
    answer, sources = text.split("\n\n**Sources**\n")
    assert answer == plain["choices"][0]["message"]["content"] and "[1]" in answer
    title = listed["citations"][0]["title"]
    assert sources.startswith(f"[1] {title}")
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == text


def test_upload_size_limits(tmp_path):
    """A file over SEEDQA_MAX_FILE_MB, and a body over the upload limit without a Content-Length."""
    settings = Settings(data_dir=tmp_path / "index", cache_dir=Path(os.environ["SEEDQA_CACHE_DIR"]),
                        max_file_mb=0.01, max_upload_files=1)
    with TestClient(api.build_app(Assistant(settings), chat=False)) as client:
        too_big = client.post("/v1/documents", files=[("files", ("a.txt", b"word " * 3000,
                                                                 "text/plain"))])
        assert "15 kB is over the 10 kB limit" in _error(too_big, 413)
        body = (b'--xx\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
                b"Content-Type: text/plain\r\n\r\n" + b"word " * 300_000 + b"\r\n--xx--\r\n")
        chunked = client.post("/v1/documents", headers={"content-type": "multipart/form-data; boundary=xx"},
                              content=(body[i:i + 65536] for i in range(0, len(body), 65536)))
        _error(chunked, 413)
        assert client.get("/v1/documents").json() == {"documents": []}
    assert not list((tmp_path / "index" / "uploads").glob("*.txt"))


def test_a_damaged_index_is_a_503_that_names_the_fix(tmp_path):
    """The index file is garbage: one message naming the repair, no trace."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "chroma.sqlite3").write_bytes(os.urandom(20000))
    settings = Settings(data_dir=broken, cache_dir=Path(os.environ["SEEDQA_CACHE_DIR"]))
    app = api.build_app(Assistant(settings), chat=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        for response in (client.post("/v1/answer", json={"question": QUESTION}),
                         client.get("/v1/documents")):
            message = _error(response, 503)
            assert "is damaged" in message and "seedqa --data-dir" in message and "repair" in message
            assert response.json()["error"]["type"] == "index_corrupt"
            assert "Traceback" not in response.text


def test_an_unexpected_failure_is_a_plain_500(seed_index, monkeypatch):
    """A fault inside answering (injected: a bug raising mid-answer): a plain message, no trace."""
    assistant = Assistant(seed_index)

    def broken(*args, **kwargs):
        raise RuntimeError("chroma sqlite internals /secret/path")

    monkeypatch.setattr(assistant, "stream", broken)
    app = api.build_app(assistant, chat=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/answer", json={"question": QUESTION})
        assert _error(response, 500) == "Internal server error; the server's log has the details."
        assert "secret" not in response.text and "Traceback" not in response.text
