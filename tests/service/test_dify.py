"""`POST /retrieval`, Dify's External Knowledge API, on the real server with requests built the
way Dify's `ExternalDatasetService.fetch_external_knowledge_retrieval` builds them."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

QUERY = "白银炉能耗降低了多少"
DATED_SOURCE = "002_a6192bb7d02a95be.txt"  # the one article of the seed corpus with a date
DATED_DAY = "2025-01-22"
METADATA_KEYS = {"document_id", "source", "published", "url", "char_start", "char_end"}


def dify_post(
    base: str,
    api_key: str | None,
    *,
    query: str = QUERY,
    knowledge_id: str = "default",
    top_k: Any = 5,
    score_threshold: float = 0.0,
    metadata_condition: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """What Dify sends: its headers, and `json.dumps` of its request parameters as the body
    (metadata_condition only when there is one, as `MetadataCondition.model_dump()`)."""
    sent = {"Content-Type": "application/json"}
    if api_key:
        sent["Authorization"] = f"Bearer {api_key}"
    sent.update(headers or {})
    params: dict[str, Any] = {
        "retrieval_setting": {"top_k": top_k, "score_threshold": score_threshold},
        "query": query,
        "knowledge_id": knowledge_id,
    }
    if metadata_condition:
        params["metadata_condition"] = metadata_condition
    return httpx.post(f"{base}/retrieval", content=json.dumps(params), headers=sent, timeout=60)


def condition(name: Any, operator: str, value: Any, logic: str = "and") -> dict[str, Any]:
    return {
        "logical_operator": logic,
        "conditions": [{"name": name, "comparison_operator": operator, "value": value}],
    }


def records(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["records"]
    return list(body["records"])


def test_records_are_the_search_passages_with_scores_in_0_1(
    live_server: str, live_api_key: str
) -> None:
    got = records(dify_post(live_server, live_api_key, top_k=4))
    search = httpx.get(f"{live_server}/v1/search", params={"q": QUERY, "top_k": 4}).json()
    passages = search["passages"]
    assert [r["content"] for r in got] == [p["text"] for p in passages]
    assert [r["title"] for r in got] == [p["title"] for p in passages]
    for record, passage in zip(got, passages, strict=True):
        expected = 1 / (1 + math.exp(-(passage["score"] - 1.0) / 0.25))
        assert record["score"] == pytest.approx(expected, abs=1e-4)
        assert 0.0 <= record["score"] <= 1.0
        meta = record["metadata"]
        assert set(meta) >= METADATA_KEYS
        assert meta["document_id"] == passage["doc_id"]
        assert (meta["char_start"], meta["char_end"]) == (
            passage["char_start"],
            passage["char_end"],
        )
        assert meta["source"] == passage["source"] and meta["published"] == passage["published"]
        assert meta["url"] is None
    scores = [r["score"] for r in got]
    assert scores == sorted(scores, reverse=True)


def test_content_is_verbatim_at_the_offsets(live_server: str, live_api_key: str) -> None:
    for record in records(dify_post(live_server, live_api_key, top_k=3)):
        meta = record["metadata"]
        doc = httpx.get(f"{live_server}/v1/documents/{meta['document_id']}").json()
        assert doc["text"][meta["char_start"] : meta["char_end"]] == record["content"]


def test_score_threshold_leaves_out_lower_records(live_server: str, live_api_key: str) -> None:
    every = records(dify_post(live_server, live_api_key, top_k=10))
    threshold = every[2]["score"]
    kept = records(dify_post(live_server, live_api_key, top_k=10, score_threshold=threshold))
    assert kept == [r for r in every if r["score"] >= threshold]
    assert records(dify_post(live_server, live_api_key, score_threshold=1.0)) == []


def test_null_metadata_condition_is_no_filter(live_server: str, live_api_key: str) -> None:
    plain = records(dify_post(live_server, live_api_key))
    raw = {
        "knowledge_id": "default",
        "query": QUERY,
        "retrieval_setting": {"top_k": 5, "score_threshold": 0.0},
        "metadata_condition": None,
    }
    response = httpx.post(
        f"{live_server}/retrieval",
        json=raw,
        headers={"Authorization": f"Bearer {live_api_key}"},
        timeout=60,
    )
    assert records(response) == plain


def test_source_is_keeps_only_that_source(live_server: str, live_api_key: str) -> None:
    got = records(
        dify_post(
            live_server, live_api_key, metadata_condition=condition("source", "is", DATED_SOURCE)
        )
    )
    assert got and {r["metadata"]["source"] for r in got} == {DATED_SOURCE}


def test_source_contains_and_a_list_name_and_the_logic_key(
    live_server: str, live_api_key: str
) -> None:
    older_dify = {
        "logic": "and",
        "conditions": [{"name": ["source"], "comparison_operator": "contains", "value": "002_"}],
    }
    got = records(dify_post(live_server, live_api_key, metadata_condition=older_dify))
    assert got and {r["metadata"]["source"] for r in got} == {DATED_SOURCE}


def test_news_conditions_keep_what_the_pages_state(live_server: str, live_api_key: str) -> None:
    by_reporter = records(
        dify_post(live_server, live_api_key, metadata_condition=condition("reporter", "is", "刘健"))
    )
    assert by_reporter and {r["metadata"]["source"] for r in by_reporter} == {
        "003_9e92c380d67ef266.txt"  # 新甘肃·甘肃日报记者 刘健
    }
    by_page = records(
        dify_post(
            live_server, live_api_key, metadata_condition=condition("paper_page", "in", ["07"])
        )
    )
    assert by_page and {r["metadata"]["source"] for r in by_page} == {DATED_SOURCE}  # 版次：07
    both = condition("reporter", "is", "刘健")
    both["conditions"].append({"name": "reporter", "comparison_operator": "is", "value": "彭雯"})
    refused = dify_post(live_server, live_api_key, metadata_condition=both)
    assert refused.status_code == 422
    assert "two reporter conditions joined by 'and'" in refused.text


def test_published_after_keeps_dated_articles_only(live_server: str, live_api_key: str) -> None:
    got = records(
        dify_post(
            live_server,
            live_api_key,
            metadata_condition=condition("published", "after", "2025-01-01"),
        )
    )
    assert got and {r["metadata"]["published"] for r in got} == {DATED_DAY}
    strict = condition("published", "after", DATED_DAY)
    assert records(dify_post(live_server, live_api_key, metadata_condition=strict)) == []


def test_a_timestamp_value_is_a_date(live_server: str, live_api_key: str) -> None:
    # 1737504000 = 2025-01-22T00:00:00Z; Dify stores time metadata as Unix timestamps
    got = records(
        dify_post(
            live_server, live_api_key, metadata_condition=condition("published", "≥", 1737504000)
        )
    )
    assert got and {r["metadata"]["published"] for r in got} == {DATED_DAY}


def test_a_filter_matching_nothing_gives_no_records(live_server: str, live_api_key: str) -> None:
    for cond in (
        condition("source", "is", "no-such-file.txt"),
        condition("published", "before", "2025-01-01"),  # undated articles never match
        condition("category", "is", "economy"),  # no document has this metadata
        {
            "logical_operator": "and",
            "conditions": [
                {"name": "source", "comparison_operator": "is", "value": DATED_SOURCE},
                {"name": "published", "comparison_operator": "after", "value": "2025-02-01"},
            ],
        },
    ):
        assert records(dify_post(live_server, live_api_key, metadata_condition=cond)) == [], cond


def test_or_merges_the_alternatives(live_server: str, live_api_key: str) -> None:
    other = "001_8546bbd5f1ad3438.txt"
    either = {
        "logical_operator": "or",
        "conditions": [
            {"name": "source", "comparison_operator": "is", "value": DATED_SOURCE},
            {"name": "source", "comparison_operator": "is", "value": other},
        ],
    }
    got = records(dify_post(live_server, live_api_key, top_k=8, metadata_condition=either))
    both = condition("source", "in", [DATED_SOURCE, other])
    same = records(dify_post(live_server, live_api_key, top_k=8, metadata_condition=both))
    assert got == same
    assert len(got) == 8 and {r["metadata"]["source"] for r in got} == {DATED_SOURCE, other}
    scores = [r["score"] for r in got]
    assert scores == sorted(scores, reverse=True)


def sources_of(got: list[dict[str, Any]]) -> set[str]:
    return {r["metadata"]["source"] for r in got}


SEED_SOURCES = [
    "000_0ad1dae646fc90f2.txt",
    "001_8546bbd5f1ad3438.txt",
    DATED_SOURCE,
    "003_9e92c380d67ef266.txt",
    "004_0ab705ec73a87017.txt",
]  # corpus/articles, the bundled index's files


def test_negations_rank_as_the_list_of_every_other_source(
    live_server: str, live_api_key: str
) -> None:
    others = condition("source", "in", [s for s in SEED_SOURCES if s != DATED_SOURCE])
    expected = records(dify_post(live_server, live_api_key, top_k=20, metadata_condition=others))
    assert len(expected) == 20 and DATED_SOURCE not in sources_of(expected)
    for cond in (
        condition("source", "not contains", "002_"),
        condition("source", "is not", DATED_SOURCE),
        condition("source", "≠", DATED_SOURCE),
        condition("source", "not in", [DATED_SOURCE, "no-such-file.txt"]),
        condition("document_name", "is not", DATED_SOURCE),
    ):
        got = records(dify_post(live_server, live_api_key, top_k=20, metadata_condition=cond))
        assert got == expected, cond


def test_empty_and_not_empty_on_the_date(live_server: str, live_api_key: str) -> None:
    undated = records(
        dify_post(
            live_server, live_api_key, metadata_condition=condition("published", "empty", None)
        )
    )
    assert undated and {r["metadata"]["published"] for r in undated} == {None}
    dated = records(
        dify_post(
            live_server, live_api_key, metadata_condition=condition("published", "not empty", None)
        )
    )
    assert dated and sources_of(dated) == {DATED_SOURCE}
    other_day = condition("published", "is not", DATED_DAY)  # an undated article has no day
    assert records(dify_post(live_server, live_api_key, metadata_condition=other_day)) == []


def test_upload_date_is_the_day_the_store_took_the_document(
    live_server: str, live_api_key: str
) -> None:
    everything = records(dify_post(live_server, live_api_key))
    for cond in (
        condition("upload_date", "after", "2000-01-01"),
        condition("upload_date", "after", 946684800),  # 2000-01-01T00:00:00Z as Dify sends it
        condition("last_update_date", "not empty", None),
        condition("upload_date", "before", "2999-01-01"),
    ):
        assert records(dify_post(live_server, live_api_key, metadata_condition=cond)) == (
            everything
        ), cond
    for cond in (
        condition("upload_date", "before", "2000-01-01"),
        condition("upload_date", "empty", None),
    ):
        assert records(dify_post(live_server, live_api_key, metadata_condition=cond)) == [], cond


def test_a_mix_of_negations_and_filters_combines_by_the_logic(
    live_server: str, live_api_key: str
) -> None:
    both = {
        "logical_operator": "and",
        "conditions": [
            {"name": "source", "comparison_operator": "contains", "value": "_"},
            {"name": "source", "comparison_operator": "is not", "value": DATED_SOURCE},
            {"name": "upload_date", "comparison_operator": "after", "value": "2000-01-01"},
        ],
    }
    got = records(dify_post(live_server, live_api_key, top_k=20, metadata_condition=both))
    others = condition("source", "in", [s for s in SEED_SOURCES if s != DATED_SOURCE])
    assert got == records(dify_post(live_server, live_api_key, top_k=20, metadata_condition=others))
    either = {
        "logical_operator": "or",
        "conditions": [
            {"name": "published", "comparison_operator": "not empty", "value": None},
            {"name": "source", "comparison_operator": "is", "value": DATED_SOURCE},
        ],
    }
    got = records(dify_post(live_server, live_api_key, top_k=20, metadata_condition=either))
    only = condition("source", "is", DATED_SOURCE)
    assert got == records(dify_post(live_server, live_api_key, top_k=20, metadata_condition=only))
    assert sources_of(got) == {DATED_SOURCE}


DIFY_OPERATORS = {
    "source": ["contains", "not contains", "start with", "end with", "is", "is not", "empty",
               "not empty", "in", "not in"],
    "published": ["is", "is not", "before", "after", "empty", "not empty", "=", "≠", ">", "<",
                  "≥", "≤"],
    "upload_date": ["is", "before", "after", "empty", "not empty"],
    "last_update_date": ["is", "before", "after", "empty", "not empty"],
    "desk": ["contains", "not contains", "start with", "end with", "is", "is not", "empty",
             "not empty", "=", "≠", ">", "<", "≥", "≤"],
}  # fmt: skip
"""Every operator Dify's metadata filter UI offers, per field type (string, time, number)."""


