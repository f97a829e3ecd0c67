"""Fetching, feeds, sitemaps and pages (`corpus.web`) against a real HTTP server on 127.0.0.1.

The server (`tests/webserver.py`) is reachable only because each fetcher here allows
127.0.0.1 (`RAGQA_FETCH_ALLOW_HOSTS` in a deployment); everything else follows the rules a
deployment has: public addresses only, robots.txt, the time and size limits.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

import pytest

from corpus.web.addresses import is_public
from corpus.web.errors import FetchFailed, FetchRefused
from corpus.web.feeds import parse_feed, parse_sitemap, sniff
from corpus.web.fetch import USER_AGENT, Fetcher, FetchPolicy
from corpus.web.pages import read_page
from tests.webserver import Page, Site, article_html, atom, endless, rss, running_site, sitemap

LOCAL = frozenset({"127.0.0.1"})
HANG_GUARD_S = 30.0
"""A refused fetch must end long before this: a guard against hanging, not a measurement."""
ARTICLE = article_html(
    "兰州新区氢能产业园开工",
    [
        "3月1日，兰州新区氢能产业园开工建设，总投资52亿元，规划建设制氢、储氢和燃料电池三大板块。",
        "园区建成后每年可生产氢燃料电池汽车6800辆，带动就业4000人，年产值预计超过百亿元。",
    ],
    date="2025-03-01",
    author="甘肃日报记者 刘健",
)


@pytest.fixture
def site() -> Iterator[Site]:
    with running_site() as running:
        running.pages["/a.html"] = Page(ARTICLE)
        yield running


def fetcher(**policy: object) -> Fetcher:
    return Fetcher(FetchPolicy(**{"allow_hosts": LOCAL, "timeout_s": 5.0, **policy}))  # type: ignore[arg-type]


def refusal(func: object, *args: object) -> str:
    with pytest.raises(FetchRefused) as caught:
        func(*args)  # type: ignore[operator]
    return caught.value.reason


def test_a_page_is_fetched_with_the_documented_user_agent_then_304_when_unchanged(
    site: Site,
) -> None:
    with fetcher() as f:
        first = f.get(site.url("/a.html"))
        again = f.get(site.url("/a.html"), etag=first.etag, last_modified=first.last_modified)
    assert (first.status, first.body, again.status, again.body) == (200, ARTICLE, 304, b"")
    assert first.etag is not None and first.last_modified == "Wed, 22 Jan 2025 00:00:00 GMT"
    paths = [p for p, _ in site.requests]
    assert paths == ["/robots.txt", "/a.html", "/a.html"]  # robots.txt read once per host
    assert {h["user-agent"] for _, h in site.requests} == {USER_AGENT}
    assert site.requests[2][1]["if-none-match"] == first.etag


def test_loopback_and_private_addresses_are_refused_unless_the_host_is_allowed(
    site: Site,
) -> None:
    with Fetcher(FetchPolicy(timeout_s=5.0)) as plain:
        reason = refusal(plain.get, site.url("/a.html"))
    assert reason == (
        "127.0.0.1 resolves to 127.0.0.1, a private, loopback, link-local or reserved "
        "address; the fetcher only reaches public addresses unless the host is listed in "
        "RAGQA_FETCH_ALLOW_HOSTS"
    )
    assert site.requests == []  # not even robots.txt was asked for
    with Fetcher(FetchPolicy(timeout_s=5.0)) as plain:
        for url in (
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://0x7f000001/",
            "http://[::ffff:10.0.0.1]/",
        ):
            assert "a private, loopback, link-local or reserved address" in refusal(plain.get, url)
    assert [is_public(a) for a in ("8.8.8.8", "10.1.2.3", "100.64.0.1", "fe80::1", "::1")] == [
        True,
        False,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "file: is not fetched: only http and https URLs are"),
        ("ftp://example.org/feed.xml", "ftp: is not fetched: only http and https URLs are"),
        ("gopher://127.0.0.1:70/", "gopher: is not fetched: only http and https URLs are"),
        (
            "example.org/feed.xml",
            "a URL without a scheme is not fetched: only http and https URLs are",
        ),
        ("http:///feed.xml", "the URL names no host"),
    ],
)
def test_only_http_and_https_urls_are_fetched(url: str, reason: str) -> None:
    with fetcher() as f:
        assert refusal(f.get, url) == reason


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/feed.xml", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_redirect_to_a_private_address_is_refused(site: Site, target: str) -> None:
    site.pages["/moved"] = Page(status=302, headers={"Location": target})
    with fetcher() as f:
        reason = refusal(f.get, site.url("/moved"))
    assert "a private, loopback, link-local or reserved address" in reason
    assert target.split("/")[2] in reason


def test_redirects_are_followed_and_the_final_url_is_kept(site: Site) -> None:
    site.pages["/old"] = Page(status=301, headers={"Location": "/a.html"})
    with fetcher() as f:
        fetched = f.get(site.url("/old"))
    assert (fetched.url, fetched.body) == (site.url("/a.html"), ARTICLE)


def test_a_feed_that_never_ends_is_cut_off_at_the_time_limit(site: Site) -> None:
    site.pages["/forever.xml"] = Page(
        content_type="application/rss+xml",
        stream=endless(b"<item><title>again</title></item>" * 30, pause_s=0.01),
    )
    started = time.monotonic()
    with fetcher(timeout_s=1.0, max_bytes=50 * 1024 * 1024) as f:
        reason = refusal(f.get, site.url("/forever.xml"))
    assert reason.startswith("not finished within 1 s (RAGQA_FETCH_TIMEOUT_S) after ")
    assert reason.endswith("bytes; a feed or page that never ends is cut off")
    assert time.monotonic() - started < HANG_GUARD_S


def test_a_50_mb_page_is_refused_while_streaming_and_never_read_whole(site: Site) -> None:
    chunk = b"<p>" + "很长的页面。".encode() * 5000 + b"</p>"
    total = 50 * 1024 * 1024
    site.pages["/huge.html"] = Page(stream=lambda: iter([chunk] * (total // len(chunk) + 1)))
    with fetcher(max_bytes=1024 * 1024) as f:
        reason = refusal(f.get, site.url("/huge.html"))
    assert reason == "over the size limit of 1,048,576 bytes (RAGQA_FETCH_MAX_BYTES)"
    # The client hung up after about the limit (plus what the kernel's buffers had taken).
    time.sleep(0.5)
    assert site.sent["/huge.html"] < 16 * 1024 * 1024


def test_a_declared_content_length_over_the_limit_is_refused_before_the_body(site: Site) -> None:
    site.pages["/big.html"] = Page(b"x" * 300_000)
    with fetcher(max_bytes=100_000) as f:
        reason = refusal(f.get, site.url("/big.html"))
    assert reason == "300,000 bytes, over the size limit of 100,000 bytes (RAGQA_FETCH_MAX_BYTES)"


def test_a_compression_bomb_stops_at_the_size_limit(site: Site) -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    site.pages["/bomb.html"] = Page(bomb, headers={"Content-Encoding": "gzip"})
    with fetcher(max_bytes=1024 * 1024) as f:
        assert refusal(f.get, site.url("/bomb.html")) == (
            "over the size limit of 1,048,576 bytes (RAGQA_FETCH_MAX_BYTES)"
        )
    site.pages["/small.html"] = Page(gzip.compress(ARTICLE), headers={"Content-Encoding": "gzip"})
    with fetcher() as f:
        assert f.get(site.url("/small.html")).body == ARTICLE


def test_robots_txt_disallow_is_obeyed_for_our_user_agent(site: Site) -> None:
    site.pages["/robots.txt"] = Page(
        b"User-agent: *\nDisallow: /private/\n\nUser-agent: ragqa\nDisallow: /news/\n"
        b"Allow: /news/open/\n",
        content_type="text/plain",
    )
    site.pages["/news/1.html"] = Page(ARTICLE)
    site.pages["/news/open/2.html"] = Page(ARTICLE)
    with fetcher() as f:
        assert refusal(f.get, site.url("/news/1.html")) == "disallowed by the site's robots.txt"
        assert f.get(site.url("/news/open/2.html")).status == 200  # the longer Allow wins
        # The `ragqa` group applies, not `*`: /private/ is not disallowed for us (a 404 here).
        assert refusal(f.get, site.url("/private/x.html")) == "the server answered 404 Not Found"
    assert "/news/1.html" not in [p for p, _ in site.requests]


def test_an_unreachable_robots_txt_disallows_the_host(site: Site) -> None:
    site.pages["/robots.txt"] = Page(b"down", status=503, content_type="text/plain")
    with fetcher() as f:
        assert refusal(f.get, site.url("/a.html")) == (
            "disallowed by the site's robots.txt (robots.txt answered 503: treated as "
            "disallowing all)"
        )


def test_server_errors_are_failures_worth_a_retry_and_404_is_refused(site: Site) -> None:
    site.pages["/busy"] = Page(b"", status=503)
    with fetcher() as f:
        with pytest.raises(FetchFailed, match="the server answered 503 Service Unavailable"):
            f.get(site.url("/busy"))
        assert refusal(f.get, site.url("/missing")) == "the server answered 404 Not Found"


# -- feeds, sitemaps, pages: pure, given the bytes ------------------------------------------


def test_an_rss_feed_lists_its_items_with_dates_in_their_own_time_zone() -> None:
    body = rss(
        [
            ("a1", "http://example.org/a1.html", "Wed, 22 Jan 2025 07:30:00 +0800"),
            ("a2", "/a2.html", "Tue, 21 Jan 2025 20:00:00 GMT"),
        ]
    )
    listing = parse_feed(body, "http://example.org/feed.xml")
    assert (listing.kind, listing.title) == ("feed", "甘肃测试网 要闻")
    assert [(i.key, i.url, i.title, i.published) for i in listing.items] == [
        ("a1", "http://example.org/a1.html", "条目a1", "2025-01-22"),
        ("a2", "http://example.org/a2.html", "条目a2", "2025-01-21"),
    ]
    assert sniff(body, "text/xml") == "feed"


def test_an_atom_feed_lists_its_entries() -> None:
    body = atom([("urn:1", "http://example.org/1.html", "2025-01-22T07:30:00+08:00")])
    listing = parse_feed(body, "http://example.org/atom.xml")
    assert [(i.key, i.url, i.published) for i in listing.items] == [
        ("urn:1", "http://example.org/1.html", "2025-01-22")
    ]
    assert sniff(body, "application/octet-stream") == "feed"


def test_a_sitemap_lists_its_pages_and_a_page_is_not_a_feed() -> None:
    body = sitemap([("http://example.org/1.html", "2025-01-20"), ("http://example.org/2.html", "")])
    listing = parse_sitemap(body, "http://example.org/sitemap.xml")
    assert [(i.key, i.published) for i in listing.items] == [
        ("http://example.org/1.html", "2025-01-20"),
        ("http://example.org/2.html", None),
    ]
    assert sniff(body, "application/xml") == "sitemap"
    assert sniff(ARTICLE, "text/html") == "page"
    with pytest.raises(FetchRefused, match="not an RSS or Atom feed"):
        parse_feed(ARTICLE, "http://example.org/a.html")


def test_a_page_becomes_one_article_with_its_title_date_and_author() -> None:
    article = read_page(ARTICLE, "http://example.org/a.html")
    assert article.title == "兰州新区氢能产业园开工"
    assert article.published == "2025-03-01"
    assert article.text == (
        "3月1日，兰州新区氢能产业园开工建设，总投资52亿元，规划建设制氢、储氢和燃料电池三大板块。\n\n"
        "园区建成后每年可生产氢燃料电池汽车6800辆，带动就业4000人，年产值预计超过百亿元。"
    )
    assert article.metadata == {"author": "甘肃日报记者 刘健", "sitename": "甘肃测试网"}
    from_feed = read_page(
        ARTICLE, "http://example.org/a.html", title="订阅标题", published="2025-03-02"
    )
    assert (from_feed.title, from_feed.published) == ("订阅标题", "2025-03-02")
    with pytest.raises(FetchRefused, match="no article text"):
        read_page(b"<html><head><title>x</title></head><body></body></html>", "http://e.org/x")
