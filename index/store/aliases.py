"""The duplicates' side of the document store: each document's MinHash signature, and the
reprints stored as aliases of a document instead of as documents of their own.

Two tables next to `documents` (created when the library opens, on SQLite and PostgreSQL
alike):

* ``fingerprints``: one signature per document (`index.dedup.fingerprint`), deleted with its
  document (``ON DELETE CASCADE``). The duplicate finder's LSH is rebuilt from them when the
  library opens or another process has written, so it always agrees with the store; a document
  without one (the bundled corpus, a store written before duplicates were detected) gets it
  computed from its stored text then.
* ``aliases``: a reprint, with its own id (the one it would have had as a document), source,
  URL, title, date and time added, and its text and metadata (kept so that it can take the
  document's place when the first copy is deleted: `Library.delete`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from index.dedup.fingerprint import Fingerprint
from index.store.docstore import _key, documents_table, metadata_obj
from index.store.records import MAX_COLLECTION_CHARS, MAX_DOC_ID_CHARS
from index.types import Alias

fingerprints_table = sa.Table(
    "fingerprints",
    metadata_obj,
    sa.Column(
        "doc_id",
        _key(MAX_DOC_ID_CHARS),
        sa.ForeignKey("documents.doc_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("figures", sa.Text, nullable=False),
)
aliases_table = sa.Table(
    "aliases",
    metadata_obj,
    sa.Column("alias_id", _key(MAX_DOC_ID_CHARS), primary_key=True),
    sa.Column("doc_id", _key(MAX_DOC_ID_CHARS), nullable=False, index=True),
    sa.Column("collection", _key(MAX_COLLECTION_CHARS), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("published", sa.String(10)),
    sa.Column("url", sa.Text),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("similarity", sa.Float, nullable=False),
    sa.Column("added_at", _key(32), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)


@dataclass(frozen=True)
class StoredAlias:
    """One row of ``aliases``."""

    alias_id: str
    doc_id: str
    """The document it is a copy of (the first copy stored)."""
    collection: str
    title: str
    text: str
    published: str | None
    url: str | None
    source: str
    similarity: float
    """The estimated Jaccard similarity to the document when it was added (0..1)."""
    added_at: str
    metadata: dict[str, str] = field(default_factory=dict)
    origin: str = "api"
    position: int = 0
    """Its place among the aliases added by one write (which share `added_at`)."""

    def public(self) -> Alias:
        return Alias(
            self.alias_id, self.source, self.url, self.title, self.published, self.added_at
        )


def ensure_tables(engine: Engine) -> None:
    """Create the two tables where they are missing (a store from before they existed)."""
    metadata_obj.create_all(engine, tables=[fingerprints_table, aliases_table])


def _row(row: Any) -> StoredAlias:
    return StoredAlias(
        alias_id=row.alias_id,
        doc_id=row.doc_id,
        collection=row.collection,
        title=row.title,
        text=row.text,
        published=row.published,
        url=row.url,
        source=row.source,
        similarity=float(row.similarity),
        added_at=row.added_at,
        metadata=json.loads(row.metadata or "{}"),
        origin=row.origin,
        position=int(row.position),
    )


_ORDER = (aliases_table.c.added_at, aliases_table.c.position, aliases_table.c.alias_id)
"""Aliases oldest first, those of one write in input order (the first is the one promoted)."""


def put_alias(conn: Connection, alias: StoredAlias) -> None:
    conn.execute(sa.delete(aliases_table).where(aliases_table.c.alias_id == alias.alias_id))
    values = {**alias.__dict__, "metadata": json.dumps(alias.metadata, ensure_ascii=False)}
    conn.execute(sa.insert(aliases_table).values(**values))


def get_alias(conn: Connection, alias_id: str) -> StoredAlias | None:
    """The alias `alias_id` of a stored document (None: none, or its document is gone)."""
    query = (
        sa.select(aliases_table)
        .join(documents_table, documents_table.c.doc_id == aliases_table.c.doc_id)
        .where(aliases_table.c.alias_id == alias_id)
    )
    row = conn.execute(query).first()
    return _row(row) if row is not None else None


def aliases_of(conn: Connection, doc_id: str) -> list[StoredAlias]:
    query = sa.select(aliases_table).where(aliases_table.c.doc_id == doc_id).order_by(*_ORDER)
    return [_row(r) for r in conn.execute(query)]


def all_aliases(conn: Connection) -> dict[str, tuple[Alias, ...]]:
    """Every alias of a stored document, by document id, oldest first."""
    query = (
        sa.select(aliases_table)
        .join(documents_table, documents_table.c.doc_id == aliases_table.c.doc_id)
        .order_by(*_ORDER)
    )
    found: dict[str, list[Alias]] = {}
    for row in conn.execute(query):
        found.setdefault(row.doc_id, []).append(_row(row).public())
    return {doc_id: tuple(aliases) for doc_id, aliases in found.items()}


def delete_alias(conn: Connection, alias_id: str) -> None:
    conn.execute(sa.delete(aliases_table).where(aliases_table.c.alias_id == alias_id))


def repoint(conn: Connection, old: str, new: str) -> None:
    """Make the aliases of document `old` aliases of `new`."""
    conn.execute(sa.update(aliases_table).where(aliases_table.c.doc_id == old).values(doc_id=new))


def drop_collection_aliases(conn: Connection, collection: str) -> None:
    conn.execute(sa.delete(aliases_table).where(aliases_table.c.collection == collection))


def drop_orphans(conn: Connection) -> int:
    """Delete aliases whose document is gone (its collection's corpus was re-imported)."""
    stored = sa.select(documents_table.c.doc_id)
    result = conn.execute(sa.delete(aliases_table).where(aliases_table.c.doc_id.not_in(stored)))
    return int(result.rowcount or 0)


def put_fingerprints(conn: Connection, found: Mapping[str, Fingerprint]) -> None:
    """Store (or replace) the fingerprint of each document."""
    for doc_id, value in found.items():
        conn.execute(sa.delete(fingerprints_table).where(fingerprints_table.c.doc_id == doc_id))
        conn.execute(
            sa.insert(fingerprints_table).values(
                doc_id=doc_id, signature=value.signature, figures=value.figures_text
            )
        )


def clear_fingerprints(conn: Connection) -> None:
    conn.execute(sa.delete(fingerprints_table))


def fingerprints(conn: Connection) -> list[tuple[str, str, Fingerprint]]:
    """(doc_id, collection, fingerprint) of every stored document that has one."""
    query = sa.select(
        documents_table.c.doc_id,
        documents_table.c.collection,
        fingerprints_table.c.signature,
        fingerprints_table.c.figures,
    ).join(fingerprints_table, fingerprints_table.c.doc_id == documents_table.c.doc_id)
    return [(r[0], r[1], Fingerprint.stored(r[2], r[3])) for r in conn.execute(query)]


def without_fingerprint(conn: Connection) -> Iterable[tuple[str, str]]:
    """(doc_id, text) of every stored document that has no signature yet."""
    has = sa.select(fingerprints_table.c.doc_id)
    query = sa.select(documents_table.c.doc_id, documents_table.c.text).where(
        documents_table.c.doc_id.not_in(has)
    )
    return [(r[0], r[1]) for r in conn.execute(query)]
