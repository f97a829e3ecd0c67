"""The index backend: where the vectors and the BM25 index of a view live.

The ranking pipeline reads an index only through `IndexView` (`index.search.view`); a backend turns
the arrays of a view (`IndexData`, and the catalog of collections and tombstones) into the
view the engine serves, and keeps whatever it needs in step with them:

- ``faiss`` (the default): the FAISS + bm25s arrays in the index directory and segments,
  searched in this process; nothing to keep in step.
- ``milvus``: passages, sentences and the BM25 text in Milvus (`index.search.milvus`), chosen with
  ``RAGQA_BACKEND=milvus`` and ``RAGQA_MILVUS_URI``; `view` writes what Milvus lacks and
  deletes what the view no longer holds before the view is served.

The store of document texts stays where it is (`index.store.docstore`) for both.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

from index.errors import BackendConfigError, BackendUnavailableError
from index.search.filters import Catalog
from index.search.view import IndexView
from index.store.files import IndexData

if TYPE_CHECKING:
    from index.rank.fitted import Fitted
    from index.search.milvus import MilvusIndex, MilvusSettings

logger = logging.getLogger(__name__)

BACKENDS = ("faiss", "milvus")
SYNC_ATTEMPTS = 3
"""Attempts of a Milvus sync before the write reports the backend unavailable."""


class Backend(Protocol):
    """Makes the views the engine serves, and checks they agree with the store."""

    name: str
    last_sync: str | None
    """What the last `view` changed in the backend (None: nothing)."""

    def view(self, data: IndexData, catalog: Catalog, sync: bool = True) -> IndexView:
        """The view of `data` to serve; with `sync`, the backend holds its live rows when this
        returns (without: a replica that is not the writer serves what the writer synced)."""
        ...

    def check(self, view: IndexView) -> str | None:
        """None when the backend agrees with `view`, else what differs (nothing changed)."""
        ...

    def ping(self) -> None:
        """Raise BackendUnavailableError unless the backend answers now."""
        ...

    def close(self) -> None: ...


class FaissBackend:
    """Today's index: FAISS and bm25s over the view's own arrays, in this process."""

    name = "faiss"
    last_sync: str | None = None

    def view(self, data: IndexData, catalog: Catalog, sync: bool = True) -> IndexView:
        return IndexView(data)

    def check(self, view: IndexView) -> str | None:
        return None

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


class MilvusBackend:
    """Passages, sentences and BM25 in Milvus (`index.search.milvus`)."""

    name = "milvus"

    def __init__(self, index: MilvusIndex, lexical_limit: int) -> None:
        self.index = index
        self.lexical_limit = lexical_limit
        self.last_sync: str | None = None
        self._first = True

    def view(self, data: IndexData, catalog: Catalog, sync: bool = True) -> IndexView:
        """A Milvus view of `data`, after Milvus was made to hold exactly its live rows
        (retried `SYNC_ATTEMPTS` times: the sync is idempotent). The first view of a process
        is its start-up check: a disagreement found then is logged, with what was repaired.
        Without `sync`, Milvus is left as it is: a replica that is not the writer must not
        sync a view the writer may already have moved past (`index.store.library`)."""
        from index.search.milvus import MilvusView

        view = MilvusView(data, self.index, catalog, lexical_limit=self.lexical_limit)
        if not sync:
            self.last_sync = None
            return view
        self.last_sync = self._sync(view)
        if self._first and self.last_sync is not None:
            logger.warning(
                "start-up check: Milvus at %s disagreed with the document store (%s); repaired",
                self.index.settings.uri,
                self.last_sync,
            )
        self._first = False
        return view

    def _sync(self, view: IndexView) -> str | None:
        from index.search.milvus import MilvusView

        assert isinstance(view, MilvusView)
        for attempt in range(SYNC_ATTEMPTS):
            try:
                report = self.index.sync(view)
                return None if report.agreed else report.describe()
            except BackendUnavailableError:
                if attempt == SYNC_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * 2**attempt)
        return None  # pragma: no cover - the loop returns or raises

    def check(self, view: IndexView) -> str | None:
        from index.search.milvus import MilvusView

        assert isinstance(view, MilvusView)
        report = self.index.check(view)
        return None if report.agreed else report.describe()

    def ping(self) -> None:
        self.index.ping()

    def close(self) -> None:
        self.index.close()


def open_backend(
    name: str, dim: int, milvus: MilvusSettings | None = None, fitted: Fitted | None = None
) -> Backend:
    """The backend called `name` (faiss or milvus), connected and checked. Milvus proposes
    as many BM25 candidates as the fitted ranking reads (`fitted`, else the shipped one).

    Raises BackendConfigError for bad settings (each message names its RAGQA_ variable),
    BackendUnavailableError when Milvus cannot be reached, IndexMismatchError for a
    collection made with another dimension."""
    if name == "faiss":
        return FaissBackend()
    if name != "milvus":
        raise BackendConfigError(
            f"RAGQA_BACKEND={name!r} is not a backend: use one of {', '.join(BACKENDS)}"
        )
    from index.rank.fitted import shipped
    from index.search.milvus import MilvusIndex, check_uri

    if milvus is None or not milvus.uri:
        check_uri("")
    assert milvus is not None
    depth = (fitted if fitted is not None else shipped()).ranking.depth
    return MilvusBackend(MilvusIndex(milvus, dim), lexical_limit=depth)
