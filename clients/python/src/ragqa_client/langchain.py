"""`RagqaRetriever`: a LangChain retriever over a ragqa service, on top of `Client`.

    pip install "./clients/python[langchain]"      # httpx, pydantic, langchain-core

    from ragqa_client.langchain import RagqaRetriever

    retriever = RagqaRetriever(base_url="http://127.0.0.1:8000", k=4)
    docs = retriever.invoke("白银炉能耗降低了多少")       # or: await retriever.ainvoke(...)
    docs = retriever.invoke("白银炉能耗降低了多少", k=2)  # k per call

Each passage of `GET /v1/search` becomes `Document(page_content=passage text, metadata=...)`
with the same metadata names as the in-repo `ragqa.langchain.RagqaRetriever`, so switching is
a change of import: `doc_id`, `title`, `source`, `published`, `char_start`, `char_end` (the
document's `text[char_start:char_end] == page_content`), `rank`, `score`, and `url` when the
service gives the passage one. `collections` and `filters` are passed to the service as
`ragqa_client.Client.search` passes them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr

from ragqa_client.async_client import AsyncClient
from ragqa_client.client import Client
from ragqa_client.models import Passage

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        'ragqa_client.langchain needs langchain-core: pip install "ragqa-client[langchain]"'
    ) from exc

MAX_K = 50
CITATION_FIELDS = ("doc_id", "title", "source", "published", "char_start", "char_end")


class RagqaRetriever(BaseRetriever):
    """Retrieve cited passages from a ragqa service over HTTP."""

    base_url: str = Field(description="e.g. http://127.0.0.1:8000")
    k: int = Field(default=5, ge=1, le=MAX_K, description="passages per query")
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)
    collections: list[str] | None = Field(default=None, description="default: every one")
    filters: dict[str, Any] | None = Field(
        default=None, description="as `filters` of POST /v1/ask (published_from, ...)"
    )

    def _k(self, kwargs: dict[str, Any]) -> int:
        k = kwargs.get("k", self.k)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k: must be an integer between 1 and {MAX_K}")
        return k

    def _settings(self) -> dict[str, Any]:
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        return {"api_key": key, "timeout": self.timeout}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = self._k(kwargs)
        with Client(self.base_url, **self._settings()) as client:
            found = client.search(
                query, top_k=k, collections=self.collections, filters=self.filters
            )
        return [as_document(p) for p in found.passages]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = self._k(kwargs)
        async with AsyncClient(self.base_url, **self._settings()) as client:
            found = await client.search(
                query, top_k=k, collections=self.collections, filters=self.filters
            )
        return [as_document(p) for p in found.passages]


def as_document(passage: Passage) -> Document:
    """A passage as a LangChain `Document`: its text, and its citation as metadata."""
    metadata: dict[str, Any] = {name: getattr(passage, name) for name in CITATION_FIELDS}
    metadata.update(rank=passage.rank, score=passage.score)
    if passage.url is not None:
        metadata["url"] = passage.url
    return Document(page_content=passage.text, metadata=metadata)
