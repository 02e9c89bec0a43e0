"""LangChain's own standard retriever suite (package `langchain-tests`) over `HybridRetriever`.

Written by LangChain, not by us: it checks the constructor's `k`, a per-call
`invoke(query, k=...)`, and that `invoke`/`ainvoke` return Documents. Run here
over a real index (the seed document, real Chroma, the real embedding model),
plus our own checks that metadata holds plain Python values that every JSON
encoder takes.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from qa.retrieval import HybridRetriever
from index import Index

QUERY = "How many drones did Russia fire at Ukraine overnight?"


@pytest.mark.anyio  # the suite has one async test (ainvoke); anyio's plugin runs it on asyncio
class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture(autouse=True)
    def _index(self, seed_index) -> None:
        self._settings = seed_index

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"index": Index(self._settings), "settings": self._settings}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


def test_metadata_is_plain_json(seed_index):
    retriever = HybridRetriever(index=Index(seed_index), settings=seed_index, k=4)
    documents = retriever.invoke(QUERY)
    assert len(documents) == 4
    for document in documents:
        for key, value in document.metadata.items():
            assert type(value) in (str, int, float, bool, type(None)), (key, type(value))
        assert orjson.loads(orjson.dumps(document.metadata)) == document.metadata
    assert documents[0].metadata["score"] >= documents[-1].metadata["score"]
    assert "165" in documents[0].page_content


def test_per_call_k_overrides_the_constructor(seed_index):
    retriever = HybridRetriever(index=Index(seed_index), settings=seed_index, k=5)
    assert len(retriever.invoke(QUERY, k=2)) == 2
    assert len(retriever.invoke(QUERY)) == 5
