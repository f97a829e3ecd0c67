"""The news fields of an uploaded page (byline, reporters, paper, page, place, date) reach the
citations and filter through the shared scope vocabulary: `/v1/ask` and `/v1/search`, on each
index backend (`api_server`: FAISS and Milvus, and PostgreSQL stores where marked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ragqa.langchain import RagqaRetriever
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
COLLECTION = "news-fields"
QUESTION = "兰州新区氢能产业园总投资多少"

EPAPER = """网站首页
数字报首页
兰州新区氢能产业园开工建设
2025年03月01日
字数：1,024
版次：03

本报讯（记者 张三）3月1日，兰州新区氢能产业园开工建设，总投资52亿元。
园区建成后每年可生产氢燃料电池汽车6800辆。
"""
WIRE = """甘肃日报 2025年3月2日 星期日 第05版

兰州新区氢能产业园首批企业签约

新华社兰州3月1日电（记者 李四 王五）兰州新区氢能产业园首批9家企业签约入园，总投资30亿元。
"""

CITED_FIELDS = ("title", "published", "byline", "reporters", "newspaper", "paper_page", "place")
EPAPER_FIELDS = {
    "title": "兰州新区氢能产业园开工建设",
    "published": "2025-03-01",
    "byline": "记者 张三",
    "reporters": ["张三"],
    "newspaper": None,
    "paper_page": "3",
    "place": None,
}
WIRE_FIELDS = {
    "title": "兰州新区氢能产业园首批企业签约",
    "published": "2025-03-02",
    "byline": "记者 李四 王五",
    "reporters": ["李四", "王五"],
    "newspaper": "甘肃日报",
    "paper_page": "5",
    "place": "兰州",
}


@pytest.fixture(scope="module")
def pages(api_server: tuple[str, Path]) -> dict[str, str]:
    """The two pages uploaded as files into their collection; their doc ids by name."""
    base, _ = api_server
    with httpx.Client(base_url=base, timeout=120, headers=AUTH) as http:
        assert http.put(f"/v1/collections/{COLLECTION}").status_code in (200, 201)
        files = [("files", ("epaper.txt", EPAPER.encode())), ("files", ("wire.txt", WIRE.encode()))]
        added = http.post(f"/v1/collections/{COLLECTION}/documents", files=files)
        assert added.status_code == 200, added.text
        ids = [d["doc_id"] for d in added.json()["documents"]]
    return dict(zip(("epaper", "wire"), ids, strict=True))


def ask(base: str, **filters: Any) -> dict[str, Any]:
    body = {"question": QUESTION, "top_k": 5, "collections": [COLLECTION], "filters": filters}
    response = httpx.post(f"{base}/v1/ask", json=body, headers=AUTH, timeout=120)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def fields(passage: dict[str, Any]) -> dict[str, Any]:
    return {k: passage[k] for k in CITED_FIELDS}


def test_passages_and_answers_cite_the_news_fields(
    api_server: tuple[str, Path], pages: dict[str, str]
) -> None:
    result = ask(api_server[0])
    by_doc = {p["doc_id"]: fields(p) for p in result["passages"]}
    assert by_doc == {pages["epaper"]: EPAPER_FIELDS, pages["wire"]: WIRE_FIELDS}
    answer = result["answer"]
    assert answer is not None
    assert fields(answer) == by_doc[answer["doc_id"]]


def test_ask_filters_by_reporter(api_server: tuple[str, Path], pages: dict[str, str]) -> None:
    for reporter, name in (("张三", "epaper"), ("王五", "wire"), ("李四", "wire")):
        result = ask(api_server[0], reporter=[reporter])
        assert {p["doc_id"] for p in result["passages"]} == {pages[name]}, reporter
        assert result["answer"]["doc_id"] == pages[name]
    # a name that is part of no reporter's name, or a part of one, matches nothing
    for absent in ("赵六", "张"):
        result = ask(api_server[0], reporter=[absent])
        assert (result["answer"], result["passages"]) == (None, [])


def test_ask_filters_by_newspaper_page_and_place(
    api_server: tuple[str, Path], pages: dict[str, str]
) -> None:
    base = api_server[0]
    wire = {pages["wire"]}
    assert {p["doc_id"] for p in ask(base, newspaper=["甘肃日报"])["passages"]} == wire
    assert {p["doc_id"] for p in ask(base, place=["兰州"])["passages"]} == wire
    assert {p["doc_id"] for p in ask(base, paper_page=["05"])["passages"]} == wire
    assert {p["doc_id"] for p in ask(base, paper_page=[3])["passages"]} == {pages["epaper"]}
    both = ask(base, paper_page=["3", "5"], reporter=["张三", "李四"])["passages"]
    assert {p["doc_id"] for p in both} == set(pages.values())


def test_search_takes_the_news_filters_as_query_parameters(
    api_server: tuple[str, Path], pages: dict[str, str]
) -> None:
    params = {"q": QUESTION, "collections": COLLECTION, "reporter": "张三", "paper_page": "03"}
    response = httpx.get(f"{api_server[0]}/v1/search", params=params, headers=AUTH, timeout=120)
    assert response.status_code == 200, response.text
    passages = response.json()["passages"]
    assert [fields(p) for p in passages] == [EPAPER_FIELDS]
    assert {p["doc_id"] for p in passages} == {pages["epaper"]}


def test_langchain_over_http_sends_the_news_filters(
    api_server: tuple[str, Path], pages: dict[str, str]
) -> None:
    scope = {"collections": [COLLECTION], "filters": {"reporter": ["王五"], "paper_page": ["05"]}}
    docs = RagqaRetriever(base_url=api_server[0], **scope).invoke(QUESTION)
    assert docs and {d.metadata["doc_id"] for d in docs} == {pages["wire"]}


def test_a_page_that_is_not_a_number_is_refused_naming_it(api_server: tuple[str, Path]) -> None:
    body = {"question": QUESTION, "filters": {"paper_page": ["第五版"]}}
    response = httpx.post(f"{api_server[0]}/v1/ask", json=body, headers=AUTH, timeout=120)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "filters.paper_page" in message and "must be a page number like 7 or 07" in message
