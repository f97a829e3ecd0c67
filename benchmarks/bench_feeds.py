"""Feed ingestion speed: articles per second from an RSS feed served on 127.0.0.1.

A local HTTP server (a thread of this process) serves one RSS feed of `--articles` items and
an article page for each, made from the seed corpus's sentences (about 600 characters each,
as a short news item). A fresh library in a temporary directory (SQLite store, the default
encoder) opens the feed as a source the way `POST /v1/collections/{c}/sources` does: one
fetch of the feed, then each page fetched (robots.txt, limits and address rules included,
127.0.0.1 allowed), extracted with trafilatura, chunked, embedded and committed. Printed:
articles/s overall, and the share of the time spent fetching and extracting against
embedding and committing. Then a second poll of the unchanged feed (a 304).

Not a test: nothing is asserted. Run it on a quiet machine for figures worth recording:

    python -m benchmarks.bench_feeds --articles 200
"""

from __future__ import annotations

import argparse
import http.server
import random
import tempfile
import threading
import time
from pathlib import Path

from corpus import DEFAULT_CORPUS_DIR
from corpus.web.fetch import Fetcher, FetchPolicy
from index.store import polling
from index.store.polling import PollLimits, open_source, poll_source

ARTICLE_CHARS = 600


def sentences() -> list[str]:
    """The seed corpus's sentences (the bundled articles, split at 。)."""
    found: list[str] = []
    for path in sorted(DEFAULT_CORPUS_DIR.glob("*.txt")):
        for part in path.read_text(encoding="utf-8").split("。"):
            part = part.strip()
            if 15 <= len(part) <= 120 and "\n" not in part:
                found.append(part + "。")
    return found


def site_pages(count: int, base: str) -> dict[str, bytes]:
    """An RSS feed of `count` items and their article pages."""
    pool = sentences()
    pages: dict[str, bytes] = {}
    items = []
    for n in range(count):
        text = ""  # a draw of its own for each page: no page reprints another (dedup)
        for sentence in random.Random(n).sample(pool, len(pool)):
            if len(text) >= ARTICLE_CHARS:
                break
            text += sentence
        title = f"第{n}篇 {pool[n % len(pool)][:12]}"
        pages[f"/news/{n}.html"] = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"
        ).encode()
        items.append(
            f"<item><title>{title}</title><link>{base}/news/{n}.html</link>"
            f"<guid isPermaLink='false'>n{n}</guid>"
            "<pubDate>Wed, 22 Jan 2025 07:30:00 +0800</pubDate></item>"
        )
    pages["/rss.xml"] = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>bench</title>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()
    return pages


def serve(pages: dict[str, bytes]) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(self.path)
            if body is not None and self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            if body is not None:
                self.send_header("ETag", '"v1"')
            self.end_headers()
            self.wfile.write(body or b"")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=100, help="items in the feed")
    args = parser.parse_args(argv)

    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.store.library import Library

    pages: dict[str, bytes] = {}
    server = serve(pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages.update(site_pages(args.articles, base))
    embedder = load_embedder(DEFAULT_MODEL)
    policy = FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    limits = PollLimits(max_items=args.articles)
    reading = [0.0]
    original = polling.read_page

    def timed_read(*a: object, **k: object) -> object:
        started = time.perf_counter()
        try:
            return original(*a, **k)  # type: ignore[arg-type]
        finally:
            reading[0] += time.perf_counter() - started

    polling.read_page = timed_read  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        library = Library.open(Path(tmp) / "data", embedder, background_merge=False)
        try:
            library.create_collection("bench")
            with Fetcher(policy) as fetcher:
                started = time.perf_counter()
                source, _ = open_source(library, "bench", f"{base}/rss.xml", fetcher, limits=limits)
                took = time.perf_counter() - started
                added = len(source.polls[0].added)
                skipped = len(source.polls[0].skipped)
                started = time.perf_counter()
                again = poll_source(library, source, fetcher, limits)
                second = time.perf_counter() - started
        finally:
            library.close()
            polling.read_page = original
            server.shutdown()
    print(
        f"feed of {args.articles} items, {added} articles added in {took:.2f} s: "
        f"{added / took:.2f} articles/s ({skipped} skipped)"
    )
    print(f"  of which extracting pages (trafilatura, htmldate, cleaning): {reading[0]:.2f} s")
    print(
        f"second poll, unchanged feed: {again.polls[0].outcome} "
        f"(HTTP {again.polls[0].http_status}) in {second * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
