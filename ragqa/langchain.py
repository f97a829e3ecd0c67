"""`RagqaRetriever`: a LangChain retriever over ragqa (`pip install "ragqa[langchain]"`).

Two ways to reach the passages, with the same result:

    from ragqa.langchain import RagqaRetriever

    retriever = RagqaRetriever(base_url="http://127.0.0.1:8000", k=4)   # a running service
    retriever = RagqaRetriever.local()   # in-process, on the service's document store
    retriever = RagqaRetriever(engine=Engine.load(Path("var/index")))    # one index directory
    docs = retriever.invoke("白银炉能耗降低了多少")        # or: await retriever.ainvoke(...)
    docs = retriever.invoke("白银炉能耗降低了多少", k=2)   # k per call

Each passage becomes `Document(page_content=passage text, metadata=...)` with the citation
in the metadata: `doc_id`, `title`, `source`, `published`, `char_start`, `char_end` (so
`document_text[char_start:char_end] == page_content`), plus `rank` and `score` (and over
HTTP `url`, the service's link for a reader: `docs/api.md#links-and-the-read-page`). Over HTTP it
calls `GET /v1/search`; `api_key` is sent as `Authorization: Bearer` for deployments that
put the service behind a key. `collections` and `filters` (`published_from`,
`published_to`, `source`, `metadata`) narrow the query with the names and rules of every
other door (`service.scope`), in both modes (over HTTP as the query parameters of
`/v1/search`); a filter that matches nothing gives no documents, and an unknown key
(`sources`, `collection`) is refused when the retriever is made, naming it.

In-process, `RagqaRetriever.local()` (or `library=open_library(settings)`) reads the
document store the service serves - every collection, uploads included, following writes
made meanwhile - as `ragqa mcp` does; an `engine=` is one index directory, which knows only
the collection `default`. Only `langchain-core` and `httpx` are needed for HTTP; the
in-process modes need the project itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field, SecretStr, field_validator, model_validator

from service.scope import (
    COLLECTIONS,
    NEWS_FILTER_FIELDS,
    FiltersIn,
    check_collections,
    metadata_strings,
    unknown_field,
)

MAX_K = 50
CITATION_FIELDS = ("doc_id", "title", "source", "published", "char_start", "char_end")


class RagqaError(RuntimeError):
    """The service refused the query (the message is its error message) or is unreachable."""


class RagqaRetriever(BaseRetriever):
    """Retrieve cited passages from a ragqa service (`base_url`), its document store
    (`library`, see `local`) or a loaded `engine`."""

    base_url: str | None = Field(default=None, description="e.g. http://127.0.0.1:8000")
    library: Any = Field(
        default=None, exclude=True, description="an index.store.library.Library (open_library)"
    )
    engine: Any = Field(default=None, exclude=True, description="an index.engine.Engine")
    k: int = Field(default=5, ge=1, le=MAX_K, description="passages per query")
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)
    filters: dict[str, Any] | None = Field(
        default=None,
        description="published_from, published_to, source, metadata, reporter, newspaper, "
        "paper_page, place (checked when made)",
    )
    collections: list[str] | None = Field(default=None, description="omitted: every one")

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """The filters as `/v1/ask` takes them; an unknown key (`sources`) or a bad date is
        refused now, naming it, rather than ignored at query time."""
        if value is None:
            return None
        for key in value:
            if key not in FiltersIn.model_fields:
                raise ValueError(f"filters.{key}: {unknown_field(str(key))}")
        return FiltersIn.model_validate(value).model_dump(exclude_defaults=True)

    def _filters(self) -> FiltersIn | None:
        return FiltersIn.model_validate(self.filters) if self.filters is not None else None

    @field_validator("collections")
    @classmethod
    def _collections(cls, value: list[str] | None) -> list[str] | None:
        return check_collections(value)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        for key in data if isinstance(data, dict) else ():
            if key not in cls.model_fields:  # `sources=` or `collection=` is not ignored
                raise ValueError(f"{key}: {unknown_field(str(key))}")
        return data

    @model_validator(mode="after")
    def _one_backend(self) -> RagqaRetriever:
        given = [x for x in (self.base_url, self.library, self.engine) if x is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of base_url (a running service), library (its document "
                "store: RagqaRetriever.local()) or engine (one index directory)"
            )
        if self.base_url is not None:
            self.base_url = self.base_url.rstrip("/")
        return self

    @classmethod
    def local(
        cls, *, index_dir: Path | None = None, data_dir: Path | None = None, **kwargs: Any
    ) -> RagqaRetriever:
        """A retriever on the document store the service opens for these directories (else
        `RAGQA_INDEX_DIR`, `RAGQA_DATA_DIR` and the other settings of the environment):
        every collection, uploads included. `close()` it when done."""
        from index.opening import open_library
        from index.settings import load_settings

        return cls(
            library=open_library(load_settings(index_dir=index_dir, data_dir=data_dir)), **kwargs
        )

    def close(self) -> None:
        """Close the document store this retriever opened (`local`); nothing otherwise."""
        if self.library is not None:
            self.library.close()

    # -- shared -------------------------------------------------------------------------

    def _k(self, kwargs: dict[str, Any]) -> int:
        k = kwargs.get("k", self.k)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k: must be an integer between 1 and {MAX_K}")
        return k

    def _headers(self) -> dict[str, str]:
        if self.api_key is None:
            return {}
        return {"Authorization": f"Bearer {self.api_key.get_secret_value()}"}

    def _params(self, query: str, k: int) -> list[tuple[str, str | int | float | bool | None]]:
        """The query parameters of `GET /v1/search` for this retriever's scope."""
        params: list[tuple[str, str | int | float | bool | None]] = [("q", query), ("top_k", k)]
        params += [(COLLECTIONS, name) for name in self.collections or ()]
        spec = self._filters()
        if spec is None:
            return params
        for bound in ("published_from", "published_to"):
            value = getattr(spec, bound)
            if value is not None:
                params.append((bound, value))
        params += [("source", name) for name in spec.source]
        metadata = metadata_strings(spec.metadata)
        params += [("metadata", f"{key}:{value}") for key, value in sorted(metadata.items())]
        for name in NEWS_FILTER_FIELDS:  # reporter, newspaper, paper_page, place
            params += [(name, str(value)) for value in getattr(spec, name)]
        return params

    @staticmethod
    def _documents(passages: list[dict[str, Any]]) -> list[Document]:
        return [
            Document(
                page_content=p["text"],
                metadata={
                    **{name: p[name] for name in CITATION_FIELDS},
                    "rank": p["rank"],
                    "score": p["score"],
                    **({"url": p["url"]} if p.get("url") is not None else {}),
                },
            )
            for p in passages
        ]

    @staticmethod
    def _passages(response: httpx.Response) -> list[dict[str, Any]]:
        try:
            body = response.json()
        except ValueError:
            raise RagqaError(f"HTTP {response.status_code}: not a JSON response") from None
        if response.status_code != 200:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise RagqaError(f"HTTP {response.status_code}: {error.get('message', body)}")
        return list(body["passages"])

    def _in_process(self, query: str, k: int) -> list[dict[str, Any]]:
        from service import queries
        from service.errors import ApiError

        if self.library is not None:
            self.library.refresh()  # writes by the service or `ragqa add` since the last call
            engine = self.library.engine
        else:
            engine = self.engine
        try:
            names, filters = queries.restriction(engine, self.collections, self._filters())
        except ApiError as exc:
            hint = (
                "; an engine is one index directory: for the collections of the document "
                "store use RagqaRetriever.local()"
                if self.engine is not None
                else ""
            )
            raise RagqaError(exc.message + hint) from None
        found = queries.search(engine, query.strip(), k, collections=names, filters=filters)
        fields = ("text", "rank", "score", *CITATION_FIELDS)
        return [{name: getattr(p, name) for name in fields} for p in found]

    # -- LangChain ----------------------------------------------------------------------

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = self._k(kwargs)
        if self.base_url is None:
            return self._documents(self._in_process(query, k))
        try:
            response = httpx.get(
                f"{self.base_url}/v1/search",
                params=self._params(query, k),
                headers=self._headers(),
                timeout=self.timeout,
            )
        except httpx.TransportError as exc:
            raise RagqaError(f"cannot reach {self.base_url}: {exc}") from exc
        return self._documents(self._passages(response))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = self._k(kwargs)
        if self.base_url is None:
            return self._documents(await asyncio.to_thread(self._in_process, query, k))
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(
                    f"{self.base_url}/v1/search",
                    params=self._params(query, k),
                    headers=self._headers(),
                )
        except httpx.TransportError as exc:
            raise RagqaError(f"cannot reach {self.base_url}: {exc}") from exc
        return self._documents(self._passages(response))
