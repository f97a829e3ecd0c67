"""The documents API over the real server, store and index: collections, writes, filters.

One server per pair of backends (`api_server`: `docs_server` on FAISS, `milvus_docs_server` on
milvus-lite, each with its own SQLite store; `postgres_docs_server` and
`milvus_postgres_docs_server`, the same two with the store in a database of their own on a
real PostgreSQL server; each its own segments, the seed corpus imported into `default`) is
shared; each test writes into collections of its own, so the tests do not depend on their
order. Every test runs on every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_API_KEY
from tests.news_fixtures import HYDROGEN as _HYDROGEN
from tests.news_fixtures import WIND as _WIND
from tests.service.conftest import DOCS_MAX_FILE_BYTES as MAX_FILE_BYTES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
FIXTURES = ROOT / "tests" / "corpus" / "fixtures"
ENCRYPTED_PDF = (FIXTURES / "encrypted.pdf").read_bytes()
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

HYDROGEN = {**_HYDROGEN, "metadata": {"desk": "economy", "lang": "zh"}}
WIND = {**_WIND, "metadata": {"desk": "energy", "lang": "zh"}}


@pytest.fixture(scope="module")
def http(api_server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server[0], timeout=120) as client:
        yield client


def make_collection(http: httpx.Client, name: str) -> None:
    response = http.put(f"/v1/collections/{name}", headers=AUTH)
    assert response.status_code in (200, 201), response.text


def post(http: httpx.Client, collection: str, body: Any) -> httpx.Response:
    return http.post(f"/v1/collections/{collection}/documents", json=body, headers=AUTH)


def ask(http: httpx.Client, question: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/v1/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["message"])


def state(http: httpx.Client) -> tuple[Any, Any]:
    """Everything stored, as the API shows it (to check a refused request changed nothing)."""
    return http.get("/v1/collections").json(), http.get("/v1/documents").json()


# -- collections -----------------------------------------------------------------------------


def test_the_seed_corpus_is_collection_default(http: httpx.Client) -> None:
    collections = {c["name"]: c for c in http.get("/v1/collections").json()}
    assert collections["default"]["documents"] == 13
    documents = http.get("/v1/documents", params={"collection": "default"}).json()
    assert len(documents) == 13
    assert {d["collection"] for d in documents} == {"default"}
    detail = http.get("/v1/documents/000_0ad1dae646fc90f2.txt:0").json()
    assert detail["collection"] == "default"
    assert detail["metadata"] == {}


def test_the_readme_example_gives_the_same_answer_as_before(
    http: httpx.Client, engine: Any, request: pytest.FixtureRequest
) -> None:
    """The store-backed server answers exactly as the plain index of the seed corpus does.

    On Milvus the passage scores agree to 1e-3, not to the bit: its BM25 is Milvus' own
    implementation in float32 (the same ranking as bm25s, tests/index/test_milvus.py), and
    the fitted re-scoring weights carry its last-digit differences into the fourth decimal
    of a score (1.1080 against 1.1079, 2026-12-02). Everything else is exact."""
    from service.schemas import AskResponse

    body = ask(http, "白银炉能耗降低了多少", top_k=2)
    assert body["answer"]["text"] == "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
    assert body["answer"]["char_start"] == 993
    plain = AskResponse.model_validate(engine.ask("白银炉能耗降低了多少", 2)).model_dump(
        mode="json"
    )
    if "milvus" in request.node.callspec.id:
        scores = [p.pop("score") for p in body["passages"]]
        assert scores == pytest.approx([p.pop("score") for p in plain["passages"]], abs=1e-3)
    # The server links each citation to its read page on the base URL it was asked on; the
    # engine in-process has no server to link to.
    base = str(http.base_url).rstrip("/")
    assert [p.pop("url") for p in body["passages"]] == [
        f"{base}/read/000_0ad1dae646fc90f2.txt:0?start={p['char_start']}&end={p['char_end']}#cited"
        for p in plain["passages"]
    ]
    assert body["answer"].pop("url") == (
        f"{base}/read/000_0ad1dae646fc90f2.txt:0?start=993&end=1025#cited"
    )
    for cited in [*plain["passages"], plain["answer"]]:
        assert cited.pop("url") is None
    assert {**body, "took_ms": 0} == {**plain, "took_ms": 0}


def test_collections_are_created_listed_and_dropped(http: httpx.Client) -> None:
    assert http.put("/v1/collections/区县新闻", headers=AUTH).status_code == 201
    again = http.put("/v1/collections/区县新闻", headers=AUTH)
    assert again.status_code == 200
    assert again.json()["documents"] == 0
    assert post(http, "区县新闻", HYDROGEN).status_code == 200
    listed = {c["name"]: c["documents"] for c in http.get("/v1/collections").json()}
    assert listed["区县新闻"] == 1
    dropped = http.delete("/v1/collections/区县新闻", headers=AUTH)
    assert dropped.json() == {"name": "区县新闻", "deleted_documents": 1}
    assert "区县新闻" not in {c["name"] for c in http.get("/v1/collections").json()}
    error_of(http.delete("/v1/collections/区县新闻", headers=AUTH), 404)


# -- writes ----------------------------------------------------------------------------------


def test_a_posted_document_is_answerable_with_its_citation(http: httpx.Client) -> None:
    make_collection(http, "answerable")
    response = post(http, "answerable", HYDROGEN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skipped"] == [] and body["embedded_documents"] == 1
    (written,) = body["documents"]
    assert written["status"] == "created" and body["doc_ids"] == [written["doc_id"]]
    result = ask(http, "兰州新区氢能产业园每年可生产多少辆氢燃料电池汽车")
    answer = result["answer"]
    assert answer["doc_id"] == written["doc_id"]
    assert "6800辆" in answer["text"]
    document = http.get(f"/v1/documents/{written['doc_id']}").json()
    assert document["text"][answer["char_start"] : answer["char_end"]] == answer["text"]
    assert document["collection"] == "answerable"
    assert document["metadata"] == {"desk": "economy", "lang": "zh"}
    assert document["source"] == "甘肃日报" and document["published"] == "2025-03-01"


def test_posting_the_same_content_again_is_idempotent(http: httpx.Client) -> None:
    make_collection(http, "idempotent")
    first = post(http, "idempotent", [HYDROGEN, WIND]).json()
    again = post(http, "idempotent", [HYDROGEN, WIND]).json()
    assert again["doc_ids"] == first["doc_ids"]
    assert [d["status"] for d in again["documents"]] == ["unchanged", "unchanged"]
    assert again["embedded_documents"] == 0
    listed = http.get("/v1/documents", params={"collection": "idempotent"}).json()
    assert sorted(d["doc_id"] for d in listed) == sorted(first["doc_ids"])


def test_pre_chunked_passages_are_kept_as_given(http: httpx.Client) -> None:
    make_collection(http, "prechunked")
    passages = [
        "敦煌光热电站的熔盐储热可以连续发电15小时。",
        "电站年发电量3.9亿千瓦时，每年减少二氧化碳排放35万吨。",
    ]
    body = post(http, "prechunked", {"title": "敦煌光热电站", "passages": passages}).json()
    (doc_id,) = body["doc_ids"]
    document = http.get(f"/v1/documents/{doc_id}").json()
    assert document["text"] == "\n\n".join(passages)
    assert document["n_passages"] == 2
    found = http.get(
        "/v1/search", params={"q": "敦煌光热电站年发电量", "collections": "prechunked"}
    ).json()
    assert sorted(p["text"] for p in found["passages"]) == sorted(passages)


def test_put_replaces_a_document_and_delete_removes_it(http: httpx.Client) -> None:
    make_collection(http, "replace")
    path = "/v1/collections/replace/documents/wind-2025"
    created = http.put(path, json=WIND, headers=AUTH).json()
    assert created["documents"][0]["status"] == "created"
    changed = {**WIND, "text": WIND["text"].replace("2150万千瓦", "2380万千瓦")}
    replaced = http.put(path, json=changed, headers=AUTH).json()
    assert replaced["documents"][0] == {
        "doc_id": "wind-2025",
        "status": "replaced",
        "item": "document",
        "title": WIND["title"],
    }
    assert "2380万千瓦" in http.get("/v1/documents/wind-2025").json()["text"]
    found = http.get("/v1/search", params={"q": "酒泉风电装机容量", "collections": "replace"})
    texts = [p["text"] for p in found.json()["passages"]]
    assert texts and all("2150万千瓦" not in t for t in texts)
    assert http.delete(path, headers=AUTH).json() == {
        "doc_id": "wind-2025",
        "collection": "replace",
        "deleted": True,
    }
    error_of(http.get("/v1/documents/wind-2025"), 404)
    gone = http.get("/v1/search", params={"q": "酒泉风电装机容量", "collections": "replace"})
    assert gone.json()["passages"] == []
    error_of(http.delete(path, headers=AUTH), 404)


def test_a_taken_id_with_other_content_is_skipped_by_post(http: httpx.Client) -> None:
    make_collection(http, "taken")
    assert post(http, "taken", {**WIND, "doc_id": "w1"}).status_code == 200
    body = post(http, "taken", {**HYDROGEN, "doc_id": "w1"}).json()
    assert body["doc_ids"] == []
    (skipped,) = body["skipped"]
    assert skipped["item"] == "document" and "PUT" in skipped["reason"]
    assert http.get("/v1/documents/w1").json()["title"] == WIND["title"]


def test_uploaded_files_go_through_the_corpus_code(http: httpx.Client) -> None:
    make_collection(http, "uploads")
    gbk = "天水苹果出口\n\n2025年天水市苹果出口量达到12万吨，主要销往东南亚。".encode("gbk")
    big5 = "臺灣茶葉\n\n阿里山高山茶今年產量為三百噸，比去年增加一成。".encode("big5")
    jsonl = "\n".join(
        [
            json.dumps({"title": "定西马铃薯", "text": "定西马铃薯年产量达到580万吨。"}),
            "{not json",
            json.dumps({"title": "空的", "text": ""}),
        ]
    )
    html = (
        "<html><head><title>张掖湿地</title></head><body><article><h1>张掖湿地</h1>"
        "<p>张掖国家湿地公园面积达到4.1万亩，是候鸟迁徙的重要驿站，每年有上万只候鸟在此停留。"
        "</p></article></body></html>"
    )
    files = [
        ("files", ("tianshui.txt", gbk, "text/plain")),
        ("files", ("alishan.md", big5, "text/markdown")),
        ("files", ("dingxi.jsonl", jsonl.encode(), "application/jsonl")),
        ("files", ("zhangye.html", html.encode(), "text/html")),
    ]
    response = http.post("/v1/collections/uploads/documents", files=files, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["item"] for d in body["documents"]] == [
        "tianshui.txt",
        "alishan.md",
        "dingxi.jsonl",
        "zhangye.html",
    ]
    assert [s["item"] for s in body["skipped"]] == ["dingxi.jsonl:2", "dingxi.jsonl:3"]
    by_item = {d["item"]: d["doc_id"] for d in body["documents"]}
    tianshui = http.get(f"/v1/documents/{by_item['tianshui.txt']}").json()
    assert "12万吨" in tianshui["text"] and tianshui["source"] == "tianshui.txt"
    assert "三百噸" in http.get(f"/v1/documents/{by_item['alishan.md']}").json()["text"]
    result = ask(http, "天水市苹果出口量是多少", collections=["uploads"])
    assert result["answer"] is not None and "12万吨" in result["answer"]["text"]


def test_pdf_and_docx_uploads_keep_pages_and_character_boxes(http: httpx.Client) -> None:
    """A two-column e-paper PDF and a Word file over multipart: each splits into its two
    articles, the Word file's the same two as the PDF's (stored as their aliases); a cited
    span is the stored text at its offsets, and the PDF's layout gives the span's page and
    the box of each of its characters."""
    from corpus.charboxes import Layout

    make_collection(http, "papers")
    files = [
        ("files", (name, (FIXTURES / name).read_bytes(), kind))
        for name, kind in [
            ("epaper-two-columns.pdf", "application/pdf"),
            ("two-articles.docx", DOCX_TYPE),
        ]
    ]
    response = http.post("/v1/collections/papers/documents", files=files, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(d["item"], d["title"], d["status"]) for d in body["documents"]] == [
        ("epaper-two-columns.pdf:0", "兰州新区氢能产业园开工建设", "created"),
        ("epaper-two-columns.pdf:1", "河西走廊风电项目并网发电", "created"),
        ("two-articles.docx:0", "兰州新区氢能产业园开工建设", "duplicate"),
        ("two-articles.docx:1", "河西走廊风电项目并网发电", "duplicate"),
    ]
    ids = {d["item"]: d["doc_id"] for d in body["documents"]}
    stored = {item: http.get(f"/v1/documents/{i}").json() for item, i in ids.items()}
    first = stored["epaper-two-columns.pdf:0"]
    assert first["published"] == "2025-01-22" and first["source"] == "epaper-two-columns.pdf"
    assert {k: v for k, v in first["metadata"].items() if k != "layout"} == {"page": "1"}
    assert ids["two-articles.docx:0"] == ids["epaper-two-columns.pdf:0"]
    assert ids["two-articles.docx:1"] == ids["epaper-two-columns.pdf:1"]
    assert [a["source"] for a in first["aliases"]] == ["two-articles.docx"]

    result = ask(http, "河西走廊风电项目每年可减少多少二氧化碳排放", collections=["papers"])
    answer = result["answer"]
    assert answer is not None
    assert answer["text"] == (
        "该项目安装单机容量6.25兆瓦的风电机组160台，配套建设储能电站，每年可减少二氧化碳排放约200万吨。"
    )
    cited = [answer, *result["passages"]]
    pdf_ids = {ids["epaper-two-columns.pdf:0"], ids["epaper-two-columns.pdf:1"]}
    assert any(c["doc_id"] in pdf_ids for c in cited)
    by_id = {d["doc_id"]: d for d in stored.values()}
    for c in cited:
        document = by_id[c["doc_id"]]
        assert document["text"][c["char_start"] : c["char_end"]] == c["text"]
        if c["doc_id"] in pdf_ids:
            layout = Layout.from_json(document["metadata"]["layout"])
            located = layout.locate(c["char_start"], c["char_end"])
            assert [p.page for p in located] == [1]
            assert len(located[0].boxes) == sum(not ch.isspace() for ch in c["text"])


def test_a_long_pdf_article_is_stored_and_searchable_with_its_whole_layout(
    http: httpx.Client,
) -> None:
    """A 12,000-character article: its layout (80 KB of JSON, more than the 65,536 bytes Milvus
    documents for a JSON field; Milvus rows do not copy it) is kept whole in the document, and
    its passages are indexed and cited on every backend."""
    from corpus.charboxes import Layout

    make_collection(http, "long-pdf")
    data = (FIXTURES / "long-article.pdf").read_bytes()
    files = [("files", ("long-article.pdf", data, "application/pdf"))]
    response = http.post("/v1/collections/long-pdf/documents", files=files, headers=AUTH)
    assert response.status_code == 200, response.text
    (written,) = response.json()["documents"]
    assert written["title"] == "兰州新区产业项目建设综述"
    document = http.get(f"/v1/documents/{written['doc_id']}").json()
    assert len(document["text"]) == 11_972
    assert len(document["metadata"]["layout"]) == 80_599
    layout = Layout.from_json(document["metadata"]["layout"])
    end = len(document["text"])
    assert sum(len(p.boxes) for p in layout.locate(0, end)) == sum(
        not c.isspace() for c in document["text"]
    )
    found = http.get(
        "/v1/search", params={"q": "兰州新区新材料产业", "collections": "long-pdf", "top_k": 3}
    ).json()["passages"]
    assert len(found) == 3
    for passage in found:
        start, stop = passage["char_start"], passage["char_end"]
        assert document["text"][start:stop] == passage["text"]
        assert layout.page_of(start, stop) == 1


# -- filters and collections on questions ----------------------------------------------------


@pytest.fixture(scope="module")
def filtered(http: httpx.Client) -> dict[str, str]:
    make_collection(http, "news-a")
    make_collection(http, "news-b")
    a = post(http, "news-a", HYDROGEN).json()["doc_ids"][0]
    b = post(http, "news-b", WIND).json()["doc_ids"][0]
    return {"a": a, "b": b}


def test_one_merged_ranking_covers_several_collections(
    http: httpx.Client, filtered: dict[str, str]
) -> None:
    both = ask(http, "新区和风电的新项目", collections=["news-a", "news-b"], top_k=5)
    assert {p["doc_id"] for p in both["passages"]} == {filtered["a"], filtered["b"]}
    scores = [p["score"] for p in both["passages"]]
    assert scores == sorted(scores, reverse=True)
    assert [p["rank"] for p in both["passages"]] == list(range(1, len(scores) + 1))
    only_b = ask(http, "新区和风电的新项目", collections=["news-b"], top_k=5)
    assert {p["doc_id"] for p in only_b["passages"]} == {filtered["b"]}
    everything = ask(http, "酒泉风电装机容量达到多少", top_k=5)
    assert filtered["b"] in {p["doc_id"] for p in everything["passages"]}


def test_every_cited_span_is_the_stored_text_at_its_offsets(
    http: httpx.Client, filtered: dict[str, str]
) -> None:
    """The offsets invariant, on ask, search and the stream: text == document[start:end]."""
    lines = (ROOT / "eval" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][:10]
    questions.append("兰州新区氢能产业园每年可生产多少辆氢燃料电池汽车")
    texts: dict[str, str] = {}

    def text_of(doc_id: str) -> str:
        if doc_id not in texts:
            texts[doc_id] = http.get(f"/v1/documents/{doc_id}").json()["text"]
        return texts[doc_id]

    checked = 0
    for question in questions:
        result = ask(http, question, top_k=5)
        found = http.get("/v1/search", params={"q": question, "top_k": 5}).json()["passages"]
        for passage in result["passages"] + found:
            start, end = passage["char_start"], passage["char_end"]
            assert text_of(passage["doc_id"])[start:end] == passage["text"]
            checked += 1
        answer = result["answer"]
        if answer is not None:
            start, end = answer["char_start"], answer["char_end"]
            assert text_of(answer["doc_id"])[start:end] == answer["text"]
    assert checked == 2 * 5 * len(questions)
    stream = http.post("/v1/ask/stream", json={"question": questions[0], "top_k": 3})
    events = [
        json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data: ")
    ]
    streamed = [p for e in events if "passages" in e for p in e["passages"]]
    assert streamed
    for passage in streamed:
        start, end = passage["char_start"], passage["char_end"]
        assert text_of(passage["doc_id"])[start:end] == passage["text"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"published_from": "2025-03-01", "published_to": "2025-03-01"}, {"a"}),
        ({"published_from": "2025-05-01"}, {"b"}),
        ({"source": ["酒泉日报", "别的报纸"]}, {"b"}),
        ({"metadata": {"desk": "economy"}}, {"a"}),
        ({"metadata": {"lang": "zh"}}, {"a", "b"}),
    ],
)
def test_filters_restrict_the_documents(
    http: httpx.Client, filtered: dict[str, str], filters: dict[str, Any], expected: set[str]
) -> None:
    result = ask(http, "新项目的规模", collections=["news-a", "news-b"], filters=filters, top_k=10)
    assert {p["doc_id"] for p in result["passages"]} == {filtered[k] for k in expected}


def test_a_filter_matching_nothing_returns_nothing(
    http: httpx.Client, filtered: dict[str, str]
) -> None:
    nothing = {"published_from": "2030-01-01"}
    result = ask(http, "酒泉风电装机容量达到多少", filters=nothing)
    assert result["passages"] == [] and result["answer"] is None
    undated_seed = ask(http, "白银炉能耗降低了多少", filters={"published_to": "2100-01-01"})
    assert all(p["published"] is not None for p in undated_seed["passages"])
    search = http.get(
        "/v1/search", params={"q": "风电", "metadata": "desk:sports", "source": "酒泉日报"}
    )
    assert search.json()["passages"] == []
    stream = http.post(
        "/v1/ask/stream", json={"question": "风电装机", "filters": {"source": ["没有这个来源"]}}
    )
    assert '"passages":[]' in stream.text.replace(" ", "")
    assert '"answer":null' in stream.text.replace(" ", "")


def test_search_takes_collections_and_filters_as_parameters(
    http: httpx.Client, filtered: dict[str, str]
) -> None:
    found = http.get(
        "/v1/search",
        params={"q": "装机", "collections": "news-a,news-b", "published_from": "2025-07-01"},
    ).json()
    assert {p["doc_id"] for p in found["passages"]} == {filtered["b"]}


def test_dify_filters_collections_and_urls_come_from_the_store(
    http: httpx.Client, filtered: dict[str, str]
) -> None:
    """Dify's knowledge_id is a collection, its conditions restrict the candidates (metadata
    too), `or` is one ranking over the union, and `url` is the document's own."""

    def records(knowledge: str, condition: dict[str, Any] | None = None) -> list[Any]:
        body: dict[str, Any] = {
            "knowledge_id": knowledge,
            "query": "新项目的规模",
            "retrieval_setting": {"top_k": 10, "score_threshold": 0.0},
        }
        if condition is not None:
            body["metadata_condition"] = condition
        response = http.post("/retrieval", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        return list(response.json()["records"])

    def desk(value: str) -> dict[str, Any]:
        return {"name": "desk", "comparison_operator": "is", "value": value}

    only_a = records("news-a")
    assert {r["metadata"]["document_id"] for r in only_a} == {filtered["a"]}
    assert {r["metadata"]["url"] for r in only_a} == {None}
    make_collection(http, "dify-urls")
    linked = post(http, "dify-urls", {**WIND, "url": "https://example.org/wind"}).json()
    found = records("dify-urls")
    assert {r["metadata"]["url"] for r in found} == {"https://example.org/wind"}
    assert {r["metadata"]["document_id"] for r in found} == set(linked["doc_ids"])
    either = {"logical_operator": "or", "conditions": [desk("economy"), desk("sports")]}
    assert {r["metadata"]["document_id"] for r in records("news-a", either)} == {filtered["a"]}
    assert records("news-b", either) == []
    both = {"logical_operator": "and", "conditions": [desk("energy"), desk("economy")]}
    assert records("news-b", both) == []


# -- bad input: a 4xx naming the field or file, and nothing stored changes --------------------


def test_bad_documents_are_refused_naming_the_field(http: httpx.Client) -> None:
    make_collection(http, "strict")
    before = state(http)
    cases = [
        ({**HYDROGEN, "text": "   "}, 422, "document.text: must not be empty"),
        ({**HYDROGEN, "title": "长" * 501}, 422, "document.title: must be at most 500"),
        ({**HYDROGEN, "published": "2025-13-40"}, 422, "document.published: must be a date"),
        ({**HYDROGEN, "published": "yesterday"}, 422, "document.published"),
        ([HYDROGEN, {**WIND, "title": ""}], 422, "documents[1].title: must not be empty"),
        (
            [{**HYDROGEN, "doc_id": "x"}, {**WIND, "doc_id": "x"}],
            422,
            "documents[1].doc_id: same id 'x' as documents[0]",
        ),
        ([HYDROGEN, HYDROGEN], 422, "documents[1]: same id"),
        ([HYDROGEN] * 1001, 422, "at most 1000 documents"),
        ({**HYDROGEN, "colour": "red"}, 422, "document.colour"),
        ({**HYDROGEN, "passages": ["不在正文里的段落"]}, 422, "document.passages[0]"),
        # PostgreSQL text cannot hold NUL, so no store takes it (the same answer on SQLite)
        (
            {**HYDROGEN, "text": "正文\u0000"},
            422,
            "document.text: must not contain U+0000 (NUL), found at character 2",
        ),
        ([WIND, {**HYDROGEN, "title": "\u0000"}], 422, "documents[1].title: must not contain"),
        ({**HYDROGEN, "url": "https://a.example/\u0000"}, 422, "document.url: must not contain"),
        ({**HYDROGEN, "source": "甘肃\u0000日报"}, 422, "document.source: must not contain"),
    ]
    for body, status, message in cases:
        assert message in error_of(post(http, "strict", body), status), body
    assert "body: malformed JSON" in error_of(
        http.post(
            "/v1/collections/strict/documents",
            content=b'{"title": ',
            headers={**AUTH, "Content-Type": "application/json"},
        ),
        400,
    )
    assert state(http) == before


def test_bad_files_are_refused_naming_the_file(http: httpx.Client) -> None:
    make_collection(http, "strict-files")
    before = state(http)
    ok = ("files", ("ok.txt", "好的文件\n\n这是一段正常的正文内容。".encode(), "text/plain"))
    cases = [
        (
            [ok, ("files", ("report.doc", b"\xd0\xcf\x11\xe0", "application/msword"))],
            415,
            "report.doc",
        ),
        ([ok, ("files", ("report.pdf", b"%PDF-1.7", "application/pdf"))], 422, "report.pdf"),
        ([ok, ("files", ("locked.pdf", ENCRYPTED_PDF, "application/pdf"))], 422, "locked.pdf"),
        ([ok, ("files", ("story.docx", b"not a zip", DOCX_TYPE))], 422, "story.docx"),
        ([ok, ("files", ("big.txt", b"a" * (MAX_FILE_BYTES + 1), "text/plain"))], 413, "big.txt"),
        ([ok, ("files", ("binary.txt", bytes(range(256)) * 4, "text/plain"))], 422, "binary.txt"),
        ([ok, ("files", ("empty.md", b"   \n", "text/markdown"))], 422, "empty.md"),
        ([ok, ("files", ("noise.txt", b"\xff\xfe\xfa" * 50, "text/plain"))], 422, "noise.txt"),
    ]
    messages = {}
    for files, status, name in cases:
        response = http.post("/v1/collections/strict-files/documents", files=files, headers=AUTH)
        messages[name] = error_of(response, status)
        assert name in messages[name]
    assert messages["locked.pdf"] == (
        "locked.pdf: encrypted PDF: it needs a password; send a decrypted copy"
    )
    assert messages["story.docx"] == (
        "story.docx: not a Word .docx file (not a zip archive; save an old .doc as .docx)"
    )
    assert messages["report.pdf"].startswith("report.pdf: not a readable PDF (")
    response = http.post(
        "/v1/collections/strict-files/documents",
        content=b"title=x",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "content-type" in error_of(response, 415)
    assert state(http) == before


def test_nul_in_a_jsonl_file_is_cleaned_from_the_text_and_refused_in_the_url(
    http: httpx.Client,
) -> None:
    make_collection(http, "strict-nul")
    before = state(http)
    bad_url = {**WIND, "url": "https://a.example/\u0000"}
    upload = ("archive.jsonl", f"{json.dumps(HYDROGEN)}\n{json.dumps(bad_url)}".encode())
    response = http.post(
        "/v1/collections/strict-nul/documents", files=[("files", upload)], headers=AUTH
    )
    assert error_of(response, 422) == (
        "archive.jsonl:2.url: must not contain U+0000 (NUL), found at character 18: the "
        "document store cannot hold it (PostgreSQL text refuses it)"
    )
    assert state(http) == before
    # A file's text is cleaned as the corpus is: control characters, NUL too, are removed.
    upload = (
        "a.jsonl",
        json.dumps({**HYDROGEN, "text": "兰州\u0000新区氢能产业园开工。"}).encode(),
    )
    response = http.post(
        "/v1/collections/strict-nul/documents", files=[("files", upload)], headers=AUTH
    )
    assert response.status_code == 200, response.text
    [doc_id] = response.json()["doc_ids"]
    assert http.get(f"/v1/documents/{doc_id}").json()["text"] == "兰州新区氢能产业园开工。"


def test_unknown_and_bad_collections_are_refused(http: httpx.Client) -> None:
    before = state(http)
    assert "nowhere" in error_of(post(http, "nowhere", HYDROGEN), 404)
    assert "nowhere" in error_of(
        http.post("/v1/ask", json={"question": "风电", "collections": ["nowhere"]}), 404
    )
    error_of(http.get("/v1/search", params={"q": "风电", "collections": "nowhere"}), 404)
    error_of(http.get("/v1/documents", params={"collection": "nowhere"}), 404)
    for name in ("a..b", "a%2Fb", "x" * 65):
        assert "collection:" in error_of(http.put(f"/v1/collections/{name}", headers=AUTH), 422)
    assert "collection:" in error_of(post(http, "a..b", HYDROGEN), 422)
    # A path another route serves is not a collection name: 405, naming every method it has.
    wrong = http.put("/v1/collections/default/documents", json=HYDROGEN, headers=AUTH)
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    assert http.request("PATCH", "/v1/collections/default").headers["allow"] == "DELETE, PUT"
    assert state(http) == before


def test_bad_filters_are_refused_naming_the_field(http: httpx.Client) -> None:
    cases = [
        ({"filters": {"published_from": "2025/01/01"}}, "filters.published_from"),
        ({"filters": {"sources": ["x"]}}, "filters.sources"),
        ({"collections": []}, "collections: must name at least one"),
    ]
    for extra, message in cases:
        response = http.post("/v1/ask", json={"question": "风电", **extra})
        assert message in error_of(response, 422)
    error_of(http.get("/v1/search", params={"q": "风电", "metadata": "nocolon"}), 422)


def test_every_write_needs_the_api_key(http: httpx.Client) -> None:
    before = state(http)
    for method, path in [
        ("PUT", "/v1/collections/keyless"),
        ("DELETE", "/v1/collections/default"),
        ("POST", "/v1/collections/default/documents"),
        ("PUT", "/v1/collections/default/documents/x"),
        ("DELETE", "/v1/collections/default/documents/000_0ad1dae646fc90f2.txt:0"),
    ]:
        response = http.request(method, path, json=HYDROGEN)
        assert response.status_code == 401, (method, path)
    assert state(http) == before


def test_every_new_route_is_in_openapi_with_examples(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/v1/collections/{collection}/documents"]) == {"post"}
    assert set(paths["/v1/collections/{collection}/documents/{doc_id}"]) == {"put", "delete"}
    assert set(paths["/v1/collections/{collection}"]) == {"put", "delete"}
    assert "get" in paths["/v1/collections"]
    post_body = paths["/v1/collections/{collection}/documents"]["post"]["requestBody"]
    assert set(post_body["content"]) == {"application/json", "multipart/form-data"}
    assert post_body["content"]["application/json"]["examples"]
    assert post_body["content"]["application/json"]["schema"]["oneOf"][0]["examples"]
    assert spec["components"]["schemas"]["DocumentContent"]["examples"]  # PUT's body
    ask_schema = spec["components"]["schemas"]["AskRequest"]["properties"]
    assert {"collections", "filters"} <= set(ask_schema)
