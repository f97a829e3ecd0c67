"""What one index holds and what a query may see of it: its documents, collections and
metadata, and the scoping of a query (collections and filters) into the `Allowed` rows the
pipeline's candidate stage applies.

An engine holds one (`engine.contents`), over the same rows as its pipeline. A scope with
several alternative filters (Dify's `logical_operator: or`) is one restriction, their union,
so one ranking covers them all and their scores compare; `source is A or source is B` ranks
exactly as `source in [A, B]`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from corpus.documents import Document
from corpus.newsmeta import NewsMeta
from index.errors import CollectionNotFoundError, DocumentNotFoundError
from index.search.filters import Catalog, allowed_documents
from index.store.files import IndexData
from index.types import Alias, Allowed, DocumentSummary, Filters, cite

Alternatives = Filters | Sequence[Filters] | None
"""One filter, several alternatives (any of them), or None (no filter). An empty sequence
is a scope that matches nothing."""


class Contents:
    """The live documents of an index, by collection, and the scope of a query over them."""

    def __init__(self, data: IndexData, catalog: Catalog) -> None:
        self.data = data
        self.catalog = catalog
        """Collection, metadata and alive flag per document row (tombstones are not alive)."""
        alive = catalog.alive
        self._doc_rows = {d.doc_id: i for i, d in enumerate(data.documents) if alive[i]}
        self._doc_passages = np.bincount(data.chunks[:, 0], minlength=len(data.documents)).tolist()

    # -- scoping ---------------------------------------------------------------------------

    def allowed(
        self,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
        also: Allowed | None = None,
    ) -> Allowed | None:
        """The documents a query with these collections and filters may see (None: all).
        Tombstones of replaced or deleted documents are never allowed; `also` narrows it."""
        mask = allowed_documents(self.catalog, self.data.documents, collections, filters)
        if also is not None:
            mask = also.documents if mask is None else mask & also.documents
        if mask is None:
            return None
        if also is None:
            named = tuple(collections) if collections is not None else None
            return Allowed(mask, (named, filters))
        if collections is None and filters is None:
            return Allowed(mask, also.where)
        return Allowed(mask)

    def check_collections(self, collections: Sequence[str] | None) -> list[str] | None:
        """`collections` as a list (None: every collection); CollectionNotFoundError (404) names
        the first one that does not exist."""
        if collections is None:
            return None
        names = self.catalog.names
        for name in collections:
            if name not in names:
                raise CollectionNotFoundError(name)
        return list(collections)

    def scope(
        self, collections: Sequence[str] | None = None, filters: Alternatives = None
    ) -> Allowed | None:
        """The documents a query over `collections` passing any of `filters` may see (None: all);
        CollectionNotFoundError for a collection that does not exist."""
        collections = self.check_collections(collections)
        alternatives = [filters] if filters is None or isinstance(filters, Filters) else filters
        if len(alternatives) == 1:  # as the engine made it (a backend may filter by expression)
            return self.allowed(collections, alternatives[0])
        union: np.ndarray | None = None
        for alternative in alternatives:
            allowed = self.allowed(collections, alternative)
            if allowed is None:
                return None
            union = allowed.documents if union is None else union | allowed.documents
        if union is None:  # no alternative: nothing can match
            return Allowed(np.zeros(len(self.data.documents), dtype=np.bool_))
        return Allowed(np.asarray(union, dtype=np.bool_))

    def matching(
        self, collection: str, test: Callable[[Document, Mapping[str, str]], bool]
    ) -> np.ndarray:
        """The mask of the live documents of `collection` that pass `test` (the document and
        its metadata): a scope `Filters` cannot say, such as Dify's negations. Every document
        is tested, so it costs the collection's size, not the index's search."""
        self.check_collections([collection])
        catalog = self.catalog
        return np.fromiter(
            (
                alive and c == collection and test(d, m)
                for d, c, m, alive in zip(
                    self.data.documents,
                    catalog.collections,
                    catalog.metadata,
                    catalog.alive.tolist(),
                    strict=True,
                )
            ),
            dtype=np.bool_,
            count=len(self.data.documents),
        )

    # -- documents -------------------------------------------------------------------------

    def documents(self, collection: str | None = None) -> list[DocumentSummary]:
        """Every live document (of `collection`, if given), in index order."""
        catalog = self.catalog
        return [
            DocumentSummary(cite(d, 0, len(d.text), NewsMeta.from_metadata(m or d.metadata)), n, c)
            for d, n, c, m, alive in zip(
                self.data.documents,
                self._doc_passages,
                catalog.collections,
                catalog.metadata,
                catalog.alive.tolist(),
                strict=True,
            )
            if alive and (collection is None or c == collection)
        ]

    def collections(self) -> list[str]:
        """Every collection of the view (some may be empty), by name."""
        return sorted(self.catalog.names)

    def collection_of(self, doc_id: str) -> str:
        """The collection of a live document; raises DocumentNotFoundError."""
        self.document(doc_id)
        return self.catalog.collections[self._doc_rows[doc_id]]

    def metadata_of(self, doc_id: str) -> Mapping[str, str]:
        """The metadata of a live document; raises DocumentNotFoundError."""
        self.document(doc_id)
        return self.catalog.metadata[self._doc_rows[doc_id]]

    def news_of(self, document: Document) -> NewsMeta:
        """The news fields of a document of this index (a store keeps them in its rows' metadata,
        a plain index directory with its documents)."""
        row = self._doc_rows.get(document.doc_id)
        metadata = self.catalog.metadata[row] if row is not None else {}
        return NewsMeta.from_metadata(metadata or document.metadata)

    def aliases_of(self, doc_id: str) -> tuple[Alias, ...]:
        """The reprints stored as aliases of a document, oldest first (none: empty)."""
        return self.catalog.aliases.get(doc_id, ())

    def document(self, doc_id: str) -> Document:
        """One document with its text; raises DocumentNotFoundError."""
        row = self._doc_rows.get(doc_id)
        if row is None:
            raise DocumentNotFoundError(doc_id, alias_of=self.alias_target(doc_id))
        return self.data.documents[row]

    def alias_target(self, alias_id: str) -> str | None:
        """The document `alias_id` is stored as an alias of (None: it is no alias)."""
        for doc_id, aliases in self.catalog.aliases.items():
            if any(alias.alias_id == alias_id for alias in aliases):
                return doc_id
        return None

    def n_passages_of(self, doc_id: str) -> int:
        """Number of passages of one document."""
        return self._doc_passages[self._doc_rows[doc_id]] if doc_id in self._doc_rows else 0
