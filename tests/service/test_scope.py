"""One scope, every door: the same question, limited to one collection and a date range, gets
the same passages through HTTP ask, the stream, search, chat (scope in the body and in the
model name), Dify, MCP over both transports, LangChain over HTTP and in-process, and
`ragqa ask`; an unknown scope key is refused by each, naming it.

All on `docs_server` (the real server with a document store of its own), in the collection
`scope-news`: a 2025 article that answers, a 2024 one about the same park that the date
filter leaves out, and a 2025 one on another subject."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from openai import OpenAI

from ragqa.langchain import RagqaRetriever
from service.openai_compat import MODEL_ID
from tests.conftest import ROOT, TEST_API_KEY
from tests.servers import ragqa

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
COLLECTION = "scope-news"
QUESTION = "兰州新区氢能产业园总投资多少"
SINCE = "2025-01-01"
TOP_K = 3
SCOPE: dict[str, Any] = {"collections": [COLLECTION], "filters": {"published_from": SINCE}}

PARK = {
    "title": "兰州新区氢能产业园开工",
    "text": "3月1日，兰州新区氢能产业园开工建设，总投资52亿元。园区建成后每年可生产氢燃料电池"
    "汽车6800辆，带动就业4000人。",
    "published": "2025-03-01",
    "source": "甘肃日报",
}
PLAN = {
    "title": "兰州新区氢能产业园规划获批",
    "text": "兰州新区氢能产业园规划获批，园区计划总投资30亿元，建设制氢、储氢和燃料电池三大板块。",
    "published": "2024-06-15",
    "source": "兰州晚报",
}
SOLAR = {
    "title": "敦煌光热电站并网",
    "text": "敦煌100兆瓦熔盐塔式光热电站全面并网发电，年发电量可达3.9亿千瓦时，总投资30亿元。",
    "published": "2025-05-10",
    "source": "酒泉日报",
}

Cited = list[tuple[str, int, int, str]]
"""Passages as (doc_id, char_start, char_end, text): what every door must agree on."""


def cited(passages: list[dict[str, Any]], doc_id: str = "doc_id") -> Cited:
    return [(p[doc_id], p["char_start"], p["char_end"], p["text"]) for p in passages]


@pytest.fixture(scope="module")
def news(docs_server: tuple[str, Path]) -> dict[str, str]:
    """`scope-news` with its three articles; their doc ids by name."""
    base, _ = docs_server
    with httpx.Client(base_url=base, timeout=120, headers=AUTH) as http:
        assert http.put(f"/v1/collections/{COLLECTION}").status_code in (200, 201)
        added = http.post(f"/v1/collections/{COLLECTION}/documents", json=[PARK, PLAN, SOLAR])
        assert added.status_code == 200, added.text
        ids = [d["doc_id"] for d in added.json()["documents"]]
    return dict(zip(("park", "plan", "solar"), ids, strict=True))


@pytest.fixture(scope="module")
def expected(docs_server: tuple[str, Path], news: dict[str, str]) -> Cited:
    """What `POST /v1/ask` returns for the scoped question: the answer's article first, the
    2024 article left out by the date, nothing from another collection."""
    base, _ = docs_server
    body = {"question": QUESTION, "top_k": TOP_K, **SCOPE}
    result = httpx.post(f"{base}/v1/ask", json=body, timeout=120).json()
    assert result["answer"] is not None and "52亿元" in result["answer"]["text"]
    passages = cited(result["passages"])
    ids = [p[0] for p in passages]
    assert ids[0] == news["park"] and news["plan"] not in ids
    assert set(ids) <= {news["park"], news["solar"]}
    return passages


@pytest.fixture(scope="module")
def chat(docs_server: tuple[str, Path]) -> OpenAI:
    return OpenAI(base_url=f"{docs_server[0]}/v1", api_key="any-key-works", max_retries=0)


def mcp_call(server: Any, tool: str, arguments: dict[str, Any]) -> Any:
    async def main() -> Any:
        async with Client(server, read_timeout_seconds=120) as client:
            return await client.call_tool(tool, arguments)

    return asyncio.run(main())


def stdio_server(data_dir: Path, index_dir: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "ragqa", "mcp", "--index", str(index_dir), "--data-dir", str(data_dir)],
        env={"HF_HUB_OFFLINE": "1", "RAGQA_LOG_LEVEL": "warning"},
        cwd=str(ROOT),
    )


# -- the same passages through every door ----------------------------------------------------


def test_stream_gives_the_passages_of_ask(docs_server: tuple[str, Path], expected: Cited) -> None:
    body = {"question": QUESTION, "top_k": TOP_K, **SCOPE}
    stream = httpx.post(f"{docs_server[0]}/v1/ask/stream", json=body, timeout=120)
    events = [json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data:")]
    assert cited(events[0]["passages"]) == expected
    assert cited(events[1]["passages"]) == expected


def test_search_gives_the_passages_of_ask(docs_server: tuple[str, Path], expected: Cited) -> None:
    params: dict[str, Any] = {
        "q": QUESTION,
        "top_k": TOP_K,
        "collections": COLLECTION,
        "published_from": SINCE,
    }
    found = httpx.get(f"{docs_server[0]}/v1/search", params=params, timeout=120).json()
    assert cited(found["passages"]) == expected


def test_chat_takes_the_scope_in_the_body(chat: OpenAI, expected: Cited) -> None:
    reply = chat.chat.completions.create(
        model=MODEL_ID,
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"top_k": TOP_K, **SCOPE},
    )
    references = [r for r in (reply.model_extra or {})["references"]]
    assert cited(references) == expected
    assert "52亿元" in (reply.choices[0].message.content or "")


def test_chat_takes_the_collection_in_the_model_name(chat: OpenAI, expected: Cited) -> None:
    model = f"{MODEL_ID}:{COLLECTION}"
    reply = chat.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"top_k": TOP_K, "filters": SCOPE["filters"]},
    )
    assert reply.model == model
    assert cited((reply.model_extra or {})["references"]) == expected
    assert model in [m.id for m in chat.models.list()]
    assert chat.models.retrieve(model).id == model
    streamed = chat.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"top_k": TOP_K, "filters": SCOPE["filters"]},
        stream=True,
    )
    last = list(streamed)[-1]
    assert cited((last.model_extra or {})["references"]) == expected


def test_dify_gives_the_passages_of_ask(docs_server: tuple[str, Path], expected: Cited) -> None:
    body = {
        "knowledge_id": COLLECTION,
        "query": QUESTION,
        "retrieval_setting": {"top_k": TOP_K, "score_threshold": 0.0},
        "metadata_condition": {
            "logical_operator": "and",
            "conditions": [
                {"name": ["published"], "comparison_operator": "≥", "value": SINCE},
            ],
        },
    }
    response = httpx.post(f"{docs_server[0]}/retrieval", json=body, headers=AUTH, timeout=120)
    records = response.json()["records"]
    got = [
        (r["metadata"]["document_id"], r["metadata"]["char_start"], r["metadata"]["char_end"])
        for r in records
    ]
    assert got == [p[:3] for p in expected]
    assert [r["content"] for r in records] == [p[3] for p in expected]


def test_mcp_over_http_gives_the_passages_of_ask(
    docs_server: tuple[str, Path], expected: Cited
) -> None:
    arguments = {"question": QUESTION, "top_k": TOP_K, **SCOPE}
    searched = mcp_call(f"{docs_server[0]}/mcp", "search", arguments)
    asked = mcp_call(f"{docs_server[0]}/mcp", "ask", arguments)
    assert not searched.is_error and not asked.is_error
    assert cited(searched.structured_content["passages"]) == expected
    assert cited(asked.structured_content["passages"]) == expected
    # One name for the question in both tools' results.
    assert searched.structured_content["question"] == asked.structured_content["question"]


def test_mcp_over_stdio_gives_the_passages_of_ask(
    docs_server: tuple[str, Path], index_dir: Path, expected: Cited
) -> None:
    server = stdio_server(docs_server[1], index_dir)
    asked = mcp_call(server, "ask", {"question": QUESTION, "top_k": TOP_K, **SCOPE})
    assert not asked.is_error, asked.content
    assert cited(asked.structured_content["passages"]) == expected


def test_langchain_over_http_gives_the_passages_of_ask(
    docs_server: tuple[str, Path], expected: Cited
) -> None:
    retriever = RagqaRetriever(base_url=docs_server[0], k=TOP_K, **SCOPE)
    docs = retriever.invoke(QUESTION)
    got = [(d.metadata["doc_id"], d.metadata["char_start"], d.metadata["char_end"]) for d in docs]
    assert got == [p[:3] for p in expected]
    assert [d.page_content for d in docs] == [p[3] for p in expected]


def test_langchain_in_process_reads_the_document_store(
    docs_server: tuple[str, Path], index_dir: Path, expected: Cited
) -> None:
    """Uploaded collections, in-process: the library the service serves, not one index."""
    retriever = RagqaRetriever.local(index_dir=index_dir, data_dir=docs_server[1], k=TOP_K, **SCOPE)
    try:
        docs = retriever.invoke(QUESTION)
    finally:
        retriever.close()
    got = [(d.metadata["doc_id"], d.metadata["char_start"], d.metadata["char_end"]) for d in docs]
    assert got == [p[:3] for p in expected]
    assert [d.page_content for d in docs] == [p[3] for p in expected]


def test_langchain_on_one_index_names_the_way_to_the_store(engine: Any) -> None:
    from ragqa.langchain import RagqaError

    with pytest.raises(
        RagqaError, match=r"no collection named 'scope-news'.*RagqaRetriever\.local\(\)"
    ):
        RagqaRetriever(engine=engine, collections=[COLLECTION]).invoke(QUESTION)


def test_ragqa_ask_answers_from_the_collection_in_process_and_over_http(
    docs_server: tuple[str, Path], index_dir: Path, expected: Cited
) -> None:
    base, data_dir = docs_server
    scope = ("--collection", COLLECTION, "--published-from", SINCE, "--top-k", str(TOP_K))
    local = ragqa(
        "ask", QUESTION, *scope, "--json", "--index", str(index_dir), "--data-dir", str(data_dir)
    )
    assert local.returncode == 0, local.stderr
    assert cited(json.loads(local.stdout)["passages"]) == expected
    remote = ragqa("ask", QUESTION, *scope, "--json", "--url", base)
    assert remote.returncode == 0, remote.stderr
    assert cited(json.loads(remote.stdout)["passages"]) == expected
    shown = ragqa("ask", QUESTION, *scope, "--url", base)
    assert "52亿元" in shown.stdout and "兰州新区氢能产业园开工" in shown.stdout


def test_ragqa_ask_after_ragqa_add_answers_from_that_collection(
    docs_server: tuple[str, Path], index_dir: Path, tmp_path: Path
) -> None:
    _, data_dir = docs_server
    article = tmp_path / "tianshui.md"
    article.write_text(
        "# 天水花牛苹果\n\n天水市花牛苹果今年出口量达到12万吨，主要销往东南亚。\n", encoding="utf-8"
    )
    env = {"RAGQA_DATA_DIR": str(data_dir), "RAGQA_INDEX_DIR": str(index_dir)}
    added = ragqa("add", str(article), "--collection", "scope-cli", env=env)
    assert added.returncode == 0, added.stderr
    asked = ragqa("ask", "天水花牛苹果出口量是多少", "--collection", "scope-cli", "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["answer"] is not None and "12万吨" in result["answer"]["text"]
    assert {p["title"] for p in result["passages"]} == {"天水花牛苹果"}


# -- an unknown scope key is refused by every door, naming it ------------------------------


def error_message(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["error"]["message"])


def test_http_ask_stream_and_search_refuse_unknown_scope_keys(
    docs_server: tuple[str, Path], news: dict[str, str]
) -> None:
    base = docs_server[0]
    for path in ("/v1/ask", "/v1/ask/stream"):
        singular = httpx.post(f"{base}{path}", json={"question": QUESTION, "collection": "x"})
        assert error_message(singular) == "collection: unknown field; did you mean 'collections'?"
        plural = {"question": QUESTION, "filters": {"sources": ["甘肃日报"]}}
        assert error_message(httpx.post(f"{base}{path}", json=plural)) == (
            "filters.sources: unknown field; did you mean 'source'?"
        )
    nested = {"question": QUESTION, "filters": {"collections": [COLLECTION]}}
    assert error_message(httpx.post(f"{base}/v1/ask", json=nested)) == (
        "filters.collections: unknown field here; 'collections' is not a filter, it goes "
        "beside 'filters'"
    )
    searched = httpx.get(f"{base}/v1/search", params={"q": QUESTION, "sources": "甘肃日报"})
    assert error_message(searched) == (
        "sources: unknown field; did you mean 'source'? (a query parameter)"
    )
    unknown = httpx.post(f"{base}/v1/ask", json={"question": QUESTION, "collections": ["nope"]})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "collections: no collection named 'nope'"


def test_chat_refuses_unknown_scope_keys_and_collections(chat: OpenAI) -> None:
    messages: Any = [{"role": "user", "content": QUESTION}]
    cases = [
        ({"collection": COLLECTION}, "collection: unknown field; did you mean 'collections'?"),
        ({"sources": ["甘肃日报"]}, "sources: unknown field; did you mean 'filters.source'?"),
        (
            {"published_from": SINCE},
            "published_from: not a top-level field; put it in filters.published_from",
        ),
        (
            {"filters": {"sources": ["甘肃日报"]}},
            "filters.sources: unknown field; did you mean 'source'?",
        ),
    ]
    for extra, message in cases:
        with pytest.raises(openai.UnprocessableEntityError) as caught:
            chat.chat.completions.create(model=MODEL_ID, messages=messages, extra_body=extra)
        error: Any = caught.value.body
        assert error["message"] == message and error["param"] == message.split(":")[0], extra
    with pytest.raises(openai.NotFoundError) as missing:
        chat.chat.completions.create(model=f"{MODEL_ID}:nope", messages=messages)
    assert missing.value.code == "model_not_found" and "'nope'" in missing.value.message
    with pytest.raises(openai.NotFoundError) as unknown:
        chat.chat.completions.create(
            model=MODEL_ID, messages=messages, extra_body={"collections": ["nope"]}
        )
    assert "collections: no collection named 'nope'" in unknown.value.message


def test_dify_refuses_our_scope_keys_and_points_to_its_own(
    docs_server: tuple[str, Path], news: dict[str, str]
) -> None:
    body = {
        "knowledge_id": COLLECTION,
        "query": QUESTION,
        "retrieval_setting": {"top_k": TOP_K},
        "filters": {"published_from": SINCE},
    }
    refused = httpx.post(f"{docs_server[0]}/retrieval", json=body, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["error_msg"] == (
        "filters: not a field of Dify's retrieval request; the collection is knowledge_id, "
        "filters are metadata_condition"
    )


async def refused_calls(client: Client) -> list[Any]:
    return [
        await client.call_tool("search", {"question": QUESTION, "collection": [COLLECTION]}),
        await client.call_tool("ask", {"question": QUESTION, "filters": {"sources": ["x"]}}),
        await client.call_tool("ask", {"question": QUESTION, "collections": ["nope"]}),
        await client.call_tool("search", {"question": QUESTION, "top_k": 0}),
    ]


MCP_REFUSALS = [
    "Error executing tool search: collection: unknown field; did you mean 'collections'?",
    "Error executing tool ask: filters.sources: unknown field; did you mean 'source'?",
    "Error executing tool ask: collections: no collection named 'nope'",
    "Error executing tool search: top_k: must be an integer between 1 and 50",
]


def test_mcp_refuses_unknown_scope_keys_over_http(
    docs_server: tuple[str, Path], news: dict[str, str]
) -> None:
    async def main() -> list[Any]:
        async with Client(f"{docs_server[0]}/mcp", read_timeout_seconds=120) as client:
            return await refused_calls(client)

    results = asyncio.run(main())
    assert all(r.is_error for r in results)
    assert [r.content[0].text for r in results] == MCP_REFUSALS


def test_mcp_refuses_unknown_scope_keys_over_stdio(
    docs_server: tuple[str, Path], index_dir: Path, news: dict[str, str]
) -> None:
    async def main() -> list[Any]:
        server = stdio_server(docs_server[1], index_dir)
        async with Client(server, read_timeout_seconds=120) as client:
            return await refused_calls(client)

    results = asyncio.run(main())
    assert [r.content[0].text for r in results] == MCP_REFUSALS


def test_langchain_refuses_unknown_scope_keys(docs_server: tuple[str, Path]) -> None:
    base = docs_server[0]
    with pytest.raises(ValueError, match=r"filters\.sources: unknown field; did you mean 'source'"):
        RagqaRetriever(base_url=base, filters={"sources": ["甘肃日报"]})
    with pytest.raises(ValueError, match="collection: unknown field; did you mean 'collections'"):
        RagqaRetriever(base_url=base, collection=COLLECTION)  # type: ignore[call-arg]


def test_ragqa_ask_refuses_a_bad_scope(docs_server: tuple[str, Path]) -> None:
    base = docs_server[0]
    unknown = ragqa("ask", QUESTION, "--collections", COLLECTION, "--url", base)
    assert unknown.returncode == 2 and "--collections" in unknown.stderr
    missing = ragqa("ask", QUESTION, "--collection", "nope", "--url", base)
    assert missing.returncode == 1
    assert "POST /v1/ask: 404 collections: no collection named 'nope'" in missing.stderr
    bad_date = ragqa("ask", QUESTION, "--published-from", "soon", "--url", base)
    assert bad_date.returncode == 2
    assert "filters.published_from: must be a date YYYY-MM-DD, got 'soon'" in bad_date.stderr


@pytest.fixture
def scoped_page(docs_server: tuple[str, Path]) -> Iterator[Any]:
    """A page on the server's origin embedding the widget with `data-collection`."""
    from playwright.sync_api import sync_playwright

    from tests.service.test_widget_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP

    base = docs_server[0]
    html = (
        f'<!doctype html><html lang="zh"><body><script src="{base}/widget.js" '
        f'data-endpoint="{base}" data-collection="{COLLECTION}" data-open="true"></script>'
        "</body></html>"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=DESKTOP, locale="zh-CN")  # type: ignore[arg-type]
        page.route(
            f"{base}/scoped.html", lambda route: route.fulfill(body=html, content_type="text/html")
        )
        page.goto(f"{base}/scoped.html")
        page.wait_for_function("() => window.RagChat && window.RagChat.floating")
        yield page
        browser.close()


@pytest.mark.browser
def test_the_widget_with_data_collection_answers_from_that_collection(
    scoped_page: Any, docs_server: tuple[str, Path], news: dict[str, str]
) -> None:
    page = scoped_page
    sent: list[Any] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data or "{}")) if "/v1/ask" in r.url else None,
    )
    body = {"question": QUESTION, "top_k": 5, "collections": [COLLECTION]}
    expected = httpx.post(f"{docs_server[0]}/v1/ask", json=body, timeout=120).json()
    page.locator("rag-chat-launcher textarea").fill(QUESTION)
    page.keyboard.press("Enter")
    reply = page.locator("rag-chat-launcher .msg.bot:not(.hello)").last
    reply.locator(".answer-text mark").wait_for(timeout=60_000)
    assert sent == [body]
    assert reply.locator(".answer-text mark").inner_text() == expected["answer"]["text"]
    assert reply.locator(".cite-btn").count() == len(expected["passages"])
    titles = reply.inner_text()
    assert all(p["title"] in titles for p in expected["passages"])
