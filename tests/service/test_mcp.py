"""The MCP tools through the `mcp` SDK's own client: over streamable HTTP at /mcp of the real
server, and over stdio from `ragqa mcp` started as a subprocess."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.news_fixtures import HYDROGEN as _HYDROGEN

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "酒钢集团的产品种类扩展到了多少个"
TOOLS = {"search", "ask", "get_document"}
T = TypeVar("T")


def run(server: Any, work: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Client(server, read_timeout_seconds=120) as client:
            return await work(client)

    return asyncio.run(main())


async def call_each(client: Client) -> dict[str, Any]:
    """List the tools and call each one; the results by tool name."""
    listed = await client.list_tools()
    results: dict[str, Any] = {"tools": listed.tools}
    results["search"] = await client.call_tool("search", {"question": QUESTION, "top_k": 3})
    results["ask"] = await client.call_tool("ask", {"question": QUESTION, "top_k": 3})
    doc_id = results["ask"].structured_content["answer"]["doc_id"]
    results["get_document"] = await client.call_tool("get_document", {"doc_id": doc_id})
    return results


def check_results(results: dict[str, Any], live: str, *, linked: bool = True) -> None:
    """Each tool's structured content is the HTTP API's JSON; its text is a short rendering.
    `linked=False` (stdio): no server to link to, so every `url` is null (the seed
    documents have no `url` of their own)."""
    tools = {t.name: t for t in results["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.output_schema is not None and tool.description
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    search = results["search"]
    assert not search.is_error
    expected = httpx.get(f"{live}/v1/search", params={"q": QUESTION, "top_k": 3}).json()
    if not linked:
        expected = unlinked(expected)
    assert search.structured_content["passages"] == expected["passages"]
    assert search.content[0].text.startswith(f"3 passages for '{QUESTION}':\n[1] ")

    ask = results["ask"]
    expected_ask = httpx.post(f"{live}/v1/ask", json={"question": QUESTION, "top_k": 3}).json()
    if not linked:
        expected_ask = unlinked(expected_ask)
    got = dict(ask.structured_content)
    got.pop("took_ms"), expected_ask.pop("took_ms")
    assert got == expected_ask
    answer = expected_ask["answer"]
    assert ask.content[0].text.startswith(f"Answer: {answer['text']}\n")

    document = results["get_document"]
    expected_doc = httpx.get(f"{live}/v1/documents/{answer['doc_id']}").json()
    assert document.structured_content == expected_doc
    text = expected_doc["text"]
    assert text[answer["char_start"] : answer["char_end"]] == answer["text"]
    assert document.content[0].text.startswith(f"{expected_doc['title']} · ")


def test_streamable_http_lists_and_calls_every_tool(live_server: str) -> None:
    check_results(run(f"{live_server}/mcp", call_each), live_server)


@pytest.mark.slow
def test_stdio_lists_and_calls_every_tool(live_server: str, index_dir: Path) -> None:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ragqa", "mcp", "--index", str(index_dir)],
        env={"HF_HUB_OFFLINE": "1", "RAGQA_LOG_LEVEL": "warning"},
        cwd=str(ROOT),
    )
    check_results(run(server, call_each), live_server, linked=False)


def unlinked(body: dict[str, Any]) -> dict[str, Any]:
    """An HTTP response body with every `url` null."""
    out = {**body, "passages": [{**p, "url": None} for p in body["passages"]]}
    if body.get("answer") is not None:
        out["answer"] = {**body["answer"], "url": None}
    return out


async def bad_calls(client: Client) -> list[Any]:
    return [
        await client.call_tool("search", {"question": "   "}),
        await client.call_tool("ask", {"question": QUESTION, "top_k": 0}),
        await client.call_tool("search", {"question": QUESTION, "top_k": 1000}),
        await client.call_tool("search", {"question": 42}),
        await client.call_tool("get_document", {"doc_id": "no-such-doc"}),
        await client.call_tool(
            "search", {"question": QUESTION, "filters": {"published_from": "soon"}}
        ),
    ]


def test_bad_arguments_are_tool_errors_naming_them(live_server: str) -> None:
    results = run(f"{live_server}/mcp", bad_calls)
    assert all(r.is_error for r in results)
    texts = [r.content[0].text for r in results]
    assert "question: must not be empty" in texts[0]
    assert "top_k" in texts[1] and "top_k" in texts[2]
    assert "question" in texts[3]
    assert "no document with id 'no-such-doc'" in texts[4]
    assert texts[5] == (
        "Error executing tool search: filters.published_from: must be a date YYYY-MM-DD, got 'soon'"
    )
    assert not [t for t in texts if "pydantic" in t]  # plain words, no validator text or URL


async def filtered(client: Client) -> list[Any]:
    dated = {"question": QUESTION, "filters": {"published_from": "2025-01-01"}}
    nothing = {"question": QUESTION, "filters": {"source": ["no-such-file.txt"]}}
    return [
        await client.call_tool("search", dated),
        await client.call_tool("ask", nothing),
    ]


def test_filters_restrict_and_a_filter_matching_nothing_gives_nothing(live_server: str) -> None:
    dated, nothing = run(f"{live_server}/mcp", filtered)
    passages = dated.structured_content["passages"]
    assert passages and {p["published"] for p in passages} == {"2025-01-22"}
    assert nothing.structured_content["answer"] is None
    assert nothing.structured_content["passages"] == []


def test_a_foreign_host_header_is_refused(live_server: str) -> None:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = httpx.post(
        f"{live_server}/mcp",
        json=request,
        headers={"Host": "evil.example", "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code in (400, 421)


def test_the_mcp_mount_is_not_in_the_openapi_document(live_server: str) -> None:
    paths = httpx.get(f"{live_server}/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/mcp")]


HYDROGEN = {**_HYDROGEN, "metadata": {"desk": "economy"}}
SOLAR = {
    "title": "敦煌光热电站并网",
    "text": "敦煌100兆瓦熔盐塔式光热电站全面并网发电，年发电量可达3.9亿千瓦时。",
    "published": "2025-05-10",
    "source": "酒泉日报",
    "metadata": {"desk": "energy"},
}


@pytest.mark.slow
def test_stdio_serves_the_document_store_its_collections_and_filters(
    docs_server: tuple[str, Path], index_dir: Path
) -> None:
    from tests.conftest import TEST_API_KEY

    base, data_dir = docs_server
    auth = {"Authorization": f"Bearer {TEST_API_KEY}"}
    with httpx.Client(base_url=base, timeout=120, headers=auth) as http:
        assert http.put("/v1/collections/mcp-energy").status_code in (200, 201)
        added = http.post("/v1/collections/mcp-energy/documents", json=HYDROGEN)
        assert added.status_code == 200, added.text
        hydrogen_id = added.json()["documents"][0]["doc_id"]

        server = StdioServerParameters(
            command=sys.executable,
            args=["-m", "ragqa", "mcp", "--index", str(index_dir), "--data-dir", str(data_dir)],
            env={"HF_HUB_OFFLINE": "1", "RAGQA_LOG_LEVEL": "warning"},
            cwd=str(ROOT),
        )
        question = "兰州新区氢能产业园总投资多少"

        async def work(client: Client) -> dict[str, Any]:
            def call(tool: str, collections: list[str], **filters: Any) -> Awaitable[Any]:
                arguments = {"question": question, "collections": collections}
                return client.call_tool(tool, {**arguments, "filters": filters})

            out: dict[str, Any] = {
                "ask": await call("ask", ["mcp-energy"]),
                "default": await call("search", ["default"]),
                "economy": await call("search", ["mcp-energy"], metadata={"desk": "economy"}),
                "energy": await call("search", ["mcp-energy"], metadata={"desk": "energy"}),
                "unknown": await call("search", ["no-such-collection"]),
                "document": await client.call_tool("get_document", {"doc_id": hydrogen_id}),
            }
            # a document written through the HTTP service while the MCP server runs
            solar = await asyncio.to_thread(
                http.post, "/v1/collections/mcp-energy/documents", json=SOLAR
            )
            out["solar_id"] = solar.json()["documents"][0]["doc_id"]
            for _ in range(30):
                found = await client.call_tool(
                    "search",
                    {"question": "敦煌光热电站年发电量", "collections": ["mcp-energy"]},
                )
                ids = [p["doc_id"] for p in found.structured_content["passages"]]
                if out["solar_id"] in ids:
                    break
                await asyncio.sleep(0.5)
            out["solar"] = ids
            return out

        results = run(server, work)

    answer = results["ask"].structured_content["answer"]
    assert answer is not None and answer["doc_id"] == hydrogen_id and "52亿元" in answer["text"]
    default_ids = {p["doc_id"] for p in results["default"].structured_content["passages"]}
    assert default_ids and hydrogen_id not in default_ids
    economy = results["economy"].structured_content["passages"]
    assert [p["doc_id"] for p in economy] == [hydrogen_id]
    assert results["energy"].structured_content["passages"] == []
    assert results["unknown"].is_error
    assert "no collection named 'no-such-collection'" in results["unknown"].content[0].text
    assert results["document"].structured_content["collection"] == "mcp-energy"
    assert results["solar"][0] == results["solar_id"]
