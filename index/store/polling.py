"""Polling a web source: fetch its feed, sitemap or page, add the items not seen before.

`open_source` reads a new source once before anything is stored: a URL that cannot be
fetched, is refused by a rule, or holds no feed, sitemap or article is an error
(`FetchError`) and the store stays as it was. Then the source row is written and its first
poll ingested. `poll_source` is every later poll, on the source's schedule (the service's
poller, `service.poller`) or when asked (`POST …/sources/{id}/poll`, `ragqa sources poll`):

1. the feed is fetched with the validators of the last response: a 304 ends the poll
   (`not_modified`), a failure is recorded as the source's error (`failed`);
2. items whose key (feed id, else link) the source has seen are left out; of the rest, at
   most `max_items` are read in this poll (the others in the next);
3. each item's page is fetched under the same rules and read into an article
   (`corpus.web.pages`); one that is refused (not http/https, a private address, robots.txt,
   over the size or time limit, no article text, too long) is skipped with the reason and
   remembered as seen; one that failed for a passing reason (a timeout, a 5xx) is tried
   again at the next poll;
4. the articles are stored through `Library.add` in batches under `max_batch_chars`; each
   document's id is derived from the collection and its URL (`web_doc_id`), so reading a
   page again replaces its document instead of adding a second one;
5. the poll, the items it is done with and the new validators are recorded together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.web.errors import FetchError, FetchRefused
from corpus.web.feeds import Item, Listing, parse_feed, parse_sitemap, sniff
from corpus.web.fetch import Fetched, Fetcher, FetchPolicy
from corpus.web.pages import WebArticle, read_page
from index.errors import InvalidDocumentError
from index.store.library import Library
from index.store.records import now
from index.store.sources import (
    Added,
    Poll,
    Seen,
    Source,
    claim,
    due_sources,
    find_source,
    finish_poll,
    insert_source,
    later,
    seen_keys,
    source_id_for,
)
from index.store.writes import MAX_TITLE_CHARS, NewDocument, Skipped, check_document

BATCH_DOCUMENTS = 200


@dataclass(frozen=True)
class PollLimits:
    """How much one poll may do (from the settings)."""

    max_items: int = 100
    """New items read per poll at most; the rest wait for the next poll."""
    max_batch_chars: int = 200_000
    """Characters of text per write (as `RAGQA_MAX_BATCH_CHARS` for the documents API)."""
    default_interval_s: int = 3600
    """Interval of a feed or sitemap created without one."""


def web_doc_id(collection: str, url: str) -> str:
    """The id of the document read from `url` in `collection`: the same page, the same id."""
    return "web-" + hashlib.sha256(f"{collection}\n{url}".encode()).hexdigest()[:20]


def open_source(
    library: Library,
    collection: str,
    url: str,
    fetcher: Fetcher,
    *,
    kind: str = "auto",
    interval_s: int | None = None,
    limits: PollLimits | None = None,
) -> tuple[Source, bool]:
    """The source of `url` in `collection` and whether it was created now (then it has been
    polled once). An existing source is returned as it is. FetchError when the URL cannot be
    read or is not a `kind` (auto: whatever it is); nothing is stored then."""
    limits = limits or PollLimits()
    library.check_collection(collection)
    source_id = source_id_for(collection, url)
    existing = find_source(library.store, source_id)
    if existing is not None:
        return existing, False
    started = now()
    fetched = fetcher.get(url)
    found = sniff(fetched.body, fetched.content_type)
    if kind != "auto" and found != kind:
        raise FetchRefused(url, f"is a {found}, not a {kind}")
    listing = read_listing(found, fetched, fetcher)
    page = None
    if found == "page":
        page = read_page(fetched.body, fetched.url)
        check_document(_document(collection, source_id, url, page, "page"))
    if found != "page" and interval_s is None:
        interval_s = limits.default_interval_s
    source = Source(
        source_id=source_id,
        collection=collection,
        url=url,
        kind=found,
        interval_s=interval_s,
        created_at=started,
        title=listing.title if listing is not None else page.title if page else None,
        next_poll_at=later(started, interval_s),
    )
    with library.store.transaction() as conn:
        insert_source(conn, source)
    source = _ingest(library, source, fetched, listing, fetcher, limits, started, page)
    return source, True


def poll_source(
    library: Library,
    source: Source,
    fetcher: Fetcher,
    limits: PollLimits | None = None,
    *,
    moment: str | None = None,
) -> Source:
    """Poll `source` once (see the module docstring); the source as it is after, its newest
    poll first in `polls`. `moment`: the time a scheduler polls it for (its next poll is an
    interval after that, or after the poll, whichever is later)."""
    limits = limits or PollLimits()
    started = now()
    try:
        fetched = fetcher.get(source.url, etag=source.etag, last_modified=source.last_modified)
        if fetched.status == 304:
            poll = Poll(source.source_id, started, now(), "not_modified", 304)
            return _finished(library, source, poll, [], moment)
        listing = read_listing(source.kind, fetched, fetcher)
    except FetchError as exc:
        poll = Poll(source.source_id, started, now(), "failed", error=str(exc))
        return _finished(library, source, poll, [], moment)
    return _ingest(library, source, fetched, listing, fetcher, limits, started, moment=moment)


def read_listing(kind: str, fetched: Fetched, fetcher: Fetcher) -> Listing | None:
    """The items of a feed or sitemap (None for a page); a sitemap index's child sitemaps
    are read too, under the same rules."""
    if kind == "feed":
        return parse_feed(fetched.body, fetched.url)
    if kind != "sitemap":
        return None
    listing = parse_sitemap(fetched.body, fetched.url)
    items = list(listing.items)
    for child in listing.sitemaps:
        items += parse_sitemap(fetcher.get(child).body, child).items
    return Listing("sitemap", listing.title, items, [])


def _finished(
    library: Library,
    source: Source,
    poll: Poll,
    seen: Sequence[Seen],
    moment: str | None = None,
    **changes: str | None,
) -> Source:
    finish_poll(library.store, source, poll, seen, moment=moment, **changes)
    again = find_source(library.store, source.source_id)
    assert again is not None
    return again


def _document(
    collection: str, source_id: str, url: str, article: WebArticle, kind: str, feed: str = ""
) -> NewDocument:
    title = article.title
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1] + "…"
    metadata = {**article.metadata, "source_id": source_id}
    if feed:
        metadata[kind] = feed
    return NewDocument(
        title=title,
        text=article.text,
        published=article.published,
        url=article.url,
        metadata=metadata,
        doc_id=web_doc_id(collection, url),
        item=url,
    )


def _ingest(
    library: Library,
    source: Source,
    fetched: Fetched,
    listing: Listing | None,
    fetcher: Fetcher,
    limits: PollLimits,
    started: str,
    page: WebArticle | None = None,
    *,
    moment: str | None = None,
) -> Source:
    if listing is None:  # a page: the item is the page itself, read again when it changed
        new = [Item(key=source.url, url=source.url)]
    else:
        unique = list({item.key: item for item in reversed(listing.items)}.values())[::-1]
        seen = seen_keys(library.store, source.source_id, [i.key for i in unique])
        new = [i for i in unique if i.key not in seen][: limits.max_items]
    done: list[Seen] = []
    skipped: list[Skipped] = []
    ready: list[tuple[Item, NewDocument]] = []
    for item in new:
        where = item.url or item.key
        try:
            if item.url is None:
                raise FetchRefused(item.key, "the item has no link")
            if listing is None:
                article = page or read_page(fetched.body, fetched.url)
            else:
                body = fetcher.get(item.url)
                article = read_page(body.body, body.url, title=item.title, published=item.published)
            doc = _document(
                source.collection,
                source.source_id,
                item.url,
                article,
                source.kind,
                "" if listing is None else source.url,
            )
            check_document(doc)
        except FetchError as exc:
            skipped.append(Skipped(where, exc.reason))
            if exc.permanent:
                done.append(Seen(item.key, item.url, reason=exc.reason))
        except InvalidDocumentError as exc:
            skipped.append(Skipped(where, exc.message))
            done.append(Seen(item.key, item.url, reason=exc.message))
        else:
            ready.append((item, doc))
    added: list[Added] = []
    for batch in _batches(ready, limits.max_batch_chars):
        report = library.add(source.collection, [d for _, d in batch], replace_existing=True)
        by_item = {w.item: w for w in report.documents}
        for item, doc in batch:
            written = by_item.get(doc.item)
            if written is None:
                continue
            done.append(Seen(item.key, item.url, doc_id=written.doc_id))
            if written.status != "unchanged":
                added.append(Added(written.doc_id, item.url or "", doc.title))
        skipped += report.skipped
    poll = Poll(
        source.source_id,
        started,
        now(),
        "added" if added else "nothing_new",
        fetched.status,
        tuple(added),
        tuple((s.item, s.reason) for s in skipped),
    )
    changes: dict[str, str | None] = {
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
    }
    if listing is not None and listing.title:
        changes["title"] = listing.title
    return _finished(library, source, poll, done, moment, **changes)


def _batches(
    ready: Sequence[tuple[Item, NewDocument]], max_chars: int
) -> list[list[tuple[Item, NewDocument]]]:
    """Writes of at most BATCH_DOCUMENTS documents and `max_chars` characters each."""
    batches: list[list[tuple[Item, NewDocument]]] = []
    size = 0
    for pair in ready:
        chars = len(pair[1].text)
        if not batches or len(batches[-1]) >= BATCH_DOCUMENTS or size + chars > max_chars:
            batches.append([])
            size = 0
        batches[-1].append(pair)
        size += chars
    return batches


def poll_due(
    library: Library,
    policy: FetchPolicy,
    limits: PollLimits | None = None,
    *,
    moment: str | None = None,
) -> list[Source]:
    """Poll every source whose next poll is due at `moment` (default: now) and that this
    process claims (`index.store.sources.claim`: of several workers, one polls each); the
    sources after their polls."""
    moment = moment or now()
    polled = []
    with Fetcher(policy) as fetcher:
        for source in due_sources(library.store, moment):
            if claim(library.store, source, moment):
                polled.append(poll_source(library, source, fetcher, limits, moment=moment))
    return polled
