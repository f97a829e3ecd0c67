"""Web sources in the document store: the feeds, sitemaps and pages a collection is fed from.

A `Source` row holds its URL, kind, polling interval, the validators of its last response
(ETag, Last-Modified: the next poll sends them, so an unchanged feed is a 304), when it was
last and will next be polled, and its last error. `source_items` remembers every item a
source has seen (by the sha256 of its feed id or link), with the document it became or why
it was refused, so a poll adds only new items. `source_polls` keeps what each poll did (the
last `KEPT_POLLS` per source): its outcome, HTTP status, the documents it added, the items
it skipped and why. The tables are declared in `index.store.docstore` with the others.

Text from the network is stored as given, except U+0000 (PostgreSQL text cannot hold it),
which is written as ``\\x00``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from index.errors import SourceNotFoundError
from index.store.docstore import (
    DocStore,
    source_items_table,
    source_polls_table,
    sources_table,
)

KINDS = ("feed", "sitemap", "page")
KEPT_POLLS = 20
"""Polls kept per source (older ones are deleted as new ones are recorded)."""


@dataclass(frozen=True)
class Added:
    """A document a poll added or replaced."""

    doc_id: str
    url: str
    title: str


@dataclass(frozen=True)
class Poll:
    """What one poll of a source did."""

    source_id: str
    started_at: str
    finished_at: str
    outcome: str
    """``added`` (new documents), ``nothing_new`` (fetched, no new item), ``not_modified``
    (a 304: nothing fetched), ``failed`` (the source itself could not be read: `error`)."""
    http_status: int | None = None
    added: tuple[Added, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    """(item URL or key, reason) of each item not added."""
    error: str | None = None


@dataclass(frozen=True)
class Source:
    """One row of `sources`."""

    source_id: str
    collection: str
    url: str
    kind: str
    interval_s: int | None
    """Seconds between scheduled polls; None: polled only when asked (a page)."""
    created_at: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_poll_at: str | None = None
    next_poll_at: str | None = None
    last_error: str | None = None
    items_seen: int = 0
    polls: tuple[Poll, ...] = field(default=())
    """The most recent polls, newest first (filled by `list_sources` / `get_source`)."""


def source_id_for(collection: str, url: str) -> str:
    """The id of `url` as a source of `collection`: the same URL twice is one source."""
    return "src-" + hashlib.sha256(f"{collection}\n{url}".encode()).hexdigest()[:16]


def item_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def later(stamp: str, seconds: int | None) -> str | None:
    """`stamp` plus `seconds`, in the store's timestamp format (None without an interval)."""
    if seconds is None:
        return None
    moment = datetime.fromisoformat(stamp) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds")


def _text(value: str | None) -> str | None:
    return value.replace("\x00", "\\x00") if value is not None else None


def _source(row: Any, seen: int = 0, polls: Sequence[Poll] = ()) -> Source:
    return Source(
        source_id=row.source_id,
        collection=row.collection,
        url=row.url,
        kind=row.kind,
        interval_s=row.interval_s,
        created_at=row.created_at,
        title=row.title,
        etag=row.etag,
        last_modified=row.last_modified,
        last_poll_at=row.last_poll_at,
        next_poll_at=row.next_poll_at,
        last_error=row.last_error,
        items_seen=seen,
        polls=tuple(polls),
    )


def _poll(row: Any) -> Poll:
    return Poll(
        source_id=row.source_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
        http_status=row.http_status,
        added=tuple(Added(**a) for a in json.loads(row.added)),
        skipped=tuple((str(i), str(r)) for i, r in json.loads(row.skipped)),
        error=row.error,
    )


def insert_source(conn: Connection, source: Source) -> None:
    conn.execute(
        sa.insert(sources_table).values(
            source_id=source.source_id,
            collection=source.collection,
            url=_text(source.url),
            kind=source.kind,
            interval_s=source.interval_s,
            title=_text(source.title),
            created_at=source.created_at,
            next_poll_at=source.next_poll_at,
        )
    )


def _with_details(conn: Connection, rows: Sequence[Any], polls_each: int) -> list[Source]:
    ids = [r.source_id for r in rows]
    if not ids:
        return []
    seen: dict[str, int] = dict(
        conn.execute(
            sa.select(source_items_table.c.source_id, sa.func.count())
            .where(source_items_table.c.source_id.in_(ids))
            .group_by(source_items_table.c.source_id)
        ).all()
    )
    polls: dict[str, list[Poll]] = {i: [] for i in ids}
    query = (
        sa.select(source_polls_table)
        .where(source_polls_table.c.source_id.in_(ids))
        .order_by(source_polls_table.c.poll_id.desc())
    )
    for row in conn.execute(query):
        if len(polls[row.source_id]) < polls_each:
            polls[row.source_id].append(_poll(row))
    return [_source(r, int(seen.get(r.source_id, 0)), polls[r.source_id]) for r in rows]


def list_sources(store: DocStore, collection: str, polls_each: int = 5) -> list[Source]:
    """The sources of `collection` (by URL), each with its most recent polls."""
    query = (
        sa.select(sources_table)
        .where(sources_table.c.collection == collection)
        .order_by(sources_table.c.url, sources_table.c.source_id)
    )
    with store.transaction() as conn:
        return _with_details(conn, list(conn.execute(query)), polls_each)


