"""The document store: collections, documents and the segment each lives in, in SQL.

SQLite in WAL mode by default (one file, no server); any SQLAlchemy URL works, so
``postgresql+psycopg://user:pass@host/db`` serves larger deployments (README: "Document
store"). The store is the source of truth: the index is derived from it. Each document row
points at the immutable index segment (and the row inside it) holding its passages and
vectors; a segment row no document points at is a tombstone, skipped at query time and
dropped by the next merge.

Every change is one transaction (`commit`), which is also the commit point of the index: a
batch's segment is written and fsynced before the transaction that makes it live, so a kill
at any moment leaves either the whole batch or none of it.

Both backends behave alike, and the tests hold them to it (tests/index/test_docstore.py and the
documents API suite run on SQLite and on a real PostgreSQL server):

* keys (ids, collection and segment names, timestamps) sort by code point on both: their
  columns have the binary collation "C" on PostgreSQL, as SQLite's BINARY, so no listing
  changes order with the database's locale;
* a column's width is the same limit on both (SQLite does not enforce widths, PostgreSQL does:
  what would not fit is refused before it reaches SQL, by `index.store.writes`);
* PostgreSQL text cannot hold U+0000 (NUL), so neither store takes it: a document's text
  fields are checked (`InvalidDocumentError`, a 422 naming the field), and a lookup by a key
  holding NUL finds nothing (no stored key holds one) instead of failing in the driver;
* a database that fails under a statement (a server down or restarting, a connection cut,
  SQLite locked past its busy timeout) is `StoreUnavailableError`, a 503 to retry, with the
  transaction rolled back; a URL that names no usable database is `StoreConfigError`.

Here: the SQL tables, the mapping of a row to a `StoredDocument`, and `DocStore`. The rows as
values and the collection-name rule are `index.store.records`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from index.errors import (
    CollectionNotFoundError,
    InvalidDocumentError,
    StoreConfigError,
    StoreUnavailableError,
)
from index.store.records import (
    MAX_COLLECTION_CHARS,
    MAX_DOC_ID_CHARS,
    CollectionInfo,
    LiveRow,
    SegmentInfo,
    StoredDocument,
    now,
)

metadata_obj = sa.MetaData()


def _key(length: int) -> sa.types.TypeEngine[str]:
    """A key column: VARCHAR(length), binary collation on PostgreSQL (code-point order, as
    SQLite's default) whatever the database's locale."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


NUL = "\x00"
TEXT_FIELDS = ("title", "text", "published", "url", "source")
"""The document fields stored as SQL text (metadata and passages are stored as JSON, where a
NUL is escaped)."""

meta_table = sa.Table(
    "meta",
    metadata_obj,
    sa.Column("key", _key(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
collections_table = sa.Table(
    "collections",
    metadata_obj,
    sa.Column("name", _key(MAX_COLLECTION_CHARS), primary_key=True),
    sa.Column("created_at", _key(32), nullable=False),
)
segments_table = sa.Table(
    "segments",
    metadata_obj,
    sa.Column("name", _key(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("n_documents", sa.Integer, nullable=False),
    sa.Column("n_chunks", sa.Integer, nullable=False),
    sa.Column("created_at", _key(32), nullable=False),
)
SEGMENT_PART_BYTES = 32 * 1024 * 1024
"""A segment file is stored in parts of at most this many bytes (PostgreSQL's bytea holds
up to 1 GB a value, and a merged segment's vectors can be larger)."""
segment_files_table = sa.Table(
    "segment_files",
    metadata_obj,
    sa.Column("segment", _key(64), sa.ForeignKey("segments.name"), primary_key=True),
    sa.Column("file", _key(64), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
"""The files of each segment, on a store shared by replicas (a server database): written in
the transaction that commits the segment, so a replica needs no shared directory
(`index.store.library`). Empty on SQLite, whose segments are the files in the data
directory."""
documents_table = sa.Table(
    "documents",
    metadata_obj,
    sa.Column("doc_id", _key(MAX_DOC_ID_CHARS), primary_key=True),
    sa.Column(
        "collection",
        _key(MAX_COLLECTION_CHARS),
        sa.ForeignKey("collections.name"),
        nullable=False,
        index=True,
    ),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("published", sa.String(10)),
    sa.Column("url", sa.Text),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("metadata", sa.Text, nullable=False, default="{}"),
    sa.Column("passages", sa.Text),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("segment", _key(64), sa.ForeignKey("segments.name"), nullable=False),
    sa.Column("segment_row", sa.Integer, nullable=False),
    sa.Column("added_at", _key(32), nullable=False),
    sa.Column("updated_at", _key(32), nullable=False),
)

jobs_table = sa.Table(
    "jobs",
    metadata_obj,
    sa.Column("job_id", _key(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("collection", _key(MAX_COLLECTION_CHARS), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("created_at", _key(32), nullable=False),
    sa.Column("started_at", _key(32)),
    sa.Column("finished_at", _key(32)),
    sa.Column("report", sa.Text),
    sa.Column("error", sa.Text),
)
"""Ingestion jobs (`index.store.jobs`): kept in the store so they outlive a restart."""

# Web sources (`index.store.sources`): a feed, sitemap or page a collection is fed from, the
# items each has seen (so a poll adds only new ones) and what each poll did.
sources_table = sa.Table(
    "sources",
    metadata_obj,
    sa.Column("source_id", _key(64), primary_key=True),
    sa.Column(
        "collection",
        _key(MAX_COLLECTION_CHARS),
        sa.ForeignKey("collections.name"),
        nullable=False,
        index=True,
    ),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("interval_s", sa.Integer),
    sa.Column("title", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("created_at", _key(32), nullable=False),
    sa.Column("last_poll_at", _key(32)),
    sa.Column("next_poll_at", _key(32), index=True),
    sa.Column("last_error", sa.Text),
)
source_items_table = sa.Table(
    "source_items",
    metadata_obj,
    sa.Column("source_id", _key(64), sa.ForeignKey("sources.source_id"), primary_key=True),
    sa.Column("item_key", _key(64), primary_key=True),
    sa.Column("url", sa.Text),
    sa.Column("doc_id", _key(MAX_DOC_ID_CHARS)),
    sa.Column("reason", sa.Text),
    sa.Column("seen_at", _key(32), nullable=False),
)
source_polls_table = sa.Table(
    "source_polls",
    metadata_obj,
    sa.Column("poll_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "source_id", _key(64), sa.ForeignKey("sources.source_id"), nullable=False, index=True
    ),
    sa.Column("started_at", _key(32), nullable=False),
    sa.Column("finished_at", _key(32), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("added", sa.Text, nullable=False),
    sa.Column("skipped", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
)


def _row_to_document(row: Any) -> StoredDocument:
    spans = json.loads(row.passages) if row.passages else None
    return StoredDocument(
        doc_id=row.doc_id,
        collection=row.collection,
        title=row.title,
        text=row.text,
        published=row.published,
        url=row.url,
        source=row.source,
        sha256=row.sha256,
        metadata=json.loads(row.metadata or "{}"),
        passages=tuple((int(a), int(b)) for a, b in spans) if spans is not None else None,
        origin=row.origin,
        segment=row.segment,
        segment_row=row.segment_row,
        added_at=row.added_at,
        updated_at=row.updated_at,
    )


def _document_values(doc: StoredDocument) -> dict[str, Any]:
    for name in TEXT_FIELDS:
        value = getattr(doc, name)
        if value is not None and NUL in value:
            raise InvalidDocumentError(f"{doc.doc_id}.{name}", nul_message(value))
    return {
        "doc_id": doc.doc_id,
        "collection": doc.collection,
        "title": doc.title,
        "text": doc.text,
        "published": doc.published,
        "url": doc.url,
        "source": doc.source,
        "sha256": doc.sha256,
        "metadata": json.dumps(doc.metadata, ensure_ascii=False, sort_keys=True),
        "passages": json.dumps(doc.passages) if doc.passages is not None else None,
        "origin": doc.origin,
        "segment": doc.segment,
        "segment_row": doc.segment_row,
        "added_at": doc.added_at,
        "updated_at": doc.updated_at,
    }


def nul_message(value: str) -> str:
    """Why a text holding U+0000 is refused (the words of `index.store.writes` too)."""
    return (
        f"must not contain U+0000 (NUL), found at character {value.index(NUL)}: the document "
        "store cannot hold it (PostgreSQL text refuses it)"
    )


def _storable(key: str) -> bool:
    """False for a key no row can have (one holding NUL): it is looked up as not found."""
    return NUL not in key


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class DocStore:
    """Collections, documents and segments in one SQL database (SQLAlchemy Core)."""

    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = sa.engine.make_url(url).get_backend_name() == "sqlite"
        # A server's connections can be closed under the pool (a restart, an idle timeout):
        # each is checked before use rather than failing the request that draws it.
        try:
            self.engine: Engine = sa.create_engine(url, future=True, pool_pre_ping=not sqlite)
        except ModuleNotFoundError as exc:
            raise StoreConfigError(
                f"its database driver {exc.name!r} is not installed (for PostgreSQL: "
                "pip install -e '.[postgresql]', which scripts/setup runs)"
            ) from exc
        except sa.exc.ArgumentError as exc:
            raise StoreConfigError(f"not a database SQLAlchemy can open: {exc}") from exc
        if sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        with _reachable():
            metadata_obj.create_all(self.engine)

    @property
    def shared(self) -> bool:
        """True for PostgreSQL, the server database several replicas share: the segments'
        files live in it and writers lock in it (an advisory lock). False for SQLite (a file
        in the data directory, beside the segments and the writer's lock file) and any other
        database, which keep segments and lock in the data directory."""
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; committed when the block ends, rolled back on any error."""
        with _reachable(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection for reading (no transaction of its own to commit)."""
        with _reachable(), self.engine.connect() as conn:
            yield conn

    # -- meta --------------------------------------------------------------------------------

    def get_meta(self, key: str, conn: Connection | None = None) -> str | None:
        query = sa.select(meta_table.c.value).where(meta_table.c.key == key)
        if conn is not None:
            return conn.execute(query).scalar_one_or_none()
        with self._connect() as own:
            return own.execute(query).scalar_one_or_none()

    @staticmethod
    def set_meta(conn: Connection, key: str, value: str) -> None:
        updated = conn.execute(
            sa.update(meta_table).where(meta_table.c.key == key).values(value=value)
        )
        if updated.rowcount == 0:
            conn.execute(sa.insert(meta_table).values(key=key, value=value))

    def generation(self) -> int:
        """Bumped by every commit; a reader whose view is older reloads it."""
        return int(self.get_meta("generation") or 0)

    @classmethod
    def bump(cls, conn: Connection) -> None:
        current = conn.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "generation")
        ).scalar_one_or_none()
        cls.set_meta(conn, "generation", str(int(current or 0) + 1))

    # -- collections ------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        counts = (
            sa.select(documents_table.c.collection, sa.func.count().label("n"))
            .group_by(documents_table.c.collection)
            .subquery()
        )
        query = (
            sa.select(
                collections_table.c.name,
                collections_table.c.created_at,
                sa.func.coalesce(counts.c.n, 0),
            )
            .select_from(
                collections_table.outerjoin(counts, counts.c.collection == collections_table.c.name)
            )
            .order_by(collections_table.c.name)
        )
        with self._connect() as conn:
            return [CollectionInfo(r[0], int(r[2]), r[1]) for r in conn.execute(query)]

    def collection(self, name: str) -> CollectionInfo:
        for info in self.collections():
            if info.name == name:
                return info
        raise CollectionNotFoundError(name)

    def collection_names(self) -> set[str]:
        with self._connect() as conn:
            return set(conn.execute(sa.select(collections_table.c.name)).scalars())

    @staticmethod
    def ensure_collection(conn: Connection, name: str) -> bool:
        """Create `name` unless it exists; True when it was created."""
        exists = conn.execute(
            sa.select(collections_table.c.name).where(collections_table.c.name == name)
        ).first()
        if exists:
            return False
        conn.execute(sa.insert(collections_table).values(name=name, created_at=now()))
        return True

    @staticmethod
    def require_collection(conn: Connection, name: str) -> None:
        if not _storable(name):
            raise CollectionNotFoundError(name)
        exists = conn.execute(
            sa.select(collections_table.c.name).where(collections_table.c.name == name)
        ).first()
        if not exists:
            raise CollectionNotFoundError(name)

    @staticmethod
    def drop_collection(conn: Connection, name: str) -> int:
        """Delete a collection, its documents and its web sources; returns how many documents
        went."""
        if not _storable(name):
            return 0
        deleted = conn.execute(
            sa.delete(documents_table).where(documents_table.c.collection == name)
        ).rowcount
        fed = sa.select(sources_table.c.source_id).where(sources_table.c.collection == name)
        for table in (source_items_table, source_polls_table):
            conn.execute(sa.delete(table).where(table.c.source_id.in_(fed)))
        conn.execute(sa.delete(sources_table).where(sources_table.c.collection == name))
        conn.execute(sa.delete(collections_table).where(collections_table.c.name == name))
        return int(deleted or 0)

    # -- documents --------------------------------------------------------------------------

    def get(self, doc_id: str) -> StoredDocument | None:
        with self._connect() as conn:
            return self.get_in(conn, doc_id)

    @staticmethod
    def get_in(conn: Connection, doc_id: str) -> StoredDocument | None:
        if not _storable(doc_id):
            return None
        row = conn.execute(
            sa.select(documents_table).where(documents_table.c.doc_id == doc_id)
        ).first()
        return _row_to_document(row) if row is not None else None

    @staticmethod
    def get_many(conn: Connection, doc_ids: Sequence[str]) -> dict[str, StoredDocument]:
        found: dict[str, StoredDocument] = {}
        ids = [i for i in doc_ids if _storable(i)]
        for start in range(0, len(ids), 500):
            query = sa.select(documents_table).where(
                documents_table.c.doc_id.in_(ids[start : start + 500])
            )
            for row in conn.execute(query):
                found[row.doc_id] = _row_to_document(row)
        return found

    def documents(self, collection: str | None = None) -> list[StoredDocument]:
        query = sa.select(documents_table).order_by(
            documents_table.c.added_at, documents_table.c.doc_id
        )
        if collection is not None:
            if not _storable(collection):
                return []
            query = query.where(documents_table.c.collection == collection)
        with self._connect() as conn:
            return [_row_to_document(r) for r in conn.execute(query)]

    def stamps(self, collection: str) -> dict[str, tuple[str, str]]:
        """`(added_at, updated_at)` of each document of `collection`, by doc_id, without
        reading the texts (Dify's `upload_date` and `last_update_date`)."""
        if not _storable(collection):
            return {}
        table = documents_table.c
        query = sa.select(table.doc_id, table.added_at, table.updated_at).where(
            table.collection == collection
        )
        with self._connect() as conn:
            return {r.doc_id: (r.added_at, r.updated_at) for r in conn.execute(query)}

    @staticmethod
    def put(conn: Connection, docs: Iterable[StoredDocument]) -> None:
        """Insert or replace each document (by id)."""
        for doc in docs:
            conn.execute(sa.delete(documents_table).where(documents_table.c.doc_id == doc.doc_id))
            conn.execute(sa.insert(documents_table).values(**_document_values(doc)))

    @staticmethod
    def delete(conn: Connection, doc_ids: Iterable[str]) -> int:
        ids = [i for i in doc_ids if _storable(i)]
        if not ids:
            return 0
        result = conn.execute(sa.delete(documents_table).where(documents_table.c.doc_id.in_(ids)))
        return int(result.rowcount or 0)

    @staticmethod
    def move(conn: Connection, doc_id: str, old: tuple[str, int], new: tuple[str, int]) -> None:
        """Point a document at its row in a merged segment (only if it has not moved)."""
        conn.execute(
            sa.update(documents_table)
            .where(
                documents_table.c.doc_id == doc_id,
                documents_table.c.segment == old[0],
                documents_table.c.segment_row == old[1],
            )
            .values(segment=new[0], segment_row=new[1])
        )

    def live_rows(self) -> list[LiveRow]:
        query = sa.select(
            documents_table.c.segment,
            documents_table.c.segment_row,
            documents_table.c.doc_id,
            documents_table.c.collection,
            documents_table.c.metadata,
        )
        with self._connect() as conn:
            return [
                LiveRow(r[0], int(r[1]), r[2], r[3], json.loads(r[4] or "{}"))
                for r in conn.execute(query)
            ]

    # -- segments ---------------------------------------------------------------------------

    def segments(self) -> list[SegmentInfo]:
        query = sa.select(segments_table).order_by(segments_table.c.position)
        with self._connect() as conn:
            return [
                SegmentInfo(r.name, r.position, r.n_documents, r.n_chunks)
                for r in conn.execute(query)
            ]

    @staticmethod
    def add_segment(
        conn: Connection, name: str, n_documents: int, n_chunks: int, position: int | None = None
    ) -> None:
        if position is None:
            top = conn.execute(sa.select(sa.func.max(segments_table.c.position))).scalar()
            position = int(top or 0) + 1
        conn.execute(
            sa.insert(segments_table).values(
                name=name,
                position=position,
                n_documents=n_documents,
                n_chunks=n_chunks,
                created_at=now(),
            )
        )

    @staticmethod
    def drop_unreferenced_segments(conn: Connection) -> list[str]:
        """Remove segment rows (and their stored files) no document points at; returns their
        names."""
        used = sa.select(documents_table.c.segment).distinct()
        names = list(
            conn.execute(
                sa.select(segments_table.c.name).where(segments_table.c.name.not_in(used))
            ).scalars()
        )
        if names:
            conn.execute(
                sa.delete(segment_files_table).where(segment_files_table.c.segment.in_(names))
            )
            conn.execute(sa.delete(segments_table).where(segments_table.c.name.in_(names)))
        return names

    @staticmethod
    def put_segment_files(conn: Connection, name: str, files: dict[str, bytes]) -> None:
        """Store the files of segment `name` (added in the same transaction)."""
        for file, data in sorted(files.items()):
            parts = range(0, max(len(data), 1), SEGMENT_PART_BYTES)
            for part, start in enumerate(parts):
                conn.execute(
                    sa.insert(segment_files_table).values(
                        segment=name,
                        file=file,
                        part=part,
                        data=data[start : start + SEGMENT_PART_BYTES],
                    )
                )

    def segment_files(self, name: str) -> dict[str, bytes]:
        """The stored files of segment `name` ({} when the store holds none)."""
        query = (
            sa.select(
                segment_files_table.c.file, segment_files_table.c.part, segment_files_table.c.data
            )
            .where(segment_files_table.c.segment == name)
            .order_by(segment_files_table.c.file, segment_files_table.c.part)
        )
        parts: dict[str, list[bytes]] = {}
        with self._connect() as conn:
            for file, _part, data in conn.execute(query):
                parts.setdefault(file, []).append(bytes(data))
        return {file: b"".join(chunks) for file, chunks in parts.items()}

    def segments_with_files(self) -> set[str]:
        """The segments whose files the store holds."""
        query = sa.select(segment_files_table.c.segment).distinct()
        with self._connect() as conn:
            return set(conn.execute(query).scalars())


@contextmanager
def _reachable() -> Iterator[None]:
    """The database failing under a connection (a server down or restarting, a connection
    cut, SQLite's file locked past its busy timeout) is StoreUnavailableError: the caller
    gets a 503 to retry, not a 500, and the transaction is rolled back, so nothing is lost."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise StoreUnavailableError(
            f"the document store's database failed: {str(exc.orig).strip() or type(exc).__name__}"
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed batch survives power loss too, not only a killed process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
