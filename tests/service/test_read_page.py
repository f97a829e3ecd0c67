"""Links a reader can follow: the `url` of every passage and answer, and the read page
(`/read/{doc_id}?start=&end=#cited`) it points to when a document has no `url` of its own."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.service.test_stream import parse_sse

QUESTION = "白银炉能耗降低了多少"
DOC = "000_0ad1dae646fc90f2.txt:0"
READ = "http://testserver/read/000_0ad1dae646fc90f2.txt:0"
ANSWER = "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"


def test_ask_links_the_answer_and_each_passage_to_the_read_page(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": QUESTION, "top_k": 2}).json()
    assert body["answer"]["url"] == f"{READ}?start=993&end=1025#cited"
    # A passage links to its own span (the one holding the answer too), as in search.
    assert [p["url"] for p in body["passages"]] == [
        f"{READ}?start=879&end=1084#cited",
        f"{READ}?start=593&end=877#cited",
    ]


def test_search_and_stream_carry_the_same_links(client: TestClient) -> None:
    found = client.get("/v1/search", params={"q": QUESTION, "top_k": 2}).json()
    assert [p["url"] for p in found["passages"]] == [
        f"{READ}?start=879&end=1084#cited",
        f"{READ}?start=593&end=877#cited",
    ]
    streamed = client.post("/v1/ask/stream", json={"question": QUESTION, "top_k": 2})
    events = dict(e for e in parse_sse(streamed.text) if e[0] != "comment")
    assert [p["url"] for p in events["passages"]["passages"]] == [
        f"{READ}?start=879&end=1084#cited",
        f"{READ}?start=593&end=877#cited",
    ]
    assert [p["url"] for p in events["answer"]["passages"]] == [
        f"{READ}?start=879&end=1084#cited",
        f"{READ}?start=593&end=877#cited",
    ]
    assert events["answer"]["answer"]["url"] == f"{READ}?start=993&end=1025#cited"


def test_the_read_page_shows_the_article_with_the_span_marked(client: TestClient) -> None:
    page = client.get(f"/read/{DOC}", params={"start": 993, "end": 1025})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert "<title>老工业基地焕新转型如何发力</title>" in html
    assert "<h1>老工业基地焕新转型如何发力</h1>" in html
    assert '<p class="meta">未注明日期 · 000_0ad1dae646fc90f2.txt</p>' in html
    assert html.count("<mark") == 1
    assert f'<mark id="cited">{ANSWER}</mark>' in html
    text = client.get(f"/v1/documents/{DOC}").json()["text"]
    assert text[993:1025] == ANSWER
    # Before the mark is the text before the span, escaped (it holds quotes, no markup).
    before = html.split('<div class="text">', 1)[1].split("<mark", 1)[0]
    assert before == text[:993].replace("&", "&amp;").replace('"', "&quot;").replace(
        "'", "&#x27;"
    ).replace("<", "&lt;").replace(">", "&gt;")


def test_the_read_page_without_offsets_marks_nothing(client: TestClient) -> None:
    html = client.get(f"/read/{DOC}").text
    assert "<mark" not in html
    assert "<h1>老工业基地焕新转型如何发力</h1>" in html


def test_bad_offsets_are_a_400_naming_them(client: TestClient) -> None:
    cases: dict[str, str] = {
        "?start=5": "start, end: give both offsets or neither",
        "?end=5": "start, end: give both offsets or neither",
        "?start=a&end=5": "start, end: must be whole numbers (got 'a', '5')",
        "?start=-1&end=5": "start, end: must be whole numbers (got '-1', '5')",
        "?start=5&end=5": "start, end: need 0 <= start < end <= 5354 (the document's length),"
        " got start=5, end=5",
        "?start=0&end=9999": "start, end: need 0 <= start < end <= 5354 (the document's"
        " length), got start=0, end=9999",
    }
    for query, message in cases.items():
        response = client.get(f"/read/{DOC}{query}")
        assert response.status_code == 400, query
        assert response.json() == {"error": {"code": "malformed_request", "message": message}}


def test_an_unknown_document_is_the_usual_404(client: TestClient) -> None:
    response = client.get("/read/nope.txt:0", params={"start": 0, "end": 1})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "document_not_found", "message": "no document with id 'nope.txt:0'"}
    }


def test_the_read_page_is_not_part_of_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/read/")]


def test_a_document_with_its_own_url_links_there_and_is_escaped(docs_server: Any) -> None:
    """On the real server with a key: the read page needs none, and the article is text."""
    import httpx

    from tests.conftest import TEST_API_KEY

    base = docs_server[0]
    auth = {"Authorization": f"Bearer {TEST_API_KEY}"}
    with httpx.Client(base_url=base, timeout=120) as http:
        assert http.put("/v1/collections/reader", headers=auth).status_code in (200, 201)
        posted = http.post(
            "/v1/collections/reader/documents",
            headers=auth,
            json={
                "title": "<b>兰州</b> & 氢能",
                "text": "兰州新区<script>alert(1)</script>氢能产业园开工建设，总投资52亿元。",
                "published": "2025-03-01",
                "source": "甘肃日报",
                "url": "https://example.org/news/1?a=1&b=2",
            },
        )
        assert posted.status_code == 200, posted.text
        (doc_id,) = posted.json()["doc_ids"]
        found = http.get(
            "/v1/search", params={"q": "兰州新区氢能产业园总投资", "collections": "reader"}
        ).json()
        assert [p["url"] for p in found["passages"]] == ["https://example.org/news/1?a=1&b=2"]
        page = http.get(f"/read/{doc_id}", params={"start": 4, "end": 29})
        assert page.status_code == 200
        assert "<h1>&lt;b&gt;兰州&lt;/b&gt; &amp; 氢能</h1>" in page.text
        assert (
            '<p class="meta">2025-03-01 · 甘肃日报 · '
            '<a href="https://example.org/news/1?a=1&amp;b=2" rel="noopener">原文</a></p>'
        ) in page.text
        assert (
            '兰州新区<mark id="cited">&lt;script&gt;alert(1)&lt;/script&gt;</mark>氢能' in page.text
        )
        assert "<script>" not in page.text

        chat = http.post(
            "/v1/chat/completions",
            json={
                "model": "ragqa-extractive",
                "messages": [{"role": "user", "content": "兰州新区氢能产业园总投资多少"}],
                "collections": ["reader"],
            },
        ).json()
        content = chat["choices"][0]["message"]["content"]
        # The title's Markdown is escaped, the link is the article's own, the date shown.
        assert content.endswith(
            "\n\nSources:\n\n[1] [\\<b\\>兰州\\</b\\> & 氢能]"
            "(<https://example.org/news/1?a=1&b=2>) · 2025-03-01"
        )
        assert chat["references"][0]["doc_id"] == doc_id
