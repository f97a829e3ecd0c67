"""Web sources over HTTP: feeds, sitemaps and article pages served by a real HTTP server on
127.0.0.1, read into the real store and index (in-process app, the real model).

The app allows 127.0.0.1 by its setting (`fetch_allow_hosts`), as a deployment names an
intranet host, and polls only when a test asks (`poll_sources=False`; `POST …/poll`). Each
test writes into a collection of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.webserver import Page, Site, article_html, atom, endless, rss, running_site, sitemap

pytestmark = pytest.mark.slow

KEY = "sources-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
HANG_GUARD_S = 60.0
"""A refused source must be answered long before this: a guard, not a measurement."""
PARAGRAPHS = {
    "a1": [
        "3月1日，兰州新区氢能产业园开工建设，总投资52亿元，规划建设制氢、储氢和燃料电池三大板块。"
    ],
    "a2": ["截至2025年6月底，酒泉市风电装机容量达到2150万千瓦，占全省风电装机的六成。"],
    "a3": ["嘉峪关市因钢而生、依钢而兴，今年钢铁产业数字化改造投资达到18亿元。"],
}
TITLES = {
    "a1": "兰州新区氢能产业园开工",
    "a2": "酒泉风电装机突破两千万千瓦",
    "a3": "嘉峪关钢铁数字化改造",
}


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with running_site() as running:
        for name, paragraphs in PARAGRAPHS.items():
            running.pages[f"/news/{name}.html"] = Page(
                article_html(
                    TITLES[name],
                    paragraphs,
                    date="2025-01-2" + name[-1],
                    author="甘肃日报记者 刘健",
                )
            )
        yield running


@pytest.fixture(scope="module")
def client(make_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("sources") / "data"
    with make_client(
        preload=False,
        data_dir=data,
        api_key=KEY,
        fetch_allow_hosts=["127.0.0.1"],
        fetch_timeout_s=2.0,
        fetch_max_bytes=1024 * 1024,
        poll_sources=False,
    ) as c:
        yield c


def collection(client: TestClient, name: str) -> str:
    assert client.put(f"/v1/collections/{name}", headers=AUTH).status_code in (200, 201)
    return name


def add(client: TestClient, name: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/collections/{name}/sources", json=body, headers=AUTH)


def stored(client: TestClient) -> tuple[Any, Any]:
    return client.get("/v1/collections").json(), client.get("/v1/documents").json()


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["message"])


def url_of(client: TestClient, listed: dict[str, Any]) -> str:
    return str(client.get(f"/v1/documents/{listed['doc_id']}").json()["url"])


def item(site: Site, name: str, day: str) -> tuple[str, str, str]:
    return (f"urn:{name}", site.url(f"/news/{name}.html"), day)


FEEDS = {
    "rss": (
        rss,
        [
            "Wed, 22 Jan 2025 07:30:00 +0800",
            "Tue, 21 Jan 2025 09:00:00 +0800",
            "Thu, 23 Jan 2025 10:00:00 +0800",
        ],
    ),
    "atom": (
        atom,
        ["2025-01-22T07:30:00+08:00", "2025-01-21T09:00:00+08:00", "2025-01-23T10:00:00+08:00"],
    ),
}


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_feed_polled_twice_adds_only_the_new_item_and_an_unchanged_feed_is_a_304(
    client: TestClient, site: Site, kind: str
) -> None:
    make, days = FEEDS[kind]
    name = collection(client, f"feed-{kind}")
    path = f"/{kind}.xml"
    site.pages[path] = Page(
        make([item(site, "a1", days[0]), item(site, "a2", days[1])]), content_type="application/xml"
    )
    response = add(client, name, {"url": site.url(path), "interval_s": 600})
    assert response.status_code == 201, response.text
    body = response.json()
    [source] = body["sources"]
    assert body["created"] == [source["source_id"]]
    assert (source["kind"], source["interval_s"], source["items_seen"]) == ("feed", 600, 2)
    first = source["polls"][0]
    assert (first["outcome"], first["http_status"], first["skipped"]) == ("added", 200, [])
    assert [a["title"] for a in first["added"]] == ["条目urn:a1", "条目urn:a2"]
    assert source["etag"] and source["last_modified"] == "Wed, 22 Jan 2025 00:00:00 GMT"

    doc = client.get(f"/v1/documents/{first['added'][0]['doc_id']}").json()
    assert doc["url"] == site.url("/news/a1.html")
    assert doc["published"] == "2025-01-22"  # the feed's date, in its own time zone
    assert doc["text"] == PARAGRAPHS["a1"][0]
    assert doc["source"] == "127.0.0.1:" + site.base.rsplit(":", 1)[1]
    assert doc["metadata"] == {
        "author": "甘肃日报记者 刘健",
        "sitename": "甘肃测试网",
        "source_id": source["source_id"],
        "feed": site.url(path),
    }

    poll = f"/v1/collections/{name}/sources/{source['source_id']}/poll"
    unchanged = client.post(poll, headers=AUTH).json()
    assert unchanged["polls"][0]["outcome"] == "not_modified"
    assert unchanged["polls"][0]["http_status"] == 304
    assert site.statuses(path)[-1] == "304"

    site.pages[path] = Page(
        make([item(site, "a3", days[2]), item(site, "a1", days[0]), item(site, "a2", days[1])]),
        content_type="application/xml",
    )
    again = client.post(poll, headers=AUTH).json()
    newest = again["polls"][0]
    assert newest["outcome"] == "added"
    assert [(a["title"], a["url"]) for a in newest["added"]] == [
        ("条目urn:a3", site.url("/news/a3.html"))
    ]
    assert again["items_seen"] == 3
    assert [p["outcome"] for p in again["polls"]] == ["added", "not_modified", "added"]
    documents = client.get("/v1/documents", params={"collection": name}).json()
    assert sorted(url_of(client, d) for d in documents) == [
        site.url(f"/news/{n}.html") for n in ("a1", "a2", "a3")
    ]
    answer = client.post(
        "/v1/ask", json={"question": "嘉峪关钢铁数字化改造投资多少", "collections": [name]}
    ).json()
    assert answer["passages"][0]["url"] or answer["passages"][0]["doc_id"].startswith("web-")
    assert answer["passages"][0]["doc_id"] == newest["added"][0]["doc_id"]

    listed = client.get(f"/v1/collections/{name}/sources").json()
    assert [s["source_id"] for s in listed] == [source["source_id"]]
    assert listed[0]["last_poll_at"] == again["last_poll_at"]
    assert listed[0]["last_error"] is None


def test_an_article_url_becomes_one_document_with_its_page_metadata(
    client: TestClient, site: Site
) -> None:
    name = collection(client, "page")
    response = add(client, name, {"url": site.url("/news/a2.html")})
    assert response.status_code == 201, response.text
    [source] = response.json()["sources"]
    assert (source["kind"], source["interval_s"], source["next_poll_at"]) == ("page", None, None)
    [added] = source["polls"][0]["added"]
    doc = client.get(f"/v1/documents/{added['doc_id']}").json()
    assert (doc["title"], doc["published"], doc["url"]) == (
        "酒泉风电装机突破两千万千瓦",
        "2025-01-22",
        site.url("/news/a2.html"),
    )
    assert doc["metadata"]["author"] == "甘肃日报记者 刘健"
    again = add(client, name, {"url": site.url("/news/a2.html")})
    assert again.status_code == 200 and again.json()["created"] == []


def test_a_list_of_article_urls_adds_each_and_reports_the_refused_one(
    client: TestClient, site: Site
) -> None:
    name = collection(client, "pages")
    urls = [site.url("/news/a1.html"), site.url("/news/a3.html"), site.url("/news/missing.html")]
    body = add(client, name, {"urls": urls}).json()
    assert [s["url"] for s in body["sources"]] == urls[:2]
    assert body["skipped"] == [{"item": urls[2], "reason": "the server answered 404 Not Found"}]


def test_a_sitemap_adds_the_pages_it_lists(client: TestClient, site: Site) -> None:
    name = collection(client, "sitemap")
    site.pages["/sitemap.xml"] = Page(
        sitemap([(site.url("/news/a1.html"), "2025-01-20"), (site.url("/news/a3.html"), "")]),
        content_type="application/xml",
    )
    [source] = add(client, name, {"url": site.url("/sitemap.xml"), "kind": "sitemap"}).json()[
        "sources"
    ]
    assert source["kind"] == "sitemap"
    added = source["polls"][0]["added"]
    assert [a["url"] for a in added] == [site.url("/news/a1.html"), site.url("/news/a3.html")]
    dates = [client.get(f"/v1/documents/{a['doc_id']}").json()["published"] for a in added]
    assert dates == ["2025-01-20", "2025-01-23"]  # the sitemap's lastmod, else the page's


def test_robots_txt_disallow_refuses_a_page_and_skips_a_feed_item(client: TestClient) -> None:
    with running_site() as other:
        other.pages["/robots.txt"] = Page(
            b"User-agent: ragqa\nDisallow: /closed/\n", content_type="text/plain"
        )
        other.pages["/closed/x.html"] = Page(article_html("闭", PARAGRAPHS["a1"]))
        other.pages["/open/y.html"] = Page(article_html("开放的文章", PARAGRAPHS["a2"]))
        other.pages["/feed.xml"] = Page(
            rss([("c", other.url("/closed/x.html"), ""), ("o", other.url("/open/y.html"), "")]),
            content_type="application/rss+xml",
        )
        name = collection(client, "robots")
        before = stored(client)
        message = error_of(add(client, name, {"url": other.url("/closed/x.html")}), 422)
        assert message == f"url: {other.url('/closed/x.html')}: disallowed by the site's robots.txt"
        assert stored(client) == before
        poll = add(client, name, {"url": other.url("/feed.xml")}).json()["sources"][0]["polls"][0]
        assert [a["url"] for a in poll["added"]] == [other.url("/open/y.html")]
        assert poll["skipped"] == [
            {"item": other.url("/closed/x.html"), "reason": "disallowed by the site's robots.txt"}
        ]
        assert "/closed/x.html" not in [p for p, _ in other.requests]


# -- hostile network inputs: a clear reason, bounded time and memory, the store unchanged ---


def test_a_feed_that_never_ends_is_refused_and_nothing_is_stored(
    client: TestClient, site: Site
) -> None:
    site.pages["/forever.xml"] = Page(
        content_type="application/rss+xml",
        stream=endless(
            b"<rss version='2.0'><channel>" + b"<item><title>x</title></item>" * 20, pause_s=0.01
        ),
    )
    name = collection(client, "forever")
    before = stored(client)
    started = time.monotonic()
    message = error_of(add(client, name, {"url": site.url("/forever.xml")}), 422)
    assert message.startswith(f"url: {site.url('/forever.xml')}: not finished within 2 s")
    assert time.monotonic() - started < HANG_GUARD_S
    assert stored(client) == before
    assert client.get(f"/v1/collections/{name}/sources").json() == []


def test_a_50_mb_page_is_refused_while_streaming_and_nothing_is_stored(
    client: TestClient, site: Site
) -> None:
    chunk = ("<p>" + "五十兆的页面。" * 3000 + "</p>").encode()
    site.pages["/huge.html"] = Page(
        stream=lambda: iter([chunk] * (50 * 1024 * 1024 // len(chunk) + 1))
    )
    name = collection(client, "huge")
    before = stored(client)
    message = error_of(add(client, name, {"url": site.url("/huge.html")}), 422)
    assert message == (
        f"url: {site.url('/huge.html')}: over the size limit of 1,048,576 bytes "
        "(RAGQA_FETCH_MAX_BYTES)"
    )
    assert stored(client) == before
    time.sleep(0.5)
    assert site.sent["/huge.html"] < 16 * 1024 * 1024  # never read whole


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/rss.xml", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_redirect_to_a_private_address_is_refused_and_nothing_is_stored(
    client: TestClient, site: Site, target: str
) -> None:
    site.pages["/moved.xml"] = Page(status=302, headers={"Location": target})
    name = collection(client, "moved")
    before = stored(client)
    message = error_of(add(client, name, {"url": site.url("/moved.xml")}), 422)
    host = target.split("/")[2]
    assert message == (
        f"url: {target}: {host} resolves to {host}, a private, loopback, link-local or "
        "reserved address; the fetcher only reaches public addresses unless the host is "
        "listed in RAGQA_FETCH_ALLOW_HOSTS"
    )
    assert stored(client) == before


def test_a_feed_item_linking_to_a_local_file_is_skipped_with_the_reason(
    client: TestClient, site: Site
) -> None:
    site.pages["/passwd.xml"] = Page(
        rss([("p", "file:///etc/passwd", ""), ("a1", site.url("/news/a1.html"), "")]),
        content_type="application/rss+xml",
    )
    name = collection(client, "passwd")
    source = add(client, name, {"url": site.url("/passwd.xml")}).json()["sources"][0]
    poll = source["polls"][0]
    # feedparser hands the link over as `file://etc/passwd` (it drops the empty host).
    assert poll["skipped"] == [
        {
            "item": "file://etc/passwd",
            "reason": "file: is not fetched: only http and https URLs are",
        }
    ]
    assert [a["url"] for a in poll["added"]] == [site.url("/news/a1.html")]
    documents = client.get("/v1/documents", params={"collection": name}).json()
    assert [url_of(client, d) for d in documents] == [site.url("/news/a1.html")]
    assert all(
        "root:" not in client.get(f"/v1/documents/{d['doc_id']}").json()["text"] for d in documents
    )
    # Refused for good: remembered as seen, not tried at every poll.
    assert source["items_seen"] == 2


def test_a_feed_that_fails_later_records_the_error_on_the_source(
    client: TestClient, site: Site
) -> None:
    site.pages["/flaky.xml"] = Page(
        rss([("a2", site.url("/news/a2.html"), "")]), content_type="application/rss+xml"
    )
    name = collection(client, "flaky")
    source = add(client, name, {"url": site.url("/flaky.xml")}).json()["sources"][0]
    site.pages["/flaky.xml"] = Page(b"", status=503)
    before = stored(client)
    polled = client.post(
        f"/v1/collections/{name}/sources/{source['source_id']}/poll", headers=AUTH
    ).json()
    assert polled["polls"][0]["outcome"] == "failed"
    assert polled["last_error"] == (
        f"{site.url('/flaky.xml')}: the server answered 503 Service Unavailable"
    )
    assert stored(client) == before


# -- bad requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "url: give `url` (a feed, sitemap or page) or `urls`, not both"),
        (
            {"url": "ftp://example.org/rss"},
            "url: ftp: is not fetched: only http and https URLs are",
        ),
        ({"url": "file:///etc/passwd"}, "url: file: is not fetched: only http and https URLs are"),
        ({"url": "http://a/\nb"}, "url: must not contain control characters"),
        (
            {"urls": ["http://a/", "javascript:alert(1)"]},
            "urls: [1] 'javascript:alert(1)': javascript: is not fetched: only http and https "
            "URLs are",
        ),
        (
            {"url": "http://a/", "interval_s": 5},
            "interval_s: input should be greater than or equal to 60",
        ),
        (
            {"url": "http://a/", "kind": "podcast"},
            "kind: input should be 'auto', 'feed', 'sitemap' or 'page'",
        ),
        ({"url": "http://a/", "when": 1}, "when: unknown field"),
    ],
)
def test_a_bad_source_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, Any], message: str
) -> None:
    name = collection(client, "bad")
    got = error_of(add(client, name, body), 422)
    assert got.split(";")[0] == message.split(";")[0]


def test_sources_need_the_key_and_an_existing_collection_and_source(
    client: TestClient, site: Site
) -> None:
    response = client.post("/v1/collections/x/sources", json={"url": site.url("/news/a1.html")})
    assert response.status_code == 401
    error_of(add(client, "no-such-collection", {"url": site.url("/news/a1.html")}), 404)
    error_of(client.get("/v1/collections/no-such-collection/sources"), 404)
    name = collection(client, "nosource")
    message = error_of(client.post(f"/v1/collections/{name}/sources/src-0/poll", headers=AUTH), 404)
    assert message == "no web source with id 'src-0' here"


def test_due_sources_are_polled_once_each_on_their_schedule(client: TestClient, site: Site) -> None:
    from datetime import datetime, timedelta

    from index.store.polling import poll_due

    name = collection(client, "schedule")
    site.pages["/due.xml"] = Page(rss([item(site, "a2", "")]), content_type="application/rss+xml")
    feed = add(client, name, {"url": site.url("/due.xml"), "interval_s": 600}).json()
    page = add(client, name, {"url": site.url("/news/a3.html")}).json()
    [source] = feed["sources"]
    state = client.app.state.ragqa  # type: ignore[attr-defined]
    policy = state.settings.fetch_policy()
    mine = {source["source_id"], page["sources"][0]["source_id"]}

    def polled(moment: str) -> list[Any]:
        return [s for s in poll_due(state.library, policy, moment=moment) if s.source_id in mine]

    assert polled(source["last_poll_at"]) == []  # not due yet
    due = datetime.fromisoformat(source["next_poll_at"]) + timedelta(seconds=1)
    moment = due.isoformat(timespec="milliseconds")
    [done] = polled(moment)
    assert (done.source_id, done.polls[0].outcome) == (source["source_id"], "not_modified")
    assert done.next_poll_at > moment
    assert polled(moment) == []  # claimed and polled: not again at the same moment


def test_the_service_polls_due_sources_in_the_background(
    make_client: Any, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    import service.poller
    from index.store.docstore import sources_table

    monkeypatch.setattr(service.poller, "POLL_TICK_S", 0.2)
    site.pages["/background.xml"] = Page(
        rss([item(site, "a1", "")]), content_type="application/rss+xml"
    )
    with make_client(
        preload=False,
        data_dir=tmp_path / "data",
        api_key=KEY,
        fetch_allow_hosts=["127.0.0.1"],
        poll_sources=True,
    ) as background:
        name = collection(background, "background")
        [source] = add(background, name, {"url": site.url("/background.xml")}).json()["sources"]
        store = background.app.state.ragqa.library.store  # type: ignore[attr-defined]
        with store.transaction() as conn:  # due since long ago
            conn.execute(
                sa.update(sources_table)
                .where(sources_table.c.source_id == source["source_id"])
                .values(next_poll_at="2000-01-01T00:00:00.000+00:00")
            )
        deadline = time.monotonic() + HANG_GUARD_S
        polls = source["polls"]
        while len(polls) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            polls = background.get(f"/v1/collections/{name}/sources").json()[0]["polls"]
    assert [p["outcome"] for p in polls] == ["not_modified", "added"]
