"""The MCP tools through the `mcp` SDK's own client: over streamable HTTP at /mcp of the real
server, and over stdio from `ragqa mcp` started as a subprocess."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters

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


def check_results(results: dict[str, Any], live: str) -> None:
    """Each tool's structured content is the HTTP API's JSON; its text is a short rendering."""
    tools = {t.name: t for t in results["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.output_schema is not None and tool.description
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    search = results["search"]
    assert not search.is_error
    expected = httpx.get(f"{live}/v1/search", params={"q": QUESTION, "top_k": 3}).json()
    assert search.structured_content["passages"] == expected["passages"]
    assert search.content[0].text.startswith(f"3 passages for '{QUESTION}':\n[1] ")

    ask = results["ask"]
    expected_ask = httpx.post(f"{live}/v1/ask", json={"question": QUESTION, "top_k": 3}).json()
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


def test_stdio_lists_and_calls_every_tool(live_server: str, index_dir: Path) -> None:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ragqa", "mcp", "--index", str(index_dir)],
        env={"HF_HUB_OFFLINE": "1", "RAGQA_LOG_LEVEL": "warning"},
        cwd=str(ROOT),
    )
    check_results(run(server, call_each), live_server)


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
    assert "'soon' is not a date" in texts[5]


async def filtered(client: Client) -> list[Any]:
    dated = {"question": QUESTION, "filters": {"published_from": "2025-01-01"}}
    nothing = {"question": QUESTION, "filters": {"sources": ["no-such-file.txt"]}}
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