def find_source(store: DocStore, source_id: str, polls_each: int = 5) -> Source | None:
    with store.transaction() as conn:
        rows = list(
            conn.execute(sa.select(sources_table).where(sources_table.c.source_id == source_id))
        )
        found = _with_details(conn, rows, polls_each)
    return found[0] if found else None


def get_source(store: DocStore, collection: str, source_id: str, polls_each: int = 5) -> Source:
    """The source `source_id` of `collection`, or SourceNotFoundError."""
    source = find_source(store, source_id, polls_each) if "\x00" not in source_id else None
    if source is None or source.collection != collection:
        raise SourceNotFoundError(source_id)
    return source


def due_sources(store: DocStore, moment: str) -> list[Source]:
    """Sources with an interval whose next poll is at or before `moment`, most overdue first."""
    query = (
        sa.select(sources_table)
        .where(sources_table.c.next_poll_at.is_not(None), sources_table.c.next_poll_at <= moment)
        .order_by(sources_table.c.next_poll_at)
    )
    with store.transaction() as conn:
        return [_source(r) for r in conn.execute(query)]


def claim(store: DocStore, source: Source, moment: str) -> bool:
    """Move a due source's next poll on by its interval, if nobody did since it was read:
    True for the one process (of several workers) that gets to poll it now."""
    with store.transaction() as conn:
        moved = conn.execute(
            sa.update(sources_table)
            .where(
                sources_table.c.source_id == source.source_id,
                sources_table.c.next_poll_at == source.next_poll_at,
            )
            .values(next_poll_at=later(moment, source.interval_s))
        )
        return bool(moved.rowcount)


def seen_keys(store: DocStore, source_id: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` (item keys, unhashed) the source has seen."""
    hashed = {item_key(k): k for k in keys}
    found: set[str] = set()
    names = list(hashed)
    with store.transaction() as conn:
        for start in range(0, len(names), 500):
            query = sa.select(source_items_table.c.item_key).where(
                source_items_table.c.source_id == source_id,
                source_items_table.c.item_key.in_(names[start : start + 500]),
            )
            found |= {hashed[k] for k in conn.execute(query).scalars()}
    return found


@dataclass(frozen=True)
class Seen:
    """An item a poll is done with: added as `doc_id`, or refused for `reason`."""

    key: str
    url: str | None
    doc_id: str | None = None
    reason: str | None = None


def finish_poll(
    store: DocStore,
    source: Source,
    poll: Poll,
    seen: Sequence[Seen],
    *,
    moment: str | None = None,
    **changes: Any,
) -> Source:
    """Record `poll`, the items it is done with, and the source's new state (`changes`:
    etag, last_modified, title, when set), in one transaction; the source as it is now. The
    next poll is an interval after the poll ended, or after `moment` (the time a scheduler
    polled it for) when that is later."""
    values: dict[str, Any] = {
        "last_poll_at": poll.finished_at,
        "next_poll_at": later(max(poll.finished_at, moment or ""), source.interval_s),
        "last_error": _text(poll.error),
        **{k: _text(v) for k, v in changes.items()},
    }
    with store.transaction() as conn:
        conn.execute(
            sa.update(sources_table)
            .where(sources_table.c.source_id == source.source_id)
            .values(**values)
        )
        done = {item_key(s.key): s for s in seen}
        if done:
            conn.execute(
                sa.delete(source_items_table).where(
                    source_items_table.c.source_id == source.source_id,
                    source_items_table.c.item_key.in_(list(done)),
                )
            )
            conn.execute(
                sa.insert(source_items_table),
                [
                    {
                        "source_id": source.source_id,
                        "item_key": key,
                        "url": _text(s.url),
                        "doc_id": s.doc_id,
                        "reason": _text(s.reason),
                        "seen_at": poll.finished_at,
                    }
                    for key, s in done.items()
                ],
            )
        conn.execute(
            sa.insert(source_polls_table).values(
                source_id=source.source_id,
                started_at=poll.started_at,
                finished_at=poll.finished_at,
                outcome=poll.outcome,
                http_status=poll.http_status,
                added=json.dumps([a.__dict__ for a in poll.added], ensure_ascii=False),
                skipped=_text(json.dumps([list(s) for s in poll.skipped], ensure_ascii=False)),
                error=_text(poll.error),
            )
        )
        kept = (
            sa.select(source_polls_table.c.poll_id)
            .where(source_polls_table.c.source_id == source.source_id)
            .order_by(source_polls_table.c.poll_id.desc())
            .limit(KEPT_POLLS)
        )
        conn.execute(
            sa.delete(source_polls_table).where(
                source_polls_table.c.source_id == source.source_id,
                source_polls_table.c.poll_id.not_in(sa.select(kept.subquery().c.poll_id)),
            )
        )
    return replace(source, **{k: v for k, v in values.items() if k in Source.__annotations__})


def delete_source(store: DocStore, collection: str, source_id: str) -> None:
    """Forget a source, its seen items and polls (its documents stay)."""
    get_source(store, collection, source_id)
    with store.transaction() as conn:
        for table in (source_items_table, source_polls_table):
            conn.execute(sa.delete(table).where(table.c.source_id == source_id))
        conn.execute(sa.delete(sources_table).where(sources_table.c.source_id == source_id))
