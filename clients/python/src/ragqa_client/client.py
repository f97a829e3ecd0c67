"""`Client`: the ragqa HTTP API from Python, synchronously.

    from ragqa_client import Client

    with Client("http://127.0.0.1:8000") as client:
        result = client.ask("白银炉能耗降低了多少", top_k=3)
        print(result.answer.text if result.answer else "no answer")
        for event in client.stream("白银炉能耗降低了多少"):
            ...                       # PassagesEvent, then AnswerEvent

Every refusal of the service raises an `ApiError` subclass carrying its status, code and
message; a service that cannot be reached raises `ConnectionFailed`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

from ragqa_client import calls
from ragqa_client.calls import Call, DocumentLike, Filters
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
DEFAULT_URL = "http://127.0.0.1:8000"


class Client:
    """A connection pool to one ragqa service; close it (or use `with`) when done.

    `api_key` is sent as `Authorization: Bearer` (the service's `RAGQA_API_KEY`: writes need
    it); `timeout` is in seconds, per request (for a stream, between two of its lines).
    `transport` replaces httpx's own (a proxy, retries, or `httpx.MockTransport`)."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={**calls.headers(api_key), **(headers or {})},
            timeout=timeout,
            transport=transport,
        )
        self.documents = Documents(self)
        self.collections = Collections(self)

    def send(self, call: Call[T]) -> T:
        """Make one call of the API (see `ragqa_client.calls`) and parse its answer."""
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.json, files=call.files
            )
        except httpx.TransportError as exc:
            raise calls.unreachable(self.base_url, exc) from exc
        return calls.result(call, response)

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> AskResult:
        """`POST /v1/ask`: the answer span (or None) and the ranked passages."""
        return self.send(calls.ask(question, top_k, collections, filters))

    def search(
        self,
        query: str,
        *,
        top_k: int | None = None,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> SearchResult:
        """`GET /v1/search`: the ranked passages, without an answer."""
        return self.send(calls.search(query, top_k, collections, filters))

    def stream(
        self,
        question: str,
        *,
        top_k: int | None = None,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> Iterator[StreamEvent]:
        """`POST /v1/ask/stream`: a `PassagesEvent` as soon as retrieval is done, then an
        `AnswerEvent`. The request is sent when iteration starts, so a refusal is raised
        from the first `next()`."""
        body = calls.ask_body(question, top_k, collections, filters)
        try:
            with self._http.stream("POST", "/v1/ask/stream", json=body) as response:
                if not response.is_success:
                    response.read()
                    raise error_from_response(response)
                decoder = EventDecoder()
                for line in response.iter_lines():
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

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Documents:
    """`client.documents`: the documents of the index, and writes to the document store."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, collection: str | None = None) -> builtins.list[DocumentSummary]:
        """Every indexed document (of one collection, if given), without text."""
        return self._client.send(calls.list_documents(collection))

    def get(self, doc_id: str) -> Document:
        """One document with its text (every offset points into it); 404 if unknown."""
        return self._client.send(calls.get_document(doc_id))

    def add(self, collection: str, documents: DocumentLike | Sequence[DocumentLike]) -> WriteResult:
        """Store one document or a batch (answerable once this returns)."""
        return self._client.send(calls.add_documents(collection, documents))

    def upload(self, collection: str, paths: Sequence[str | Path]) -> WriteResult:
        """Store `.txt`, `.md`, `.html` or `.jsonl` files, read by the service."""
        return self._client.send(calls.upload_files(collection, paths))

    def replace(self, collection: str, doc_id: str, document: DocumentLike) -> WriteResult:
        """Replace the document `doc_id` (or create it with that id)."""
        return self._client.send(calls.replace_document(collection, doc_id, document))

    def delete(self, collection: str, doc_id: str) -> DocumentDeleted:
        return self._client.send(calls.delete_document(collection, doc_id))


class Collections:
    """`client.collections`: create, list and drop collections."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> builtins.list[Collection]:
        return self._client.send(calls.list_collections())

    def create(self, name: str) -> Collection:
        """Create a collection, or leave an existing one as it is."""
        return self._client.send(calls.create_collection(name))

    def delete(self, name: str) -> CollectionDeleted:
        """Drop a collection with all its documents."""
        return self._client.send(calls.delete_collection(name))
