"""Web sources in the document store (`index.store.sources`), on each store backend
(`store_url`: SQLite, PostgreSQL): rows, seen items, polls kept, claims, and a dropped
collection taking its sources along."""

from __future__ import annotations

import pytest

from index.errors import SourceNotFoundError
from index.store.docstore import DocStore
from index.store.sources import (
    KEPT_POLLS,
    Added,
    Poll,
    Seen,
    Source,
    claim,
    delete_source,
    due_sources,
    finish_poll,
    get_source,
    insert_source,
    list_sources,
    seen_keys,
    source_id_for,
)

START = "2025-01-22T00:00:00.000+00:00"


@pytest.fixture
def store(store_url: str) -> DocStore:
    db = DocStore(store_url)
    with db.transaction() as conn:
        DocStore.ensure_collection(conn, "news")
    yield db
    db.close()


def feed(store: DocStore, url: str = "http://example.org/rss.xml") -> Source:
    source = Source(
        source_id=source_id_for("news", url),
        collection="news",
        url=url,
        kind="feed",
        interval_s=600,
        created_at=START,
        next_poll_at="2025-01-22T00:10:00.000+00:00",
    )
    with store.transaction() as conn:
        insert_source(conn, source)
    return source


def poll(source: Source, n: int, outcome: str = "added") -> Poll:
    stamp = f"2025-01-22T01:{n:02d}:00.000+00:00"
    added = (Added(f"web-{n}", f"http://example.org/{n}.html", f"第{n}篇"),)
    return Poll(source.source_id, stamp, stamp, outcome, 200, added, (("x", "why\x00"),))


def test_a_poll_is_recorded_with_its_items_and_validators(store: DocStore) -> None:
    source = feed(store)
    items = [
        Seen("a", "http://example.org/a.html", doc_id="web-1"),
        Seen("b", "file://etc/passwd", reason="file: is not fetched"),
    ]
    after = finish_poll(store, source, poll(source, 1), items, etag='"v1"', last_modified="L")
    assert (after.etag, after.last_modified, after.last_error) == ('"v1"', "L", None)
    assert after.next_poll_at == "2025-01-22T01:11:00.000+00:00"
    assert seen_keys(store, source.source_id, ["a", "b", "c"]) == {"a", "b"}
    [listed] = list_sources(store, "news")
    assert (listed.items_seen, listed.etag) == (2, '"v1"')
    assert listed.polls[0].added == (Added("web-1", "http://example.org/1.html", "第1篇"),)
    assert listed.polls[0].skipped == (("x", "why\x00"),)  # JSON escapes the NUL: kept


def test_only_the_last_polls_are_kept_newest_first(store: DocStore) -> None:
    source = feed(store)
    for n in range(KEPT_POLLS + 5):
        finish_poll(store, source, poll(source, n), [])
    polls = get_source(store, "news", source.source_id, polls_each=100).polls
    assert len(polls) == KEPT_POLLS
    assert polls[0].started_at == f"2025-01-22T01:{KEPT_POLLS + 4:02d}:00.000+00:00"


def test_a_due_source_is_claimed_once(store: DocStore) -> None:
    source = feed(store)
    assert due_sources(store, START) == []
    moment = "2025-01-22T00:10:00.000+00:00"
    [due] = due_sources(store, moment)
    assert claim(store, due, moment) is True
    assert claim(store, due, moment) is False  # another worker read the same row: too late
    assert get_source(store, "news", source.source_id).next_poll_at == (
        "2025-01-22T00:20:00.000+00:00"
    )


def test_deleting_a_source_or_dropping_its_collection_forgets_it(store: DocStore) -> None:
    one, two = feed(store), feed(store, "http://example.org/atom.xml")
    finish_poll(store, one, poll(one, 1), [Seen("a", None, doc_id="web-1")])
    delete_source(store, "news", one.source_id)
    with pytest.raises(SourceNotFoundError):
        get_source(store, "news", one.source_id)
    with pytest.raises(SourceNotFoundError):
        get_source(store, "other", two.source_id)  # another collection's id is not found
    finish_poll(store, two, poll(two, 2), [Seen("b", None, doc_id="web-2")])
    with store.transaction() as conn:
        DocStore.drop_collection(conn, "news")
    assert list_sources(store, "news") == []
    assert seen_keys(store, two.source_id, ["b"]) == set()
