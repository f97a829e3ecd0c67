"""`ragqa add --feed/--page` and `ragqa sources [poll]` on a local store, fetching from a real
HTTP server on 127.0.0.1 (allowed by `RAGQA_FETCH_ALLOW_HOSTS`, as an operator would)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.servers import ragqa
from tests.webserver import Page, article_html, rss, running_site

pytestmark = pytest.mark.slow


def test_a_feed_added_from_the_terminal_is_listed_and_polled(tmp_path: Path) -> None:
    env = {"RAGQA_DATA_DIR": str(tmp_path / "data"), "RAGQA_FETCH_ALLOW_HOSTS": "127.0.0.1"}
    with running_site() as site:
        site.pages["/robots.txt"] = Page(
            b"User-agent: ragqa\nDisallow: /closed/\n", content_type="text/plain"
        )
        for name, text in (
            ("a", "兰州新区氢能产业园开工建设，总投资52亿元。"),
            ("b", "酒泉市风电装机容量达到2150万千瓦。"),
        ):
            site.pages[f"/{name}.html"] = Page(article_html(f"文章{name}", [text * 3]))
        site.pages["/rss.xml"] = Page(
            rss([("a", site.url("/a.html"), "")]), content_type="application/rss+xml"
        )

        added = ragqa("add", "--feed", site.url("/rss.xml"), "-c", "news", env=env)
        assert added.returncode == 0, added.stdout + added.stderr
        source_id = re.search(r"(src-[0-9a-f]{16})  news  feed", added.stdout)
        assert source_id is not None, added.stdout
        assert ": added (HTTP 200), 1 added, 0 skipped" in added.stdout
        assert f"({site.url('/a.html')})" in added.stdout

        refused = ragqa("add", "--page", site.url("/closed/x.html"), "-c", "news", env=env)
        assert refused.returncode == 1
        assert f"{site.url('/closed/x.html')}: disallowed by the site's robots.txt" in (
            refused.stdout
        )
        bad = ragqa("add", "--page", "file:///etc/passwd", env=env)
        assert bad.returncode == 2
        assert "file: is not fetched: only http and https URLs are" in bad.stderr

        listed = ragqa("sources", "-c", "news", env=env)
        assert listed.returncode == 0, listed.stderr
        assert f"{source_id.group(1)}  news  feed  {site.url('/rss.xml')}" in listed.stdout
        assert "(every 3600 s; 1 items seen)" in listed.stdout
        assert "Last-Modified Wed, 22 Jan 2025 00:00:00 GMT" in listed.stdout

        site.pages["/rss.xml"] = Page(
            rss([("b", site.url("/b.html"), ""), ("a", site.url("/a.html"), "")]),
            content_type="application/rss+xml",
        )
        polled = ragqa("sources", "poll", "-c", "news", "--id", source_id.group(1), env=env)
        assert polled.returncode == 0, polled.stdout + polled.stderr
        assert ": added (HTTP 200), 1 added, 0 skipped" in polled.stdout
        assert f"条目b  ({site.url('/b.html')})" in polled.stdout
        assert f"({site.url('/a.html')})" not in polled.stdout


def test_the_terminal_adds_and_lists_sources_of_a_running_service(
    index_dir: Path, tmp_path: Path
) -> None:
    from tests.conftest import TEST_API_KEY
    from tests.servers import running_server

    env = {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "RAGQA_POLL_SOURCES": "false",
        "RAGQA_LOG_LEVEL": "warning",
    }
    with running_site() as site, running_server(env, tmp_path / "server.log") as base:
        site.pages["/a.html"] = Page(article_html("兰州新区氢能产业园开工", ["总投资52亿元。" * 8]))
        remote = ("--url", base, "--api-key", TEST_API_KEY)
        added = ragqa(
            "add",
            "--page",
            site.url("/a.html"),
            "--page",
            site.url("/gone.html"),
            "-c",
            "web",
            *remote,
        )
        assert added.returncode == 1, added.stdout + added.stderr  # one URL was refused
        assert f"  {site.url('/gone.html')}: the server answered 404 Not Found" in added.stdout
        assert f"兰州新区氢能产业园开工  ({site.url('/a.html')})" in added.stdout
        listed = ragqa("sources", "-c", "web", *remote)
        assert listed.returncode == 0, listed.stderr
        assert f"  web  page  {site.url('/a.html')}  (when polled; 1 items seen)" in listed.stdout
        source_id = listed.stdout.split()[0]
        polled = ragqa("sources", "poll", "-c", "web", "--id", source_id, *remote)
        assert polled.returncode == 0, polled.stdout + polled.stderr
        assert ": not_modified (HTTP 304), 0 added, 0 skipped" in polled.stdout
