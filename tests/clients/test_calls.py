"""What the client sends and how it reads answers, without a server: the scope as query
parameters, the stream's events, the error shape, and imports that stay light."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import httpx
import pytest

from ragqa_client import (
    AnswerEvent,
    ApiError,
    Client,
    ConnectionFailed,
    NewDocument,
    NotFoundError,
    PassagesEvent,
    RateLimitError,
    calls,
)
from ragqa_client.errors import error_from_response
from ragqa_client.sse import EventDecoder

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "python" / "src" / "ragqa_client"
PASSAGE = (
    '{"rank": 1, "score": 0.5, "text": "甲", "doc_id": "d:0", "title": "t", "source": "s.txt",'
    ' "published": null, "char_start": 3, "char_end": 4, "highlight": null}'
)


def test_search_scope_becomes_the_query_parameters_of_v1_search() -> None:
    params = calls.search_params(
        "问题",
        3,
        ["default", "news"],
        {
            "published_from": "2025-01-01",
            "published_to": None,
            "source": ["a.txt", "b.txt"],
            "metadata": {"lang": "zh", "pinned": True, "n": 3},
        },
    )
    assert params == [
        ("q", "问题"),
        ("top_k", "3"),
        ("collections", "default"),
        ("collections", "news"),
        ("published_from", "2025-01-01"),
        ("source", "a.txt"),
        ("source", "b.txt"),
        ("metadata", "lang:zh"),
        ("metadata", "pinned:true"),
        ("metadata", "n:3"),
    ]
    assert calls.search_params("问题", None, None, None) == [("q", "问题")]
    # An empty list is not "every collection": the service refuses it, as /v1/ask does.
    assert calls.search_params("问题", None, [], None) == [("q", "问题"), ("collections", "")]


def test_ask_body_sends_the_scope_as_given_and_leaves_defaults_to_the_service() -> None:
    assert calls.ask_body("问题", None, None, None) == {"question": "问题"}
    body = calls.ask_body("问题", 2, ("default",), {"published_from": "2025-01-01"})
    assert body == {
        "question": "问题",
        "top_k": 2,
        "collections": ["default"],
        "filters": {"published_from": "2025-01-01"},
    }


def test_paths_escape_ids_and_names_and_documents_drop_unset_fields() -> None:
    assert calls.get_document("000_a.txt:0").path == "/v1/documents/000_a.txt%3A0"
    call = calls.replace_document("新闻 稿", "x/y", NewDocument(title="t", text="正文"))
    assert (call.method, call.path) == (
        "PUT",
        "/v1/collections/%E6%96%B0%E9%97%BB%20%E7%A8%BF/documents/x%2Fy",
    )
    assert call.json == {"title": "t", "text": "正文", "metadata": {}}
    batch = calls.add_documents(
        "c", [{"title": "t", "text": "x"}, NewDocument(title="u", text="y")]
    )
    assert batch.json == [{"title": "t", "text": "x"}, {"title": "u", "text": "y", "metadata": {}}]
    assert calls.add_documents("c", {"title": "t", "text": "x"}).json == {"title": "t", "text": "x"}


def test_stream_lines_become_typed_events_and_keep_alives_are_skipped() -> None:
    lines = [
        ": keep-alive",
        "",
        "event: passages",
        f'data: {{"question": "问", "passages": [{PASSAGE}]}}',
        "",
        ": keep-alive",
        "",
        "event: answer",
        f'data: {{"answer": null, "passages": [{PASSAGE}], "took_ms": 1.5}}',
        "",
        "event: done",
        "data: {}",
        "",
    ]
    decoder = EventDecoder()
    events = [e for e in map(decoder.feed, lines) if e is not None]
    assert [type(e) for e in events] == [PassagesEvent, AnswerEvent]
    assert events[0].passages[0].doc_id == "d:0"
    assert isinstance(events[1], AnswerEvent) and events[1].answer is None
    assert decoder.done
    decoder.finish()


def test_an_error_event_raises_the_services_error_and_a_cut_stream_is_refused() -> None:
    decoder = EventDecoder()
    decoder.feed("event: error")
    decoder.feed('data: {"error": {"code": "index_invalid", "message": "gone"}}')
    with pytest.raises(ApiError, match="stream error index_invalid: gone") as caught:
        decoder.feed("")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        None,
        "index_invalid",
        "gone",
    )
    cut = EventDecoder()
    cut.feed("event: passages")
    with pytest.raises(ConnectionFailed, match="before its done event"):
        cut.finish()


def test_error_responses_become_the_exception_of_their_status() -> None:
    body = {"error": {"code": "document_not_found", "message": "no document with id 'x'"}}
    error = error_from_response(httpx.Response(404, json=body))
    assert isinstance(error, NotFoundError)
    assert (error.status, error.code, error.message, error.body) == (
        404,
        "document_not_found",
        "no document with id 'x'",
        body,
    )
    assert str(error) == "HTTP 404 document_not_found: no document with id 'x'"
    limited = error_from_response(
        httpx.Response(
            429,
            json={"error": {"code": "rate_limited", "message": "slow down"}},
            headers={"Retry-After": "7"},
        )
    )
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7.0
    proxy = error_from_response(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert type(proxy) is ApiError
    assert (proxy.status, proxy.code, proxy.message) == (
        502,
        "http_error",
        "<html>Bad Gateway</html>",
    )


ALLOWED = {"httpx", "pydantic", "langchain_core", "ragqa_client", "__future__"}


def test_the_package_imports_only_httpx_pydantic_and_langchain_core() -> None:
    imported = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert imported - ALLOWED - set(sys.stdlib_module_names) == set()


def test_requests_carry_the_key_under_a_base_url_with_a_path_prefix() -> None:
    seen: list[tuple[str, str | None]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        return httpx.Response(200, json=[])

    with Client(
        "http://proxy.example/ragqa/", api_key="k-1", transport=httpx.MockTransport(record)
    ) as client:
        assert client.collections.list() == []
        assert client.documents.list("新闻 稿") == []
    assert seen == [
        ("http://proxy.example/ragqa/v1/collections", "Bearer k-1"),
        (
            "http://proxy.example/ragqa/v1/documents?collection=%E6%96%B0%E9%97%BB+%E7%A8%BF",
            "Bearer k-1",
        ),
    ]
