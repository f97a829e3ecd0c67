"""`RagqaRetriever`: LangChain's standard retriever tests over HTTP (the real server) and
in-process (the session engine), and what its documents carry."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from ragqa.langchain import RagqaError, RagqaRetriever

QUERY = "白银炉能耗降低了多少"
CITATION = {"doc_id", "title", "source", "published", "char_start", "char_end"}


class TestRagqaRetrieverOverHTTP(RetrieversIntegrationTests):
    base_url = ""

    @pytest.fixture(autouse=True)
    def _server(self, live_server: str) -> None:
        type(self).base_url = live_server

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return RagqaRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


class TestRagqaRetrieverInProcess(RetrieversIntegrationTests):
    loaded: Any = None

    @pytest.fixture(autouse=True)
    def _engine(self, engine: Any) -> None:
        type(self).loaded = engine

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return RagqaRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"engine": self.loaded}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


def test_invoke_over_http_returns_the_search_passages_with_citations(live_server: str) -> None:
    docs = RagqaRetriever(base_url=live_server, k=3).invoke(QUERY)
    expected = httpx.get(f"{live_server}/v1/search", params={"q": QUERY, "top_k": 3}).json()
    assert [d.page_content for d in docs] == [p["text"] for p in expected["passages"]]
    for doc, passage in zip(docs, expected["passages"], strict=True):
        assert isinstance(doc, Document)
        assert {name: doc.metadata[name] for name in CITATION} == {
            name: passage[name] for name in CITATION
        }
        text = httpx.get(f"{live_server}/v1/documents/{passage['doc_id']}").json()["text"]
        start, end = doc.metadata["char_start"], doc.metadata["char_end"]
        assert text[start:end] == doc.page_content


def test_http_and_in_process_and_async_agree(live_server: str, engine: Any) -> None:
    over_http = RagqaRetriever(base_url=live_server).invoke(QUERY)
    in_process = RagqaRetriever(engine=engine).invoke(QUERY)
    awaited = asyncio.run(RagqaRetriever(base_url=live_server).ainvoke(QUERY))
    assert [d.metadata["doc_id"] for d in over_http] == [d.metadata["doc_id"] for d in in_process]
    assert [d.page_content for d in awaited] == [d.page_content for d in over_http]


def test_in_process_filters_restrict_the_passages(engine: Any) -> None:
    dated = RagqaRetriever(engine=engine, filters={"published_from": "2025-01-01"}).invoke(QUERY)
    assert dated and {d.metadata["published"] for d in dated} == {"2025-01-22"}
    none = RagqaRetriever(engine=engine, filters={"source": ["nothing.txt"]}).invoke(QUERY)
    assert none == []


def read_link(base: str, metadata: dict[str, Any]) -> str:
    """The read page of a passage (docs/api.md#links-and-the-read-page)."""
    return (
        f"{base}/read/{metadata['doc_id']}"
        f"?start={metadata['char_start']}&end={metadata['char_end']}#cited"
    )


def test_filters_and_collections_over_http_match_in_process(live_server: str, engine: Any) -> None:
    scopes: list[dict[str, Any]] = [
        {"filters": {"published_from": "2025-01-01", "published_to": "2025-12-31"}},
        {"filters": {"source": ["001_8546bbd5f1ad3438.txt"]}, "collections": ["default"]},
        {"filters": {"source": ["nothing.txt"]}},
    ]
    for scope in scopes:
        over_http = RagqaRetriever(base_url=live_server, **scope).invoke(QUERY)
        in_process = RagqaRetriever(engine=engine, **scope).invoke(QUERY)
        # The same, plus the service's link for a reader (in process there is no server).
        assert [(d.page_content, d.metadata) for d in over_http] == [
            (d.page_content, {**d.metadata, "url": read_link(live_server, d.metadata)})
            for d in in_process
        ], scope
    dated = RagqaRetriever(base_url=live_server, **scopes[0]).invoke(QUERY)
    assert dated and {d.metadata["published"] for d in dated} == {"2025-01-22"}
    one = RagqaRetriever(base_url=live_server, **scopes[1]).invoke(QUERY)
    assert one and {d.metadata["source"] for d in one} == {"001_8546bbd5f1ad3438.txt"}
    assert RagqaRetriever(base_url=live_server, **scopes[2]).invoke(QUERY) == []


def test_bad_input_is_refused_with_the_reason(live_server: str, engine: Any) -> None:
    with pytest.raises(ValueError, match="exactly one of base_url"):
        RagqaRetriever()
    with pytest.raises(ValueError, match=r"filters\.sources: unknown field; did you mean 'source'"):
        RagqaRetriever(base_url=live_server, filters={"sources": ["a.txt"]})
    with pytest.raises(ValueError, match="exactly one of base_url"):
        RagqaRetriever(base_url=live_server, engine=engine)
    with pytest.raises(ValueError, match="k: must be an integer between 1 and 50"):
        RagqaRetriever(base_url=live_server).invoke(QUERY, k=0)
    with pytest.raises(RagqaError, match="HTTP 422: q: "):
        RagqaRetriever(base_url=live_server).invoke("   ")
    with pytest.raises(RagqaError, match="cannot reach"):
        RagqaRetriever(base_url="http://127.0.0.1:9", timeout=2).invoke(QUERY)
