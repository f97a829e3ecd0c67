"""`ragqa_client.Client` and `AsyncClient` against the real server: every call gives what the
HTTP API gives, typed, and every refusal becomes the exception of its status."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragqa_client import (
    AnswerEvent,
    AskResult,
    AsyncClient,
    AuthenticationError,
    Client,
    Collection,
    CollectionDeleted,
    ConnectionFailed,
    DocumentDeleted,
    NewDocument,
    NotFoundError,
    PassagesEvent,
    SearchResult,
    UnprocessableEntityError,
)
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.slow

QUESTION = "白银炉能耗降低了多少"
ANSWER = "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
ANSWER_DOC = "000_0ad1dae646fc90f2.txt:0"
SCOPE: dict[str, Any] = {
    "collections": ["default"],
    "filters": {"published_from": "2025-01-01", "published_to": "2025-12-31"},
}
"""A collection plus a date filter: only the article of 2025-01-22 answers."""


def _served(result: AskResult | SearchResult) -> dict[str, Any]:
    """A result as the service sent it (fields it did not send are left out), less the time."""
    return result.model_dump(exclude_unset=True, exclude={"took_ms"})


def _raw(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    body.pop("took_ms")
    return dict(body)


def test_ask_gives_the_answer_and_passages_of_post_v1_ask(client_server: str) -> None:
    with Client(client_server) as client:
        result = client.ask(QUESTION, top_k=3)
    assert result.answer is not None
    assert (result.answer.text, result.answer.doc_id, result.answer.passage_rank) == (
        ANSWER,
        ANSWER_DOC,
        1,
    )
    assert [p.rank for p in result.passages] == [1, 2, 3]
    raw = httpx.post(f"{client_server}/v1/ask", json={"question": QUESTION, "top_k": 3})
    assert _served(result) == _raw(raw)
    text = httpx.get(f"{client_server}/v1/documents/{ANSWER_DOC}").json()["text"]
    assert text[result.answer.char_start : result.answer.char_end] == ANSWER


def test_search_gives_the_passages_of_get_v1_search(client_server: str) -> None:
    with Client(client_server) as client:
        result = client.search(QUESTION, top_k=4)
    raw = httpx.get(f"{client_server}/v1/search", params={"q": QUESTION, "top_k": 4})
    assert _served(result) == _raw(raw)
    assert result.query == QUESTION
    assert len(result.passages) == 4
    assert result.passages[0].doc_id == ANSWER_DOC


def test_stream_sends_the_passages_then_the_answer_of_ask(client_server: str) -> None:
    with Client(client_server) as client:
        events = list(client.stream(QUESTION, top_k=3))
        asked = client.ask(QUESTION, top_k=3)
    assert [type(e) for e in events] == [PassagesEvent, AnswerEvent]
    passages, answer = events
    assert isinstance(passages, PassagesEvent) and isinstance(answer, AnswerEvent)
    assert passages.question == QUESTION
    assert passages.passages == [p.model_copy(update={"highlight": None}) for p in asked.passages]
    assert answer.answer == asked.answer
    assert answer.passages == asked.passages


def test_a_scope_narrows_ask_search_and_stream_alike(client_server: str) -> None:
    with Client(client_server) as client:
        asked = client.ask(QUESTION, **SCOPE)
        searched = client.search(QUESTION, **SCOPE)
        streamed = list(client.stream(QUESTION, **SCOPE))[-1]
        everything = client.search(QUESTION)
    assert asked.passages and {p.published for p in asked.passages} == {"2025-01-22"}
    assert [p.model_copy(update={"highlight": None}) for p in asked.passages] == searched.passages
    assert streamed.passages == asked.passages
    assert {p.published for p in everything.passages} != {"2025-01-22"}
    with Client(client_server) as client:
        nothing = client.search(QUESTION, filters={"published_from": "2099-01-01"})
        unanswered = client.ask(QUESTION, filters={"published_from": "2099-01-01"})
    assert nothing.passages == [] and unanswered.passages == [] and unanswered.answer is None


def test_refusals_become_typed_errors_with_the_servers_status_code_and_message(
    client_server: str,
) -> None:
    with Client(client_server) as client:
        with pytest.raises(UnprocessableEntityError) as empty:
            client.ask("   ")
        with pytest.raises(UnprocessableEntityError) as unknown_key:
            client.ask(QUESTION, filters={"bogus": 1})
        with pytest.raises(NotFoundError) as no_collection:
            client.search(QUESTION, collections=["nope"])
        with pytest.raises(NotFoundError) as in_stream:
            next(client.stream(QUESTION, collections=["nope"]))
        with pytest.raises(NotFoundError) as no_document:
            client.documents.get("no-such-doc")
        with pytest.raises(AuthenticationError) as no_key:
            client.collections.create("client-nokey")
    assert (empty.value.status, empty.value.code, empty.value.message) == (
        422,
        "invalid_request",
        "question: must not be empty",
    )
    assert empty.value.body == {
        "error": {"code": "invalid_request", "message": "question: must not be empty"}
    }
    assert unknown_key.value.status == 422
    assert unknown_key.value.message.startswith("filters.bogus: ")
    for error in (no_collection.value, in_stream.value):
        assert (error.status, error.code, error.message) == (
            404,
            "collection_not_found",
            "collections: no collection named 'nope'",
        )
    assert (no_document.value.status, no_document.value.code) == (404, "document_not_found")
    assert (no_key.value.status, no_key.value.code) == (401, "unauthorized")
    assert str(empty.value) == "HTTP 422 invalid_request: question: must not be empty"
    with (
        Client("http://127.0.0.1:9", timeout=2) as unreachable,
        pytest.raises(ConnectionFailed, match=r"cannot reach http://127\.0\.0\.1:9"),
    ):
        unreachable.search(QUESTION)


def test_documents_and_collections_round_trip(client_server: str, tmp_path: Path) -> None:
    name = "客户端 测试"
    article = NewDocument(
        title="兰州新区氢能产业园开工",
        text="3月1日，兰州新区氢能产业园开工建设，总投资50亿元，预计年产氢燃料电池汽车5000辆。",
        published="2025-03-01",
        url="https://example.org/news/1",
        source="甘肃日报",
        metadata={"lang": "zh", "pinned": True},
    )
    with Client(client_server, api_key=TEST_API_KEY) as client:
        created = client.collections.create(name)
        assert (created.name, created.documents) == (name, 0)
        assert client.collections.create(name) == created  # already there: left as it is

        written = client.documents.add(name, article)
        (doc_id,) = written.doc_ids
        assert [(w.status, w.item, w.title) for w in written.documents] == [
            ("created", "document", "兰州新区氢能产业园开工")
        ]
        again = client.documents.add(name, [article])
        assert [(w.doc_id, w.status) for w in again.documents] == [(doc_id, "unchanged")]
        assert again.embedded_documents == 0

        stored = client.documents.get(doc_id)
        assert (stored.title, stored.text, stored.published, stored.url, stored.source) == (
            article.title,
            article.text,
            "2025-03-01",
            "https://example.org/news/1",
            "甘肃日报",
        )
        assert (stored.collection, stored.metadata) == (name, {"lang": "zh", "pinned": "true"})
        assert [(d.doc_id, d.n_chars) for d in client.documents.list(name)] == [(doc_id, 44)]

        found = client.search(
            "兰州新区氢能产业园总投资多少",
            collections=[name],
            filters={"metadata": {"pinned": True}},
        )
        assert [(p.doc_id, p.text, p.char_start, p.char_end) for p in found.passages] == [
            (doc_id, article.text, 0, 44)
        ]

        replaced = client.documents.replace(
            name,
            doc_id,
            {"title": "兰州新区氢能产业园", "text": "兰州新区氢能产业园总投资60亿元。"},
        )
        assert [(w.doc_id, w.status) for w in replaced.documents] == [(doc_id, "replaced")]
        asked = client.ask("兰州新区氢能产业园总投资多少", collections=[name])
        assert asked.answer is not None
        assert asked.answer.text == "兰州新区氢能产业园总投资60亿元。"

        upload = tmp_path / "jiuquan.txt"
        upload.write_text(
            "酒泉风电装机突破两千万千瓦\n\n2025年5月6日，酒泉市风电装机容量突破2000万千瓦。\n",
            encoding="utf-8",
        )
        uploaded = client.documents.upload(name, [upload])
        assert [(w.status, w.item, w.title) for w in uploaded.documents] == [
            ("created", "jiuquan.txt", "酒泉风电装机突破两千万千瓦")
        ]

        assert client.documents.delete(name, doc_id) == DocumentDeleted(
            doc_id=doc_id, collection=name, deleted=True
        )
        with pytest.raises(NotFoundError):
            client.documents.get(doc_id)
        assert [c.documents for c in client.collections.list() if c.name == name] == [1]
        assert client.collections.delete(name) == CollectionDeleted(name=name, deleted_documents=1)
        assert name not in [c.name for c in client.collections.list()]


def test_the_async_client_gives_what_the_client_gives(client_server: str) -> None:
    async def run() -> tuple[Any, ...]:
        async with AsyncClient(client_server, api_key=TEST_API_KEY) as client:
            asked = await client.ask(QUESTION, top_k=3, **SCOPE)
            searched = await client.search(QUESTION, top_k=3)
            events = [event async for event in client.stream(QUESTION, top_k=3)]
            document = await client.documents.get(ANSWER_DOC)
            collections = await client.collections.list()
            try:
                await client.search(QUESTION, collections=["nope"])
            except NotFoundError as exc:
                refused = exc.message
            return asked, searched, events, document, collections, refused

    asked, searched, events, document, collections, refused = asyncio.run(run())
    with Client(client_server) as client:
        assert _served(asked) == _served(client.ask(QUESTION, top_k=3, **SCOPE))
        assert _served(searched) == _served(client.search(QUESTION, top_k=3))
        assert [type(e) for e in events] == [PassagesEvent, AnswerEvent]
        assert events[-1].answer == client.ask(QUESTION, top_k=3).answer
        assert document == client.documents.get(ANSWER_DOC)
        assert collections == client.collections.list()
    assert [c.name for c in collections] == ["default"]
    assert isinstance(collections[0], Collection)
    assert refused == "collections: no collection named 'nope'"
