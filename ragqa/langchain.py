"""`RagqaRetriever`: a LangChain retriever over ragqa (`pip install "ragqa[langchain]"`).

Two ways to reach the passages, with the same result:

    from ragqa.langchain import RagqaRetriever

    retriever = RagqaRetriever(base_url="http://127.0.0.1:8000", k=4)   # a running service
    retriever = RagqaRetriever(engine=Engine.load(Path("var/index")))    # in-process
    docs = retriever.invoke("白银炉能耗降低了多少")        # or: await retriever.ainvoke(...)
    docs = retriever.invoke("白银炉能耗降低了多少", k=2)   # k per call

Each passage becomes `Document(page_content=passage text, metadata=...)` with the citation
in the metadata: `doc_id`, `title`, `source`, `published`, `char_start`, `char_end` (so
`document_text[char_start:char_end] == page_content`), plus `rank` and `score`. Over HTTP it
calls `GET /v1/search`; `api_key` is sent as `Authorization: Bearer` for deployments that
put the service behind a key. `filters` (`published_from`, `published_to`, `sources`,
`metadata`) and `collections` narrow the query, in both modes (over HTTP as the query
parameters of `/v1/search`); a filter that matches nothing gives no documents. Only
`langchain-core` and `httpx` are needed for HTTP; the in-process mode needs the project
itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field, SecretStr, model_validator

MAX_K = 50
CITATION_FIELDS = ("doc_id", "title", "source", "published", "char_start", "char_end")


class RagqaError(RuntimeError):
    """The service refused the query (the message is its error message) or is unreachable."""


class RagqaRetriever(BaseRetriever):
    """Retrieve cited passages from a ragqa service (`base_url`) or a loaded `engine`."""

    base_url: str | None = Field(default=None, description="e.g. http://127.0.0.1:8000")
    engine: Any = Field(default=None, exclude=True, description="an index.engine.Engine")
    k: int = Field(default=5, ge=1, le=MAX_K, description="passages per query")
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)
    filters: dict[str, Any] | None = Field(
        default=None, description="published_from, published_to, sources, metadata"
    )
    collections: list[str] | None = None

    @model_validator(mode="after")
    def _one_backend(self) -> RagqaRetriever:
        if (self.base_url is None) == (self.engine is None):
            raise ValueError("give exactly one of base_url (a running service) or engine")
        if self.base_url is not None:
            self.base_url = self.base_url.rstrip("/")
        return self

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
        spec = dict(self.filters or {})
        params: list[tuple[str, str | int | float | bool | None]] = [("q", query), ("top_k", k)]
        params += [("collections", name) for name in self.collections or ()]
        for bound in ("published_from", "published_to"):
            if spec.get(bound) is not None:
                params.append((bound, str(spec[bound])))
        params += [("source", str(name)) for name in spec.get("sources") or ()]
        metadata = spec.get("metadata") or {}
        params += [("metadata", f"{key}:{value}") for key, value in sorted(metadata.items())]
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
        from index.types import Filters
        from service import queries

        spec = dict(self.filters or {})
        filters = Filters(
            published_from=spec.get("published_from"),
            published_to=spec.get("published_to"),
            sources=tuple(spec.get("sources") or ()),
            metadata=tuple(sorted((spec.get("metadata") or {}).items())),
        )
        found = queries.search(
            self.engine, query.strip(), k, collections=self.collections, filters=filters
        )
        fields = ("text", "rank", "score", *CITATION_FIELDS)
        return [{name: getattr(p, name) for name in fields} for p in found]

    # -- LangChain ----------------------------------------------------------------------

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = self._k(kwargs)
        if self.engine is not None:
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
        if self.engine is not None:
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
