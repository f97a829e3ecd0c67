"""A real HTTP server on 127.0.0.1 that tests fill with pages, feeds and hostile answers.

`running_site()` yields a `Site`: put a `Page` at a path (`site.pages["/feed.xml"] = ...`),
change it between polls, and read what the server saw (`site.requests`) and sent
(`site.sent`). A page has an ETag (its sha256) and a Last-Modified, and answers 304 to a
matching `If-None-Match`, as a well-kept news site does. A `stream` page sends chunks from
a generator, without a Content-Length, until the client hangs up: the never-ending feed and
the 50 MB page are made of those.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

LAST_MODIFIED = "Wed, 22 Jan 2025 00:00:00 GMT"


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[], Iterator[bytes]] | None = None
    """Chunks sent one after another, no Content-Length, until the client stops reading."""
    validators: bool = True


@dataclass
class Site:
    base: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    """Body bytes written per path (before the client hung up)."""

    def url(self, path: str) -> str:
        return self.base + path

    def statuses(self, path: str) -> list[str]:
        return [h.get("x-status", "") for p, h in self.requests if p == path]


def _handler(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # a streamed body ends when the connection closes

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            page = site.pages.get(self.path)
            status = 404 if page is None else page.status
            etag = f'"{hashlib.sha256(page.body).hexdigest()[:16]}"' if page else ""
            fixed = page is not None and page.validators and page.stream is None
            if fixed and headers.get("if-none-match") == etag:
                status = 304
            headers["x-status"] = str(status)
            site.requests.append((self.path, headers))
            self.send_response(status)
            if page is None or status == 304:
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_header("Content-Type", page.content_type)
            if page.validators and page.stream is None:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            for name, value in page.headers.items():
                self.send_header(name, value)
            if page.stream is None:
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            chunks = page.stream() if page.stream is not None else iter([page.body])
            sent = 0
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                site.sent[self.path] = site.sent.get(self.path, 0) + sent

    return Handler


@contextmanager
def running_site() -> Iterator[Site]:
    """A `Site` served on 127.0.0.1 and a free port, in a thread, for the test's duration."""
    site = Site()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def endless(chunk: bytes, pause_s: float = 0.0) -> Callable[[], Iterator[bytes]]:
    """A body that never ends: `chunk` again and again (with a pause between)."""

    def chunks() -> Iterator[bytes]:
        while True:
            yield chunk
            if pause_s:
                time.sleep(pause_s)

    return chunks


def article_html(title: str, paragraphs: list[str], *, date: str = "", author: str = "") -> bytes:
    """A news article page as sites print them: meta tags, navigation, the article, footer."""
    meta = ""
    if date:
        meta += f'<meta property="article:published_time" content="{date}T08:00:00+08:00">'
    if author:
        meta += f'<meta name="author" content="{author}">'
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>{title}</title>"
        f'{meta}<meta property="og:site_name" content="甘肃测试网"></head><body>'
        "<nav><a href='/'>首页</a> <a href='/news'>新闻</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>版权所有 甘肃测试网</footer></body></html>"
    ).encode()


def rss(items: list[tuple[str, str, str]], title: str = "甘肃测试网 要闻") -> bytes:
    """An RSS 2.0 feed of (guid, link, pubDate) items."""
    entries = "".join(
        f"<item><title>条目{guid}</title><link>{link}</link><guid isPermaLink='false'>{guid}</guid>"
        f"<pubDate>{date}</pubDate></item>"
        for guid, link, date in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}'
        f"</title><link>http://example.org/</link>{entries}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str, str]], title: str = "甘肃测试网 Atom") -> bytes:
    """An Atom 1.0 feed of (id, link, published) entries."""
    entries = "".join(
        f"<entry><title>条目{id_}</title><id>{id_}</id><link href='{link}'/>"
        f"<published>{date}</published><updated>{date}</updated></entry>"
        for id_, link, date in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:test</id><updated>2025-01-22T00:00:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


def sitemap(urls: list[tuple[str, str]]) -> bytes:
    """A sitemap of (loc, lastmod) pages."""
    entries = "".join(f"<url><loc>{loc}</loc><lastmod>{mod}</lastmod></url>" for loc, mod in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()
