"""`ragqa_client.langchain.RagqaRetriever`: LangChain's standard retriever tests against the
real server, and the same documents as the in-repo retriever, so switching is an import."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from ragqa.langchain import RagqaRetriever as InRepoRetriever
from ragqa_client import Client, ConnectionFailed, NotFoundError, UnprocessableEntityError
from ragqa_client.langchain import RagqaRetriever
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.slow

QUERY = "白银炉能耗降低了多少"
METADATA = {"doc_id", "title", "source", "published", "char_start", "char_end", "rank", "score"}


class TestRagqaClientRetriever(RetrieversIntegrationTests):
    base_url = ""

    @pytest.fixture(autouse=True)
    def _server(self, client_server: str) -> None:
        type(self).base_url = client_server

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return RagqaRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": TEST_API_KEY}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


def test_documents_are_the_in_repo_retrievers_documents(client_server: str) -> None:
    scopes: list[dict[str, Any]] = [
        {},
        {"k": 3},
        {"collections": ["default"], "filters": {"published_from": "2025-01-01"}},
        {"filters": {"published_from": "2099-01-01"}},
    ]
    for scope in scopes:
        light = RagqaRetriever(base_url=client_server, **scope).invoke(QUERY)
        in_repo = InRepoRetriever(base_url=client_server, **scope).invoke(QUERY)
        assert [(d.page_content, d.metadata) for d in light] == [
            (d.page_content, d.metadata) for d in in_repo
        ], scope
    dated = RagqaRetriever(base_url=client_server, **scopes[2]).invoke(QUERY)
    assert dated and {d.metadata["published"] for d in dated} == {"2025-01-22"}
    assert RagqaRetriever(base_url=client_server, **scopes[3]).invoke(QUERY) == []


def test_each_document_carries_its_citation(client_server: str) -> None:
    retriever = RagqaRetriever(base_url=client_server, k=3)
    docs = retriever.invoke(QUERY)
    awaited = asyncio.run(retriever.ainvoke(QUERY, k=2))
    assert [d.page_content for d in awaited] == [d.page_content for d in docs[:2]]
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3]
    assert docs[0].metadata["doc_id"] == "000_0ad1dae646fc90f2.txt:0"
    with Client(client_server) as client:
        for doc in docs:
            assert isinstance(doc, Document)
            # `url` only where the service gives one: it links each passage to its read page.
            assert set(doc.metadata) == METADATA | {"url"}
            assert doc.metadata["url"] == (
                f"{client_server}/read/{doc.metadata['doc_id']}"
                f"?start={doc.metadata['char_start']}&end={doc.metadata['char_end']}#cited"
            )
            text = client.documents.get(doc.metadata["doc_id"]).text
            start, end = doc.metadata["char_start"], doc.metadata["char_end"]
            assert text[start:end] == doc.page_content


def test_bad_input_is_refused_with_the_reason(client_server: str) -> None:
    retriever = RagqaRetriever(base_url=client_server)
    with pytest.raises(ValueError, match="k: must be an integer between 1 and 50"):
        retriever.invoke(QUERY, k=0)
    with pytest.raises(UnprocessableEntityError, match="HTTP 422 invalid_request: q: "):
        retriever.invoke("   ")
    with pytest.raises(NotFoundError, match="no collection named 'nope'"):
        RagqaRetriever(base_url=client_server, collections=["nope"]).invoke(QUERY)
    with pytest.raises(ConnectionFailed, match="cannot reach"):
        RagqaRetriever(base_url="http://127.0.0.1:9", timeout=2).invoke(QUERY)
