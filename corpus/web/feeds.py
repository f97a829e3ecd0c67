"""Feeds and sitemaps, bytes in, items out: what a source lists, newest first as it says.

An RSS or Atom feed is read with feedparser (6.0.x; RSS 0.9x/1.0/2.0, Atom 0.3/1.0, with
the encodings and broken dates real feeds have); it is always given the bytes the fetcher
read, never a URL (feedparser would fetch one itself, past every limit). A sitemap
(`<urlset>`, or a `<sitemapindex>` of sitemaps) is read with lxml, entities unresolved and
no network. An item's key is its feed id (`guid`, Atom `id`) or else its link: a poll adds
only items whose key it has not seen.

A feed's date is the date the item states, in the time zone it states
(`Wed, 22 Jan 2025 07:30:00 +0800` is 2025-01-22, not the UTC day before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from corpus.web.errors import FetchRefused

MAX_SITEMAPS = 20
"""Child sitemaps of a sitemap index read in one poll at most."""
Kind = Literal["feed", "sitemap", "page"]
_ROOT = re.compile(rb"<\s*([A-Za-z][\w.:-]*)")


@dataclass(frozen=True)
class Item:
    """One entry of a feed or sitemap."""

    key: str
    """The feed's id for it, else its link: what a poll remembers as seen."""
    url: str | None
    title: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Listing:
    """What a feed or sitemap lists."""

    kind: Kind
    title: str | None
    items: list[Item]
    sitemaps: list[str]
    """Child sitemaps (of a sitemap index), to be read like this one."""


def sniff(body: bytes, content_type: str) -> Kind:
    """What a response is: an RSS/Atom feed, a sitemap, or (anything else) a page."""
    head = body[:4096].lstrip()
    for match in _ROOT.finditer(head):
        name = match.group(1).split(b":")[-1].lower()
        if name in (b"rss", b"feed", b"rdf"):
            return "feed"
        if name in (b"urlset", b"sitemapindex"):
            return "sitemap"
        if name in (b"html", b"head", b"body", b"!doctype"):
            return "page"
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/rss+xml", "application/atom+xml"):
        return "feed"
    return "page"


def parse_feed(body: bytes, url: str) -> Listing:
    """The items of an RSS or Atom feed (FetchRefused when `body` is not one)."""
    import feedparser

    parsed: Any = feedparser.parse(body, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FetchRefused(url, f"not an RSS or Atom feed ({problem or 'no feed elements'})")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or None
        key = entry.get("id") or link
        if not key:
            continue
        items.append(
            Item(
                key=str(key),
                url=str(link) if link else None,
                title=(entry.get("title") or "").strip() or None,
                published=entry_date(entry),
            )
        )
    title = (parsed.feed.get("title") or "").strip() or None
    return Listing("feed", title, items, [])


def entry_date(entry: Any) -> str | None:
    """The day an entry was published (else updated), in its own time zone."""
    for name in ("published", "updated", "created"):
        raw = entry.get(name)
        if raw:
            day = stated_date(str(raw))
            if day is not None:
                return day
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()
    return None


def stated_date(raw: str) -> str | None:
    """``YYYY-MM-DD`` of an RFC 822 (RSS) or ISO 8601 (Atom, sitemaps) date, as stated."""
    raw = raw.strip()
    try:
        return parsedate_to_datetime(raw).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return date.fromisoformat(raw[:10]).isoformat()
    except ValueError:
        return None


def parse_sitemap(body: bytes, url: str) -> Listing:
    """The pages of a `<urlset>`, or the child sitemaps of a `<sitemapindex>`."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FetchRefused(url, f"not a well-formed sitemap ({exc})") from exc
    name = etree.QName(root).localname
    entries = [
        (
            _child_text(node, "loc"),
            _child_text(node, "lastmod"),
        )
        for node in root
        if isinstance(node.tag, str) and etree.QName(node).localname in ("url", "sitemap")
    ]
    if name == "sitemapindex":
        return Listing("sitemap", None, [], [loc for loc, _ in entries if loc][:MAX_SITEMAPS])
    if name != "urlset":
        raise FetchRefused(url, f"not a sitemap (its root element is <{name}>)")
    items = [
        Item(key=loc, url=loc, published=stated_date(lastmod) if lastmod else None)
        for loc, lastmod in entries
        if loc
    ]
    return Listing("sitemap", None, items, [])


def _child_text(node: Any, name: str) -> str | None:
    from lxml import etree

    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            text = (child.text or "").strip()
            return text or None
    return None
