"""Answering over a Chroma collection that LangChain built, without touching it.

The collection is made the way LangChain's RAG tutorial makes one
(`langchain_chroma.Chroma.from_documents` over RecursiveCharacterTextSplitter
chunks), in a child process, as a user's own script would.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import SEEDS

QUESTION = "How many drones did Russia fire at Ukraine overnight?"

# Builds the user's collection with the same model seedqa uses (its NumPy copy, through a
# LangChain Embeddings adapter), or with random vectors when asked; prints what it holds.
BUILD = """
import json, sys
from pathlib import Path
import numpy as np
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter
from index import shared_embedder

class Ours(Embeddings):
    def embed_documents(self, texts):
        if sys.argv[3] == "random":
            return np.random.default_rng(0).normal(size=(len(texts), 384)).tolist()
        return shared_embedder().encode(texts).tolist()
    def embed_query(self, text):
        return self.embed_documents([text])[0]

seed = next(Path(sys.argv[2]).glob("*.txt"))
docs = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True
    ).split_documents([Document(seed.read_text(), metadata={"source": str(seed)})])
store = Chroma.from_documents(docs, Ours(), collection_name="mydocs", persist_directory=sys.argv[1])
got = store._collection.get(include=["embeddings", "documents", "metadatas"])
print(json.dumps({"ids": sorted(got["ids"]), "first": [float(x) for x in got["embeddings"][0][:8]],
                  "documents": sorted(got["documents"])}))
"""

SNAPSHOT = """
import json, sys
from langchain_chroma import Chroma
store = Chroma(collection_name="mydocs", persist_directory=sys.argv[1])
got = store._collection.get(include=["embeddings", "documents"])
names = sorted(c.name for c in store._client.list_collections())
print(json.dumps({"ids": sorted(got["ids"]), "first": [float(x) for x in got["embeddings"][0][:8]],
                  "documents": sorted(got["documents"]), "collections": names}))
"""


def _run(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def langchain_store(tmp_path_factory):
    data = tmp_path_factory.mktemp("langchain-store")
    return data, _run(BUILD, str(data), str(SEEDS), "minilm")


def test_a_langchain_collection_is_adopted_and_answers_with_citations(langchain_store):
    data, before = langchain_store
    adopted = CliRunner().invoke(main, ["adopt", "mydocs", "--data-dir", str(data)])
    assert adopted.exit_code == 0, adopted.output
    assert "added: chroma:mydocs/" in adopted.output

    env = {"SEEDQA_COLLECTION": "mydocs"}
    result = CliRunner().invoke(main, ["ask", "--json", QUESTION, "--data-dir", str(data)], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert not answer["abstained"] and "165" in answer["text"]
    cited = answer["citations"][0]
    assert cited["text"] in before["documents"]  # the user's chunk, cited as it is

    from qa import Assistant
    from seedqa.settings import Settings

    assistant = Assistant(Settings(data_dir=data, collection="mydocs"))
    text = assistant.document_text(cited["source"])
    assert text[cited["start"]:cited["end"]] == cited["text"]  # shown in place

    again = CliRunner().invoke(main, ["adopt", "mydocs", "--data-dir", str(data)])
    assert "unchanged: chroma:mydocs/" in again.output

    after = _run(SNAPSHOT, str(data))
    assert (after["ids"], after["first"], after["documents"]) == (
        before["ids"], before["first"], before["documents"])
    assert after["collections"] == ["mydocs", "mydocs_chunks", "mydocs_documents"]


def test_vectors_from_another_model_are_refused_in_one_line(tmp_path):
    _run(BUILD, str(tmp_path), str(SEEDS), "random")
    result = CliRunner().invoke(main, ["adopt", "mydocs", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "made by another model" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_collection_that_is_not_there_is_named(tmp_path):
    _run(BUILD, str(tmp_path), str(SEEDS), "minilm")
    result = CliRunner().invoke(main, ["adopt", "nosuch", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "No Chroma collection named 'nosuch'" in result.output


def test_prune_keeps_adopted_documents(langchain_store, tmp_path):
    data, _ = langchain_store
    CliRunner().invoke(main, ["adopt", "mydocs", "--data-dir", str(data)])
    (tmp_path / "empty").mkdir()
    pruned = CliRunner().invoke(main, ["ingest", "--prune", str(tmp_path / "empty"),
                                       "--data-dir", str(data)], env={"SEEDQA_COLLECTION": "mydocs"})
    assert pruned.exit_code == 0 and "removed:" not in pruned.output
    listed = CliRunner().invoke(main, ["documents", "--json", "--data-dir", str(data)],
                                env={"SEEDQA_COLLECTION": "mydocs"})
    assert [d["source"].split("/", 1)[0] for d in json.loads(listed.output)] == ["chroma:mydocs"]
