"""The happy paths of /work/shared/API.md, checked field by field against the real engine."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

QUESTION = "酒钢集团的产品种类扩展到了多少个"
NEWS_FIELDS = {"byline", "reporters", "newspaper", "paper_page", "place"}
"""What the article's page states besides title and date (null or [] where it states none)."""
PASSAGE_FIELDS = NEWS_FIELDS | {
    "rank",
    "score",
    "text",
    "doc_id",
    "title",
    "source",
    "published",
    "char_start",
    "char_end",
    "highlight",
    "url",
    "aliases",
}
ANSWER_FIELDS = NEWS_FIELDS | {
    "text",
    "doc_id",
    "title",
    "source",
    "published",
    "char_start",
    "char_end",
    "passage_rank",
    "url",
    "aliases",
}
SUMMARY_FIELDS = NEWS_FIELDS | {
    "doc_id",
    "title",
    "source",
    "published",
    "n_chars",
    "n_passages",
    "collection",
}


def document_text(client: TestClient, doc_id: str, cache: dict[str, str]) -> str:
    if doc_id not in cache:
        response = client.get(f"/v1/documents/{doc_id}")
        assert response.status_code == 200
        cache[doc_id] = response.json()["text"]
    return cache[doc_id]


def assert_passages_cite_documents(client: TestClient, passages: list[dict[str, Any]]) -> None:
    texts: dict[str, str] = {}
    for rank, p in enumerate(passages, 1):
        assert set(p) == PASSAGE_FIELDS
        assert p["rank"] == rank
        assert isinstance(p["score"], float)
        assert p["published"] is None or len(p["published"]) == 10
        text = document_text(client, p["doc_id"], texts)
        assert text[p["char_start"] : p["char_end"]] == p["text"]
        if p["highlight"] is not None:
            h = p["highlight"]
            assert p["char_start"] <= h["char_start"] < h["char_end"] <= p["char_end"]


def test_ask_returns_answer_and_passages_quoting_documents_verbatim(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": f"  {QUESTION} ", "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"question", "answer", "passages", "took_ms"}
    assert body["question"] == QUESTION
    assert isinstance(body["took_ms"], float)
    assert 1 <= len(body["passages"]) <= 3
    assert_passages_cite_documents(client, body["passages"])
    answer = body["answer"]
    assert answer is not None and set(answer) == ANSWER_FIELDS
    assert "450" in answer["text"]
    text = client.get(f"/v1/documents/{answer['doc_id']}").json()["text"]
    assert text[answer["char_start"] : answer["char_end"]] == answer["text"]
    cited = body["passages"][answer["passage_rank"] - 1]
    assert cited["highlight"] == {
        "char_start": answer["char_start"],
        "char_end": answer["char_end"],
    }


def test_ask_defaults_to_five_passages(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert len(body["passages"]) == 5


def test_ask_matches_the_engine_in_process(client: TestClient, engine: Any) -> None:
    from service.links import link_answer, link_passages
    from service.schemas import AskResponse

    result = AskResponse.model_validate(engine.ask(QUESTION, 4))
    link_passages(engine, "http://testserver", result.passages)
    link_answer(engine, "http://testserver", result.answer)
    expected = result.model_dump(exclude={"took_ms"})
    body = client.post("/v1/ask", json={"question": QUESTION, "top_k": 4}).json()
    body.pop("took_ms")
    assert body == expected


def test_search_returns_passages_without_answer(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": QUESTION, "top_k": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "passages", "took_ms"}
    assert body["query"] == QUESTION
    assert len(body["passages"]) == 2
    assert all(p["highlight"] is None for p in body["passages"])
    assert_passages_cite_documents(client, body["passages"])


def test_documents_list_and_detail_agree(client: TestClient, engine: Any) -> None:
    listing = client.get("/v1/documents").json()
    assert [d["doc_id"] for d in listing] == [d.doc_id for d in engine.contents.documents()]
    for summary in listing:
        assert set(summary) == SUMMARY_FIELDS
        detail = client.get(f"/v1/documents/{summary['doc_id']}").json()
        assert set(detail) == SUMMARY_FIELDS | {"text", "url", "metadata", "aliases"}
        assert detail["aliases"] == []  # no seed article is a copy of another
        assert summary["collection"] == "default"
        assert {k: detail[k] for k in SUMMARY_FIELDS} == summary
        assert len(detail["text"]) == summary["n_chars"]


def test_documents_carry_what_their_page_states(client: TestClient) -> None:
    listing = {d["doc_id"]: d for d in client.get("/v1/documents").json()}
    news = {k: listing["003_9e92c380d67ef266.txt:0"][k] for k in ("title", *sorted(NEWS_FIELDS))}
    assert news == {
        "title": "强基筑项 提质增效",
        "byline": "新甘肃·甘肃日报记者 刘健",
        "newspaper": "甘肃日报",
        "paper_page": None,
        "place": None,
        "reporters": ["刘健"],
    }
    dated = listing["002_a6192bb7d02a95be.txt:0"]
    assert (dated["published"], dated["paper_page"], dated["byline"]) == ("2025-01-22", "7", None)


def test_unknown_document_is_404_naming_the_id(client: TestClient) -> None:
    response = client.get("/v1/documents/no-such-doc")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "document_not_found"
    assert "no-such-doc" in response.json()["error"]["message"]


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    client.post("/v1/ask", json={"question": QUESTION})
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'ragqa_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert "ragqa_http_request_duration_seconds_bucket" in text
    assert "ragqa_index_documents" in text and "ragqa_index_passages" in text


def test_readyz_is_503_before_the_lifespan_has_loaded_the_index(service_settings: Any) -> None:
    from service.main import create_app

    client = TestClient(create_app(service_settings))  # not entered: no lifespan
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"
    assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 503


def test_widget_script_and_demo_page_are_served(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age" in script.headers["cache-control"]
    demo = client.get("/demo")
    assert demo.status_code == 200
    assert demo.headers["content-type"].startswith("text/html")


ROUTES = {
    ("/v1/ask", "post"),
    ("/v1/ask/stream", "post"),
    ("/v1/search", "get"),
    ("/v1/documents", "get"),
    ("/v1/documents/{doc_id}", "get"),
    ("/v1/index/reload", "post"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/metrics", "get"),
}


def test_openapi_lists_every_route_and_the_error_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    listed = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert listed >= ROUTES
    assert "ErrorResponse" in spec["components"]["schemas"]
    ask = spec["paths"]["/v1/ask"]["post"]
    for status in ("400", "413", "422", "429", "503"):
        ref = ask["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorResponse")
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AskResponse"
    )
    stream = spec["paths"]["/v1/ask/stream"]["post"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert "event: passages" in stream["description"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405_json(client: TestClient, method: str) -> None:
    response = client.request(method.upper(), "/v1/ask", json={"question": QUESTION})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
