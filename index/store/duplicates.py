"""Reprints at ingestion: which documents of a write are copies of stored ones (or of earlier
ones of the same write), stored as aliases of the first copy instead of being indexed again.

`Duplicates` keeps the library's `DuplicateFinder` in step with the store (rebuilt from the
stored fingerprints when the store's generation moved under it, fingerprints computed for
documents that have none, all of them recomputed when `PARAMS_KEY` changed) and sorts a
write's new documents into those to embed (with their signatures) and aliases. What makes two
texts copies is `index.dedup`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from index.dedup.finder import DuplicateFinder
from index.dedup.fingerprint import PARAMS_KEY, Fingerprint, fingerprint
from index.store import aliases
from index.store.aliases import StoredAlias
from index.store.docstore import DocStore
from index.store.writes import NewDocument

PARAMS_META = "fingerprint_params"
"""The meta key recording what the stored signatures were computed with."""


@dataclass
class Sorted:
    """A write's new documents sorted out: fingerprints of those to embed, and the aliases."""

    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)
    aliases: list[StoredAlias] = field(default_factory=list)


class Duplicates:
    """The duplicate finder of one library (use under the library's writer lock)."""

    def __init__(self, store: DocStore) -> None:
        self.store = store
        aliases.ensure_tables(store.engine)
        self.finder = DuplicateFinder()

    def current(self) -> DuplicateFinder:
        """The finder, rebuilt from the store if the store changed since it was built."""
        generation = self.store.generation()
        if self.finder.generation == generation:
            return self.finder
        finder = DuplicateFinder()
        with self.store.transaction() as conn:
            if self.store.get_meta(PARAMS_META, conn) != PARAMS_KEY:
                aliases.clear_fingerprints(conn)
                DocStore.set_meta(conn, PARAMS_META, PARAMS_KEY)
            missing = aliases.without_fingerprint(conn)
            aliases.put_fingerprints(conn, {d: fingerprint(t) for d, t in missing})
            aliases.drop_orphans(conn)
            for doc_id, collection, value in aliases.fingerprints(conn):
                finder.insert(collection, doc_id, value)
        finder.generation = generation  # the writes above change no document: same view
        self.finder = finder
        return finder

    def forget(self) -> None:
        """Rebuild before the next use (a write failed half-way through the finder)."""
        self.finder = DuplicateFinder()

    def committed(self) -> None:
        """The library's own write went through the finder (`sort_out`, `replaced`, removals)
        and is committed: the finder agrees with the store's new generation."""
        self.finder.generation = self.store.generation()

    def advanced(self, before: int) -> None:
        """The store's generation moved from `before` by a write that changed no document
        (a merge): a finder current at `before` still is."""
        if self.finder.generation == before:
            self.finder.generation = self.store.generation()

    def sort_out(
        self, conn: Connection, collection: str, todo: Sequence[tuple[NewDocument, str, str]]
    ) -> tuple[Sorted, list[tuple[str, str, float]]]:
        """For each (document, source, doc_id) of a write: embed it, or store it as an alias.

        Returns the `Sorted` rows to commit and, per document in `todo` order, ('', '', 0) to
        embed it or (first copy's doc_id, alias_id, similarity). `conn` is only read (call
        `current` first, outside any transaction). The finder takes the new documents at once,
        so a later copy in the same write finds an earlier one; the caller calls `forget` if
        the write then fails."""
        finder = self.finder
        found = Sorted()
        outcome: list[tuple[str, str, float]] = []
        for doc, source, doc_id in todo:
            known = aliases.get_alias(conn, doc_id)
            if known is not None and known.collection == collection:
                outcome.append((known.doc_id, doc_id, known.similarity))
                continue
            value = fingerprint(doc.text)
            hit = finder.first_copy(collection, value)
            if hit is None:
                finder.insert(collection, doc_id, value)
                found.fingerprints[doc_id] = value
                outcome.append(("", "", 0.0))
                continue
            first, score = hit
            found.aliases.append(_alias(doc, source, doc_id, first, collection, score))
            outcome.append((first, doc_id, round(score, 4)))
        return found, outcome

    def replaced(self, collection: str, doc_id: str, text: str) -> Fingerprint:
        """The fingerprint of a document stored as given (its finder entry updated)."""
        value = fingerprint(text)
        self.finder.insert(collection, doc_id, value)
        return value


def _alias(
    doc: NewDocument, source: str, alias_id: str, first: str, collection: str, score: float
) -> StoredAlias:
    return StoredAlias(
        alias_id=alias_id,
        doc_id=first,
        collection=collection,
        title=doc.title,
        text=doc.text,
        published=doc.published,
        url=doc.url,
        source=source,
        similarity=round(score, 4),
        added_at="",
        metadata=dict(doc.metadata),
        origin=doc.origin,
    )
