"""The library: the document store, its segmented index, and the one writer that keeps them
consistent.

A write (add, replace, delete, drop a collection) runs under one lock:

1. documents whose id and content sha256 are already stored are reported `unchanged` and
   not embedded again;
2. the rest are chunked and embedded into a new immutable segment, written to a temporary
   directory, fsynced and renamed into place (nothing refers to it yet);
3. one store transaction inserts the segment and points the documents at its rows (a
   replaced or deleted document's old row becomes a tombstone). This is the commit point;
4. a new view (`index.search.segmented`) is built and published to the listeners (the
   service swaps its engine reference), before the write returns.

A kill between 2 and 3 leaves an unreferenced segment, removed when the library opens; a
kill after 3 leaves a committed batch whose view is rebuilt at start.

On a store several replicas share (PostgreSQL, `DocStore.shared`) the segment's files are
rows of the store, inserted by the transaction of step 3, and the segments directory is a
cache of them each replica fills as it reads (and may lose at any time); the lock is an
advisory lock in the database (`index.store.writerlock`). A replica learns of another's
commit by the store's generation (`refresh`, polled by the service), and only a replica
holding the writer lock syncs the backend, so a replica with an older view never undoes a
newer write in Milvus. In both cases the
store and the index agree and a batch is in whole or not at all. Small segments and
segments full of tombstones are merged in a background thread (vectors are copied, never
recomputed; the policy is `index.store.merge`); deleted rows disappear for good then. What a
write takes and reports is `index.store.writes`; the corpus import (`sync_corpus`) computes and
commits its rows in `index.store.corpus_import`.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy.engine import Connection

from corpus.documents import Document
from index.encode.embedder import Embedder
from index.engine import Engine
from index.errors import (
    CollectionNotFoundError,
    DocumentNotFoundError,
    IndexCorruptError,
    IndexMismatchError,
    InvalidDocumentError,
    StoreUnavailableError,
)
from index.rank.fitted import Fitted, shipped
from index.rank.glossary import Glossary
from index.rank.pipeline import RetrievalConfig
from index.reader.runtime import Reader
from index.search.backend import Backend, FaissBackend
from index.search.filters import DEFAULT_COLLECTION
from index.search.segmented import ViewParts, assemble, catalog_for
from index.store import aliases
from index.store.corpus_import import corpus_key, corpus_mismatch, corpus_rows, replace_corpus
from index.store.docstore import DocStore, sqlite_url
from index.store.duplicates import Duplicates, Sorted
from index.store.files import IndexData
from index.store.ingest import embed_documents, from_index, locate_passages, select_rows
from index.store.ingest import vector_config_id as _config_id
from index.store.merge import merge_candidates
from index.store.records import CollectionInfo, LiveRow, StoredDocument, content_sha256, now
from index.store.segments import (
    SegmentData,
    materialize,
    read_segment,
    remove_debris,
    segment_files,
    temporary_name,
    write_segment,
)
from index.store.writerlock import writer_lock
from index.store.writes import (
    NewDocument,
    Skipped,
    WriteReport,
    Written,
    check_document,
    default_source,
    derived_doc_id,
    document_fields,
)
from index.text.chunking import ChunkingParams
from index.types import Alias

logger = logging.getLogger("ragqa.store")

SYNCED = "synced_generation"
"""Meta key: the last generation the backend was synced to (on a shared store)."""
STATE_ATTEMPTS = 10
"""Readings of the store for one view before the last is served as it is (its generation is
then behind the store's, so the next refresh reads again)."""


class StoreState(NamedTuple):
    """The store as one view reads it (`Library._read_state`)."""

    generation: int
    live: list[LiveRow]
    segments: list[str]
    collections: set[str]
    known_aliases: dict[str, tuple[Alias, ...]]


class Library:
    """The store plus its index; one writer at a time, readers on immutable views."""

    def __init__(
        self,
        store: DocStore,
        segments_dir: Path,
        embedder: Embedder,
        *,
        chunking: ChunkingParams | None = None,
        embed_titles: bool = True,
        config: RetrievalConfig | None = None,
        background_merge: bool = True,
        backend: Backend | None = None,
        glossary: Glossary | None = None,
        fitted: Fitted | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.store = store
        self.backend: Backend = backend or FaissBackend()
        """Where the views' vectors and BM25 live (Milvus keeps in step at each publish)."""
        self._backend_behind = False
        self.segments_dir = segments_dir
        self.embedder = embedder
        self.chunking = chunking or ChunkingParams()
        self.embed_titles = embed_titles
        self.config = config or RetrievalConfig()
        self.background_merge = background_merge
        self.glossary = glossary
        """The English→Chinese glossary every view's engine reads (None: the shipped one)."""
        self.reader = reader
        """The trained reader every view's engine chooses answers with (None: the features)."""
        self.config_id = _config_id(embedder.name, self.chunking, embed_titles, embedder.encoder)
        self.fitted = fitted if fitted is not None else shipped()
        """The fitted numbers every view's engine runs on, checked here, once, against the
        model, encoder and chunking the library embeds with (ParamsMismatchError)."""
        self.fitted.check(self._as_index(), embedder.encoder, segments_dir.parent)
        self.listeners: list[Callable[[Engine], None]] = []
        self.shared = store.shared
        """The store is shared by replicas: segments' files in it, the writer lock in it."""
        self._lock = threading.RLock()
        self._writer = writer_lock(store.engine, store.shared, segments_dir.parent / "writer.lock")
        self._lock_depth = 0
        self._sync_pending = False
        self._segments: dict[str, SegmentData] = {}
        self._parts: ViewParts | None = None
        self._engine: Engine | None = None
        self._generation = -1
        self._merger: threading.Thread | None = None
        self.duplicates = Duplicates(store)
        """Reprints found at ingestion and stored as aliases (`index.store.duplicates`)."""

    @classmethod
    def open(
        cls, data_dir: Path, embedder: Embedder, *, url: str | None = None, **options: object
    ) -> Library:
        """Open (or create) the library in `data_dir`: store, segments, first view."""
        data_dir.mkdir(parents=True, exist_ok=True)
        store = DocStore(url or sqlite_url(data_dir / "store.db"))
        library = cls(store, data_dir / "segments", embedder, **options)  # type: ignore[arg-type]
        library.recover()
        library.refresh(force=True)
        with library._writing():
            library.duplicates.current()  # the duplicate finder, from the stored fingerprints
        return library

    def _as_index(self) -> SimpleNamespace:
        """What the fitted bundle is checked against: the configuration of every segment."""
        chunking = {"size": self.chunking.size, "overlap": self.chunking.overlap}
        return SimpleNamespace(
            model=self.embedder.name,
            chunking=chunking,
            embed_titles=self.embed_titles,
            config_id=self.config_id,
        )

    def close(self) -> None:
        merger = self._merger
        if merger is not None:
            merger.join(timeout=60)
        self.store.close()
        self.backend.close()

    # -- reading ----------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The current view (build with `refresh`)."""
        if self._engine is None:
            self.refresh(force=True)
        assert self._engine is not None
        return self._engine

    def collections(self) -> list[CollectionInfo]:
        return self.store.collections()

    def stored(self, doc_id: str) -> StoredDocument:
        """A stored document; raises DocumentNotFoundError (naming the document an alias id is
        a copy of)."""
        doc = self.store.get(doc_id)
        if doc is None:
            alias = self._alias(doc_id)
            raise DocumentNotFoundError(doc_id, alias_of=alias.doc_id if alias else None)
        return doc

    def collection_of(self, doc_id: str) -> str:
        """The collection of a stored document or alias; raises DocumentNotFoundError."""
        doc = self.store.get(doc_id)
        if doc is not None:
            return doc.collection
        alias = self._alias(doc_id)
        if alias is None:
            raise DocumentNotFoundError(doc_id)
        return alias.collection

    def _alias(self, alias_id: str) -> aliases.StoredAlias | None:
        with self.store.transaction() as conn:
            return aliases.get_alias(conn, alias_id)

    @property
    def version(self) -> int:
        """The store generation the current view serves (-1 before the first)."""
        return self._generation

    @property
    def segment_count(self) -> int:
        """How many segments the current view reads."""
        return len(self._parts.segments) if self._parts is not None else 0

    def refresh(self, force: bool = False) -> bool:
        """Rebuild the view if the store changed (another process wrote); True if rebuilt."""
        if self.shared:
            return self._refresh_shared(force)
        if not force and not self._backend_behind and self.store.generation() == self._generation:
            return False
        with self._lock:
            self._publish()
        return True

    def _refresh_shared(self, force: bool) -> bool:
        """`refresh` on a shared store. The new view is served at once; the backend is synced
        to it only under the writer lock, taken if free (a writer holding it syncs when it
        publishes), and only if no process synced this generation already; else the next
        refresh tries again. A write in progress in this process publishes itself."""
        generation = self.store.generation()
        current = generation == self._generation
        if current and not force and not self._backend_behind and not self._sync_pending:
            return False
        if not self._lock.acquire(blocking=self._engine is None):
            return False
        try:
            if self._lock_depth == 0 and self._writer.try_acquire():
                self._lock_depth += 1
                try:
                    stale = self._generation != self.store.generation()
                    need_sync = force or self._backend_behind or not self._synced()
                    if stale or need_sync:
                        self._publish(sync=need_sync)
                    self._sync_pending = False
                finally:
                    self._lock_depth -= 1
                    self._writer.release()
            else:
                if force or self._generation != generation or self._engine is None:
                    self._publish(sync=False)
                self._sync_pending = True
            return True
        finally:
            self._lock.release()

    def _synced(self) -> bool:
        """The backend was synced to the store's current generation (by any process)."""
        return self.store.get_meta(SYNCED) == str(self.store.generation())

    def _segment(self, name: str) -> SegmentData:
        segment = self._segments.get(name)
        if segment is None:
            segment = self._read_segment(name)
            if segment.config_id != self.config_id:
                raise IndexMismatchError(
                    f"segment {name} was built with another model, encoder or chunking than "
                    f"{self.embedder.name!r}; start with the model that built it or a new "
                    "data directory"
                )
            self._segments[name] = segment
        return segment

    def _read_segment(self, name: str) -> SegmentData:
        """Segment `name` from the segments directory; on a shared store, fetched from the
        store into that cache first when it is not there (or is damaged there)."""
        if not self.shared:
            return read_segment(self.segments_dir, name)
        if (self.segments_dir / name).is_dir():
            try:
                return read_segment(self.segments_dir, name)
            except IndexCorruptError:
                logger.warning("cached segment %s is damaged; fetching it again", name)
                shutil.rmtree(self.segments_dir / name, ignore_errors=True)
        materialize(self.segments_dir, name, self.store.segment_files(name))
        return read_segment(self.segments_dir, name)

    def _read_state(self) -> StoreState:
        """What a view is made of, as of one generation of the store.

        Each read sees what was committed when it ran, and a commit of another process may
        land between them: a merge's that moves a document to a new segment and drops the
        old one, read half before and half after, gives a view without that document (served
        until the next poll). Every commit bumps the generation in its own transaction, so
        reads between two equal readings of it belong together; else they are read again (a
        writer holding the lock reads once)."""
        for _ in range(STATE_ATTEMPTS):
            generation = self.store.generation()
            live = self.store.live_rows()
            segments = [s.name for s in self.store.segments()]
            collections = self.store.collection_names()
            with self.store.transaction() as conn:
                known_aliases = aliases.all_aliases(conn)
            if self.store.generation() == generation:
                break
            logger.info("the store moved past generation %d while it was read; again", generation)
        return StoreState(generation, live, segments, collections, known_aliases)

    def _publish(self, sync: bool = True) -> None:
        state = self._read_state()
        generation, live = state.generation, state.live
        used = {row.segment for row in live}
        names = [name for name in state.segments if name in used]
        parts = self._parts
        if parts is None or parts.segments != tuple(names):
            segments = [self._segment(n) for n in names]
            chunking = {**self.chunking.__dict__, "separators": list(self.chunking.separators)}
            parts = assemble(names, segments, chunking)
            self._parts = parts
            for stale in set(self._segments) - set(names):
                del self._segments[stale]
        catalog = catalog_for(parts, live, state.collections, state.known_aliases)
        try:
            view = self.backend.view(parts.data, catalog, sync=sync)
        except BaseException:
            self._backend_behind = True  # the next refresh (or `ragqa index verify`) retries
            raise
        self._backend_behind = False
        if sync and self.shared:
            self._sync_pending = False
            try:  # a hint for the other replicas: without it, one of them syncs again
                with self.store.transaction() as conn:
                    DocStore.set_meta(conn, SYNCED, str(generation))
            except StoreUnavailableError:
                logger.warning("could not record the synced generation %d", generation)
        engine = Engine(
            parts.data,
            self.embedder,
            self.config,
            catalog=catalog,
            view=view,
            glossary=self.glossary,
            fitted=self.fitted,
            reader=self.reader,
        )
        self._engine = engine
        self._generation = generation
        for listener in self.listeners:
            listener(engine)

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The one writer: a thread lock, and a lock shared with the other processes
        (`index.store.writerlock`: a file in the data directory for `ragqa add` next to a
        running service or several workers; an advisory lock in a shared store for replicas)."""
        with self._lock:
            if self._lock_depth == 0:
                self._writer.acquire()
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    self._writer.release()

    @contextmanager
    def _commit(self) -> Iterator[Connection]:
        """A store transaction of a locked write, committed only while the lock is still held
        (a writer whose advisory lock was lost commits nothing)."""
        with self.store.transaction() as conn:
            self._writer.fence(conn)
            yield conn

    def recover(self) -> list[str]:
        """After a crash: drop segments no committed batch refers to (files and rows). On a
        shared store, also upload the files of segments written before they were kept there
        (from this data directory), and leave the cache's temporary directories of processes
        still running to them."""
        with self._writing():
            with self._commit() as conn:
                DocStore.ensure_collection(conn, DEFAULT_COLLECTION)
                DocStore.drop_unreferenced_segments(conn)
            live = {s.name for s in self.store.segments()}
            if not self.shared:
                return remove_debris(self.segments_dir, live)
            stored = self.store.segments_with_files()
            for name in sorted(live - stored):
                if (self.segments_dir / name).is_dir():
                    read_segment(self.segments_dir, name)  # intact, or IndexCorruptError
                    with self._commit() as conn:
                        DocStore.put_segment_files(
                            conn, name, segment_files(self.segments_dir, name)
                        )
                    logger.info("uploaded segment %s into the document store", name)
            return remove_debris(self.segments_dir, live, shared_cache=True)

    def _stage(self, segment: SegmentData) -> tuple[str, dict[str, bytes], Path | None]:
        """Write `segment` as a new segment: into the segments directory (a local store), or
        (a shared store) into a staging directory beside the cache, moved into the cache once
        committed (`_placed`), so the cache never holds an uncommitted segment. Returns its
        name, the files to store with it (shared) and the staging directory."""
        if not self.shared:
            return write_segment(self.segments_dir, segment), {}, None
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        staging = self.segments_dir / temporary_name("stage")
        staging.mkdir()
        try:
            name = write_segment(staging, segment)
            return name, segment_files(staging, name), staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _unstage(self, name: str, staging: Path | None) -> None:
        """Remove a segment whose commit failed."""
        shutil.rmtree(staging if staging is not None else self.segments_dir / name, True)

    def _placed(self, name: str, staging: Path | None) -> None:
        """Move a committed segment from its staging directory into the cache."""
        if staging is None:
            return
        # Already there when another process sharing the cache fetched it: the same files.
        with contextlib.suppress(OSError):
            (staging / name).rename(self.segments_dir / name)
        shutil.rmtree(staging, ignore_errors=True)

    def create_collection(self, name: str) -> bool:
        """Create `name` (True) or leave it as it is (False)."""
        with self._writing():
            with self._commit() as conn:
                created = DocStore.ensure_collection(conn, name)
                if created:
                    DocStore.bump(conn)
            if created:
                self._publish()
            return created

    def drop_collection(self, name: str) -> int:
        """Delete `name` and its documents; returns the number of documents deleted."""
        with self._writing():
            with self._commit() as conn:
                DocStore.require_collection(conn, name)
                deleted = DocStore.drop_collection(conn, name)
                aliases.drop_collection_aliases(conn, name)
                dropped = DocStore.drop_unreferenced_segments(conn)
                DocStore.bump(conn)
            self._after_write(dropped)
            return deleted

    def delete(self, collection: str, doc_id: str) -> None:
        """Remove one document from the store and (at once, as a tombstone) from the index.

        The id of an alias (a reprint, `index.store.duplicates`) removes just that alias. A
        document that has aliases is replaced by its oldest alias, promoted: it becomes a
        document under its own id, with its own text and fields (embedded now), and the
        other aliases become its aliases, so a story stays searchable while any outlet's copy
        of it is stored."""
        with self._writing():
            self.duplicates.current()
            try:
                self._delete(collection, doc_id)
            except BaseException:
                self.duplicates.forget()
                raise
            self.duplicates.committed()

    def _delete(self, collection: str, doc_id: str) -> None:
        with self._commit() as conn:
            DocStore.require_collection(conn, collection)
            doc = DocStore.get_in(conn, doc_id)
            alias = aliases.get_alias(conn, doc_id) if doc is None else None
            if alias is not None and alias.collection == collection:
                aliases.delete_alias(conn, doc_id)
                DocStore.bump(conn)
            elif doc is None or doc.collection != collection:
                raise DocumentNotFoundError(doc_id)
            copies = aliases.aliases_of(conn, doc_id) if doc is not None else []
            if doc is not None and not copies:
                DocStore.delete(conn, [doc_id])
                dropped = DocStore.drop_unreferenced_segments(conn)
                DocStore.bump(conn)
        if doc is None:
            self._after_write([])
        elif copies:
            self._promote(collection, doc_id, copies[0])
        else:
            self.duplicates.finder.remove(collection, doc_id)
            self._after_write(dropped)

    def _promote(self, collection: str, doc_id: str, oldest: aliases.StoredAlias) -> None:
        """Delete document `doc_id` and make its `oldest` alias a document in its place."""
        new = NewDocument(
            title=oldest.title,
            text=oldest.text,
            published=oldest.published,
            url=oldest.url,
            source=oldest.source,
            metadata=oldest.metadata,
            doc_id=oldest.alias_id,
            item=oldest.alias_id,
            origin=oldest.origin,
        )
        sha = content_sha256(document_fields(new, oldest.source))
        self.duplicates.finder.remove(collection, doc_id)
        value = self.duplicates.replaced(collection, oldest.alias_id, oldest.text)

        def swap(conn: Connection, stamp: str) -> None:
            DocStore.delete(conn, [doc_id])
            aliases.delete_alias(conn, oldest.alias_id)
            aliases.repoint(conn, doc_id, oldest.alias_id)
            aliases.put_fingerprints(conn, {oldest.alias_id: value})

        todo = [(new, oldest.source, sha, oldest.alias_id, "created")]
        self._commit_new(collection, todo, {oldest.alias_id: oldest.added_at}, False, swap)

    def add(
        self,
        collection: str,
        documents: Sequence[NewDocument],
        *,
        replace_existing: bool = False,
        skipped: Sequence[Skipped] = (),
        progress: bool = False,
    ) -> WriteReport:
        """Store a batch: all of it or (on any error) none of it. See the module docstring."""
        prepared: list[tuple[NewDocument, str, str, str]] = []
        seen: dict[str, str] = {}
        for doc in documents:
            check_document(doc)
            source = default_source(doc, collection)
            sha = content_sha256(document_fields(doc, source))
            doc_id = doc.doc_id or derived_doc_id(collection, sha)
            if doc_id in seen:
                raise InvalidDocumentError(
                    f"{doc.item}.doc_id" if doc.doc_id else doc.item,
                    f"same id {doc_id!r} as {seen[doc_id]} in this batch",
                )
            seen[doc_id] = doc.item
            prepared.append((doc, source, sha, doc_id))
        with self._writing():
            with self.store.transaction() as conn:
                DocStore.require_collection(conn, collection)
                existing = DocStore.get_many(conn, [p[3] for p in prepared])
            report_docs: list[Written] = []
            skip = list(skipped)
            todo: list[tuple[NewDocument, str, str, str, str]] = []
            for doc, source, sha, doc_id in prepared:
                old = existing.get(doc_id)
                if old is not None and old.collection != collection:
                    skip.append(
                        Skipped(
                            doc.item, f"doc_id {doc_id!r} exists in collection {old.collection!r}"
                        )
                    )
                elif old is not None and old.sha256 == sha:
                    report_docs.append(Written(doc_id, "unchanged", doc.item, doc.title))
                elif old is not None and not replace_existing:
                    skip.append(
                        Skipped(
                            doc.item,
                            f"doc_id {doc_id!r} exists with other content; PUT "
                            f"/v1/collections/{collection}/documents/{doc_id} replaces it",
                        )
                    )
                else:
                    status = "replaced" if old is not None else "created"
                    todo.append((doc, source, sha, doc_id, status))
            embedded = 0
            if todo:
                added_at = {doc_id: old.added_at for doc_id, old in existing.items()}
                written, embedded = self._store_new(
                    collection, todo, added_at, progress, dedup=not replace_existing
                )
                report_docs += written
            order = {p[0].item: i for i, p in enumerate(prepared)}
            report_docs.sort(key=lambda w: order.get(w.item, 0))
            return WriteReport(collection, report_docs, skip, embedded)

    def _store_new(
        self,
        collection: str,
        todo: Sequence[tuple[NewDocument, str, str, str, str]],
        added_at: Mapping[str, str],
        progress: bool,
        dedup: bool,
    ) -> tuple[list[Written], int]:
        """Embed and commit the new documents of a write, storing reprints of stored (or
        earlier) documents as their aliases when `dedup` (a POST; a PUT stores what it is
        told under its id). Returns what was written and how many were embedded."""
        self.duplicates.current()
        try:
            if dedup:
                with self.store.transaction() as conn:
                    found, outcome = self.duplicates.sort_out(
                        conn, collection, [(t[0], t[1], t[3]) for t in todo]
                    )
            else:
                given = {t[3]: self.duplicates.replaced(collection, t[3], t[0].text) for t in todo}
                found, outcome = Sorted(given), [("", "", 0.0)] * len(todo)
            embed = [t for t, (first, _, _) in zip(todo, outcome, strict=True) if not first]
            written = [
                Written(first, "duplicate", t[0].item, t[0].title, alias_id, score)
                if first
                else Written(t[3], t[4], t[0].item, t[0].title)
                for t, (first, alias_id, score) in zip(todo, outcome, strict=True)
            ]

            def record(conn: Connection, stamp: str) -> None:
                aliases.put_fingerprints(conn, found.fingerprints)
                for doc_id in found.fingerprints:  # a PUT of an alias's id makes it a document
                    aliases.delete_alias(conn, doc_id)
                for position, alias in enumerate(found.aliases):
                    aliases.put_alias(conn, replace(alias, added_at=stamp, position=position))

            if embed:
                self._commit_new(collection, embed, added_at, progress, record)
            elif found.aliases:
                with self._commit() as conn:
                    DocStore.require_collection(conn, collection)
                    record(conn, now())
                    DocStore.bump(conn)
                self._after_write([])
        except BaseException:
            self.duplicates.forget()
            raise
        self.duplicates.committed()
        return written, len(embed)

    def _commit_new(
        self,
        collection: str,
        todo: Sequence[tuple[NewDocument, str, str, str, str]],
        added_at: Mapping[str, str],
        progress: bool,
        also: Callable[[Connection, str], None] | None = None,
    ) -> None:
        """Embed `todo` into a new segment and commit it (with what `also` writes in the
        same transaction, at the same time stamp)."""
        documents = [
            Document(doc_id, doc.title, source, doc.published, doc.text, doc.url)
            for doc, source, _, doc_id, _ in todo
        ]
        given: list[list[tuple[int, int]] | None] = []
        for doc, *_ in todo:
            spans = locate_passages(doc.text, doc.passages) if doc.passages is not None else None
            given.append(spans if isinstance(spans, list) else None)
        known = [s.words for s in self._segments.values() if s.words is not None]
        segment = embed_documents(
            documents, given, self.embedder, self.chunking, self.embed_titles, progress, known
        )
        name, files, staging = self._stage(segment)
        stamp = now()
        rows = [
            StoredDocument.of(
                document,
                collection=collection,
                sha256=sha,
                segment=name,
                segment_row=row,
                stamp=stamp,
                metadata=dict(doc.metadata),
                passages=tuple(spans) if spans is not None else None,
                origin=doc.origin,
                added_at=added_at.get(doc_id, stamp),
            )
            for row, (document, (doc, _, sha, doc_id, _), spans) in enumerate(
                zip(documents, todo, given, strict=True)
            )
        ]
        try:
            with self._commit() as conn:
                DocStore.require_collection(conn, collection)
                DocStore.add_segment(conn, name, len(documents), len(segment.chunks))
                if files:
                    DocStore.put_segment_files(conn, name, files)
                DocStore.put(conn, rows)
                if also is not None:
                    also(conn, stamp)
                dropped = DocStore.drop_unreferenced_segments(conn)
                DocStore.bump(conn)
        except BaseException:
            self._unstage(name, staging)
            raise
        self._placed(name, staging)
        self._segments[name] = segment
        self._after_write(dropped)

    def _after_write(self, dropped: Sequence[str]) -> None:
        self._publish()
        for name in dropped:
            shutil.rmtree(self.segments_dir / name, ignore_errors=True)
        self._schedule_merge()

    def sync_corpus(self, index: IndexData) -> int:
        """Make the `default` collection's corpus documents those of `index` (the build of
        corpus/articles), without embedding. A no-op while the index is unchanged."""
        key = corpus_key(index)
        with self._writing():
            if self.store.get_meta("corpus_key") == key:
                return 0
            segment = from_index(index)
            if segment.config_id != self.config_id:
                raise IndexMismatchError(
                    corpus_mismatch(index, self.embedder, self.chunking, self.embed_titles)
                )
            name, files, staging = self._stage(segment) if segment.documents else (None, {}, None)
            rows = corpus_rows(segment, name, now())
            try:
                with self._commit() as conn:
                    dropped = replace_corpus(conn, name, rows, len(segment.chunks), key, files)
            except BaseException:
                if name is not None:
                    self._unstage(name, staging)
                raise
            if name is not None:
                self._placed(name, staging)
                self._segments[name] = segment
            self._after_write(dropped)
            return len(rows)

    # -- merging ----------------------------------------------------------------------------

    def _schedule_merge(self) -> None:
        if not self.background_merge:
            return
        if self._merger is not None and self._merger.is_alive():
            return
        self._merger = threading.Thread(target=self._merge_loop, name="ragqa-merge", daemon=True)
        self._merger.start()

    def _merge_loop(self) -> None:
        while self.merge():
            pass

    def merge_candidates(self) -> list[str]:
        """Segments the merge policy would merge now (in store order)."""
        live = Counter(row.segment for row in self.store.live_rows())
        return merge_candidates(self.store.segments(), live)

    def merge(self) -> bool:
        """Merge what the policy selects into one segment (no embedding); True if it did."""
        with self._writing():
            names = self.merge_candidates()
            if not names:
                return False
            live = [r for r in self.store.live_rows() if r.segment in set(names)]
            positions = {s.name: s.position for s in self.store.segments()}
            by_segment: dict[str, list[tuple[int, str]]] = {}
            for row in live:
                by_segment.setdefault(row.segment, []).append((row.segment_row, row.doc_id))
            order = sorted(names, key=lambda n: (positions.get(n, 0), n))
            parts = [(self._segment(n), sorted(r for r, _ in by_segment[n])) for n in order]
            merged = select_rows(parts)
            name, files, staging = self._stage(merged)
            moves: list[tuple[str, tuple[str, int], tuple[str, int]]] = []
            new_row = 0
            for n in order:
                for old_row, doc_id in sorted(by_segment[n]):
                    moves.append((doc_id, (n, old_row), (name, new_row)))
                    new_row += 1
            before = self.store.generation()
            try:
                with self._commit() as conn:
                    DocStore.add_segment(
                        conn,
                        name,
                        len(merged.documents),
                        len(merged.chunks),
                        position=min(positions.get(n, 0) for n in names),
                    )
                    if files:
                        DocStore.put_segment_files(conn, name, files)
                    for doc_id, old, new in moves:
                        DocStore.move(conn, doc_id, old, new)
                    dropped = DocStore.drop_unreferenced_segments(conn)
                    DocStore.bump(conn)
            except BaseException:
                self._unstage(name, staging)
                raise
            self._placed(name, staging)
            self._segments[name] = merged
            self.duplicates.advanced(before)
            self._publish()
            for old_name in dropped:
                shutil.rmtree(self.segments_dir / old_name, ignore_errors=True)
            return True

    def check_backend(self) -> str | None:
        """None when the backend holds exactly the live rows of the store, else what differs."""
        return self.backend.check(self.engine.index)

    def verify(self) -> str | None:
        """Make the backend agree with the store; None if it did, else what was repaired."""
        with self._writing():
            self._publish()  # a fresh view of the store's live rows, synced into the backend
            return self.backend.last_sync

    def check_collection(self, name: str) -> None:
        """Raise CollectionNotFoundError unless `name` exists."""
        if name not in self.store.collection_names():
            raise CollectionNotFoundError(name)