@pytest.mark.parametrize(
    ("name", "operator"), [(n, op) for n, ops in DIFY_OPERATORS.items() for op in ops]
)
def test_every_operator_dify_sends_is_answered(
    live_server: str, live_api_key: str, name: str, operator: str
) -> None:
    value: Any = {"source": "002_", "desk": "3"}.get(name, DATED_DAY)
    if operator in ("in", "not in"):
        value = [value]
    response = dify_post(
        live_server, live_api_key, metadata_condition=condition(name, operator, value)
    )
    assert response.status_code == 200, response.text


def dify_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "error_msg"}
    assert body["error_code"] == code
    return str(body["error_msg"])


def test_wrong_key_is_1002(live_server: str) -> None:
    message = dify_error(dify_post(live_server, "not-the-key-at-all-0000"), 403, 1002)
    assert "Authorization failed" in message


@pytest.mark.parametrize("header", ["", "Token abc", "Bearer", "Bearerabc", "basic xyz"])
def test_malformed_or_missing_header_is_1001(live_server: str, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    message = dify_error(dify_post(live_server, None, headers=headers), 403, 1001)
    assert "Bearer <api-key>" in message


def test_unknown_knowledge_id_is_2001(live_server: str, live_api_key: str) -> None:
    response = dify_post(live_server, live_api_key, knowledge_id="no-such-collection")
    assert "does not exist" in dify_error(response, 404, 2001)


def test_key_is_checked_before_the_knowledge_id(live_server: str) -> None:
    response = dify_post(live_server, "wrong-key-wrong-key-00", knowledge_id="nothing")
    dify_error(response, 403, 1002)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"query": "   "}, "query: must not be empty"),
        ({"top_k": 0}, "retrieval_setting.top_k"),
        ({"top_k": 1000}, "retrieval_setting.top_k"),
        ({"top_k": "5"}, "retrieval_setting.top_k"),
        (
            {"metadata_condition": condition("source", "matches", "x")},
            "metadata_condition.conditions[0].comparison_operator: 'matches' is not supported "
            "on source; use is, is not, =, ≠, in, not in, contains, not contains, start with, "
            "end with, empty, not empty",
        ),
        (
            {"metadata_condition": condition("upload_date", "contains", "2025")},
            "metadata_condition.conditions[0].comparison_operator: 'contains'",
        ),
        (
            {"metadata_condition": condition("source", "not contains", None)},
            "metadata_condition.conditions[0].value: required for 'not contains'",
        ),
        (
            {"metadata_condition": condition("published", "after", "last week")},
            "metadata_condition.conditions[0].value",
        ),
        ({"metadata_condition": condition("source", "is", "x", logic="xor")}, "logical_operator"),
    ],
)
def test_bad_input_is_a_dify_shaped_422(
    live_server: str, live_api_key: str, change: dict[str, Any], needle: str
) -> None:
    message = dify_error(dify_post(live_server, live_api_key, **change), 422, 422)
    assert needle in message


def test_malformed_json_is_a_dify_shaped_400(live_server: str, live_api_key: str) -> None:
    response = httpx.post(
        f"{live_server}/retrieval",
        content=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {live_api_key}"},
    )
    dify_error(response, 400, 400)


def test_retrieval_is_in_the_openapi_document(live_server: str) -> None:
    spec = httpx.get(f"{live_server}/openapi.json").json()
    operation = spec["paths"]["/retrieval"]["post"]
    assert {"403", "404", "422"} <= set(operation["responses"])
