"""What each API call sends and how its answer is read, shared by `Client` and `AsyncClient`.

A `Call` is plain data (method, path, query, body) plus the parser of a 2xx JSON body, so
the sync and async clients differ only in how they do the I/O.

Scope passes through as the API defines it: `collections` is a list of names, `filters` a
mapping with the keys of `/v1/ask`'s `filters` object. The service checks both and refuses an
unknown collection (404) or a bad filter (422, naming it); this client does not keep its own
copy of the vocabulary, so it speaks whatever the service it talks to speaks. For
`GET /v1/search` the same mapping becomes query parameters: a list repeats its key, a mapping
becomes `key=name:value` per entry, and a boolean is `true`/`false` as the service stores it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from ragqa_client.errors import ConnectionFailed, error_from_response
from ragqa_client.models import (
    AskResult,
    Collection,
    CollectionDeleted,
    Document,
    DocumentDeleted,
    DocumentSummary,
    NewDocument,
    SearchResult,
    WriteResult,
)

VERSION = "0.1.0"
T = TypeVar("T")
Param = tuple[str, str]
Filters = Mapping[str, Any]
DocumentLike = NewDocument | Mapping[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request of the API and the parser of its JSON answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: tuple[Param, ...] = ()
    json: Any = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None


def _segment(value: str) -> str:
    """A path segment: every reserved character escaped (ids hold ':', names spaces)."""
    return quote(value, safe="")


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def ask_body(
    question: str,
    top_k: int | None,
    collections: Sequence[str] | None,
    filters: Filters | None,
) -> dict[str, Any]:
    """The JSON body of `POST /v1/ask` and `POST /v1/ask/stream`; unset fields are left out
    so the service's defaults apply."""
    body: dict[str, Any] = {"question": question}
    if top_k is not None:
        body["top_k"] = top_k
    if collections is not None:
        body["collections"] = list(collections)
    if filters is not None:
        body["filters"] = dict(filters)
    return body


def search_params(
    query: str,
    top_k: int | None,
    collections: Sequence[str] | None,
    filters: Filters | None,
) -> list[Param]:
    """The query parameters of `GET /v1/search` for the same scope as `ask_body`."""
    params: list[Param] = [("q", query)]
    if top_k is not None:
        params.append(("top_k", _text(top_k)))
    if collections is not None:
        # An empty list is sent as one empty name, so the service refuses it as /v1/ask does
        # instead of searching every collection.
        params += [("collections", name) for name in collections] or [("collections", "")]
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            params += [(key, f"{name}:{_text(v)}") for name, v in value.items()]
        elif isinstance(value, list | tuple | set | frozenset):
            params += [(key, _text(v)) for v in value]
        else:
            params.append((key, _text(value)))
    return params


def ask(
    question: str, top_k: int | None, collections: Sequence[str] | None, filters: Filters | None
) -> Call[AskResult]:
    body = ask_body(question, top_k, collections, filters)
    return Call("POST", "/v1/ask", AskResult.model_validate, json=body)


def search(
    query: str, top_k: int | None, collections: Sequence[str] | None, filters: Filters | None
) -> Call[SearchResult]:
    params = search_params(query, top_k, collections, filters)
    return Call("GET", "/v1/search", SearchResult.model_validate, params=tuple(params))


_SUMMARIES = TypeAdapter(list[DocumentSummary])
_COLLECTIONS = TypeAdapter(list[Collection])


def list_documents(collection: str | None) -> Call[list[DocumentSummary]]:
    params = (("collection", collection),) if collection is not None else ()
    return Call("GET", "/v1/documents", _SUMMARIES.validate_python, params=params)


def get_document(doc_id: str) -> Call[Document]:
    return Call("GET", f"/v1/documents/{_segment(doc_id)}", Document.model_validate)


def _document_json(document: DocumentLike) -> dict[str, Any]:
    if isinstance(document, NewDocument):
        return document.model_dump(exclude_none=True)
    return dict(document)


def add_documents(
    collection: str, documents: DocumentLike | Sequence[DocumentLike]
) -> Call[WriteResult]:
    """One document is sent as one object, a sequence as a batch (at most 1,000)."""
    if isinstance(documents, NewDocument | Mapping):
        body: Any = _document_json(documents)
    else:
        body = [_document_json(d) for d in documents]
    path = f"/v1/collections/{_segment(collection)}/documents"
    return Call("POST", path, WriteResult.model_validate, json=body)


def upload_files(collection: str, paths: Sequence[str | Path]) -> Call[WriteResult]:
    """A multipart upload of `.txt`, `.md`, `.html` or `.jsonl` files. It asks `wait=true`:
    the call returns when the files are stored, also where the service would have run a long
    upload as a job (`202`)."""
    files = [
        ("files", (Path(p).name, Path(p).read_bytes(), "application/octet-stream")) for p in paths
    ]
    path = f"/v1/collections/{_segment(collection)}/documents"
    return Call("POST", path, WriteResult.model_validate, params=(("wait", "true"),), files=files)


def replace_document(collection: str, doc_id: str, document: DocumentLike) -> Call[WriteResult]:
    path = f"/v1/collections/{_segment(collection)}/documents/{_segment(doc_id)}"
    return Call("PUT", path, WriteResult.model_validate, json=_document_json(document))


def delete_document(collection: str, doc_id: str) -> Call[DocumentDeleted]:
    path = f"/v1/collections/{_segment(collection)}/documents/{_segment(doc_id)}"
    return Call("DELETE", path, DocumentDeleted.model_validate)


def list_collections() -> Call[list[Collection]]:
    return Call("GET", "/v1/collections", _COLLECTIONS.validate_python)


def create_collection(name: str) -> Call[Collection]:
    return Call("PUT", f"/v1/collections/{_segment(name)}", Collection.model_validate)


def delete_collection(name: str) -> Call[CollectionDeleted]:
    return Call("DELETE", f"/v1/collections/{_segment(name)}", CollectionDeleted.model_validate)


def headers(api_key: str | None) -> dict[str, str]:
    """Headers of every request: who is calling, and the key as a Bearer token if given."""
    sent = {"User-Agent": f"ragqa-client/{VERSION}", "Accept": "application/json"}
    if api_key is not None:
        sent["Authorization"] = f"Bearer {api_key}"
    return sent


def result(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer of a read response, or the `ApiError` of a refusal."""
    if not response.is_success:
        raise error_from_response(response)
    return call.parse(response.json())


def unreachable(base_url: str, exc: Exception) -> ConnectionFailed:
    return ConnectionFailed(f"cannot reach {base_url}: {exc}")
