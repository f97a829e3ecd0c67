"""`AsyncClient`: the same calls as `Client`, awaited (for asyncio applications).

    async with AsyncClient("http://127.0.0.1:8000") as client:
        result = await client.search("白银炉能耗降低了多少")
        async for event in client.stream("白银炉能耗降低了多少"):
            ...

Requests and parsing are `ragqa_client.calls`, shared with `Client`; only the I/O differs.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

from ragqa_client import calls
from ragqa_client.calls import Call, DocumentLike, Filters
from ragqa_client.client import DEFAULT_URL
from ragqa_client.errors import error_from_response
from ragqa_client.models import (
    AskResult,
    Collection,
    CollectionDeleted,
    Document,
    DocumentDeleted,
    DocumentSummary,
    SearchResult,
    StreamEvent,
    WriteResult,
)
from ragqa_client.sse import EventDecoder

T = TypeVar("T")


class AsyncClient:
    """`Client` for asyncio: the same arguments, every call awaited."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={**calls.headers(api_key), **(headers or {})},
            timeout=timeout,
            transport=transport,
        )
        self.documents = AsyncDocuments(self)
        self.collections = AsyncCollections(self)

    async def send(self, call: Call[T]) -> T:
        """Make one call of the API (see `ragqa_client.calls`) and parse its answer."""
        try:
            response = await self._http.request(
                call.method, call.path, params=call.params, json=call.json, files=call.files
            )
        except httpx.TransportError as exc:
            raise calls.unreachable(self.base_url, exc) from exc
        return calls.result(call, response)

    async def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> AskResult:
        """`POST /v1/ask`: the answer span (or None) and the ranked passages."""
        return await self.send(calls.ask(question, top_k, collections, filters))

    async def search(
        self,
        query: str,
        *,
        top_k: int | None = None,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> SearchResult:
        """`GET /v1/search`: the ranked passages, without an answer."""
        return await self.send(calls.search(query, top_k, collections, filters))

    async def stream(
        self,
        question: str,
        *,
        top_k: int | None = None,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """`POST /v1/ask/stream`: a `PassagesEvent`, then an `AnswerEvent` (see `Client`)."""
        body = calls.ask_body(question, top_k, collections, filters)
        try:
            async with self._http.stream("POST", "/v1/ask/stream", json=body) as response:
                if not response.is_success:
                    await response.aread()
                    raise error_from_response(response)
                decoder = EventDecoder()
                async for line in response.aiter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        yield event
                    if decoder.done:
                        return
                last = decoder.feed("")  # a last block the stream did not end with a blank line
                if last is not None:
                    yield last
                decoder.finish()
        except httpx.TransportError as exc:
            raise calls.unreachable(self.base_url, exc) from exc

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncDocuments:
    """`client.documents` of an `AsyncClient` (see `Documents`)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(self, collection: str | None = None) -> builtins.list[DocumentSummary]:
        return await self._client.send(calls.list_documents(collection))

    async def get(self, doc_id: str) -> Document:
        return await self._client.send(calls.get_document(doc_id))

    async def add(
        self, collection: str, documents: DocumentLike | Sequence[DocumentLike]
    ) -> WriteResult:
        return await self._client.send(calls.add_documents(collection, documents))

    async def upload(self, collection: str, paths: Sequence[str | Path]) -> WriteResult:
        return await self._client.send(calls.upload_files(collection, paths))

    async def replace(self, collection: str, doc_id: str, document: DocumentLike) -> WriteResult:
        return await self._client.send(calls.replace_document(collection, doc_id, document))

    async def delete(self, collection: str, doc_id: str) -> DocumentDeleted:
        return await self._client.send(calls.delete_document(collection, doc_id))


class AsyncCollections:
    """`client.collections` of an `AsyncClient` (see `Collections`)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(self) -> builtins.list[Collection]:
        return await self._client.send(calls.list_collections())

    async def create(self, name: str) -> Collection:
        return await self._client.send(calls.create_collection(name))

    async def delete(self, name: str) -> CollectionDeleted:
        return await self._client.send(calls.delete_collection(name))
