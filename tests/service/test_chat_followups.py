"""Follow-up questions in `/v1/chat/completions`, through the official `openai` client against
the real server: the follow-up is rewritten into a standalone question before retrieval, the
reply's first line shows it, and `question`/`follow_up` carry it (plain and streamed)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openai import OpenAI

from service.openai_compat import MODEL_ID

BAIYIN = "白银炉能耗降低了多少"
JINCHANG_ANSWER = (
    "在金川集团永昌铜业有限公司精炼分厂，智能运输车自动穿梭，机械臂精准抓取铜阳板，"
    "生产数据实时上传至云端平台，通过AI算法优化电解参数，使阴极铜纯度提升至99.993%以上，"
    "生产效率提高20%，能耗降低15%。"
)
JINCHANG_ARTICLES = {"001_8546bbd5f1ad3438.txt", "004_0ab705ec73a87017.txt"}
JIAYUGUAN_2024 = (
    "2024年，嘉峪关交出亮眼答卷：规模以上工业增加值增长9.6%，且连续22个月保持在9%以上的高位增长。"
)


@pytest.fixture(scope="module")
def client(live_server: str) -> OpenAI:
    return OpenAI(base_url=f"{live_server}/v1", api_key="any-key-works", max_retries=0)


def ask(live_server: str, question: str) -> dict[str, Any]:
    return dict(httpx.post(f"{live_server}/v1/ask", json={"question": question}, timeout=60).json())


def conversation(*questions: str) -> list[Any]:
    """User turns with our own (elided) replies between them, as a chat UI sends them."""
    messages: list[Any] = [{"role": "system", "content": "You are a helpful assistant."}]
    for question in questions[:-1]:
        messages += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "……"},
        ]
    return [*messages, {"role": "user", "content": questions[-1]}]


def chat(client: OpenAI, *questions: str) -> tuple[str, dict[str, Any]]:
    """The reply text and the completion's extra fields."""
    reply = client.chat.completions.create(model=MODEL_ID, messages=conversation(*questions))
    return reply.choices[0].message.content or "", reply.model_extra or {}


def test_baiyin_then_jinchang_answers_about_jinchang(client: OpenAI, live_server: str) -> None:
    content, extra = chat(client, BAIYIN, "那么金昌呢？")
    assert extra["question"] == "金昌能耗降低了多少"
    assert extra["follow_up"] == {"asked": "那么金昌呢？", "kind": "entity"}
    assert content.startswith(f"（按“金昌能耗降低了多少”回答）\n\n{JINCHANG_ANSWER} [")
    expected = ask(live_server, "金昌能耗降低了多少")
    assert expected["answer"]["text"] == JINCHANG_ANSWER
    assert [(r["doc_id"], r["char_start"]) for r in extra["references"]] == [
        (p["doc_id"], p["char_start"]) for p in expected["passages"]
    ]


def test_the_answer_citation_still_points_at_the_answer(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL_ID, messages=conversation(BAIYIN, "那么金昌呢？")
    )
    content = reply.choices[0].message.content or ""
    cite = (reply.choices[0].message.annotations or [])[0].url_citation
    assert content[cite.start_index : cite.end_index] == JINCHANG_ANSWER


def test_a_streamed_follow_up_shows_the_same_rewrite(client: OpenAI) -> None:
    messages = conversation(BAIYIN, "那么金昌呢？")
    whole = client.chat.completions.create(model=MODEL_ID, messages=messages)
    chunks = list(client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == whole.choices[0].message.content
    assert streamed.startswith("（按“金昌能耗降低了多少”回答）\n\n")
    last = chunks[-1].model_extra or {}
    assert last["question"] == "金昌能耗降低了多少"
    assert last["follow_up"] == {"asked": "那么金昌呢？", "kind": "entity"}


def test_a_time_follow_up_answers_for_the_new_time(client: OpenAI) -> None:
    first, _ = chat(client, "嘉峪关2025年一季度规模以上工业增加值增长多少")
    assert "一季度，规模以上工业增加值同比增长9.7%" in first
    content, extra = chat(client, "嘉峪关2025年一季度规模以上工业增加值增长多少", "那去年呢")
    assert extra["question"] == "嘉峪关去年规模以上工业增加值增长多少"
    assert extra["follow_up"] == {"asked": "那去年呢", "kind": "time"}
    assert content.startswith(
        f"（按“嘉峪关去年规模以上工业增加值增长多少”回答）\n\n{JIAYUGUAN_2024} ["
    )


def test_a_pronoun_follow_up_answers_about_the_previous_subject(client: OpenAI) -> None:
    jisco = "酒钢集团的产品种类扩展到了多少个"
    content, extra = chat(client, jisco, "它的高端品种占比呢")
    assert extra["question"] == "酒钢集团的高端品种占比是多少"
    assert extra["follow_up"] == {"asked": "它的高端品种占比呢", "kind": "pronoun"}
    assert content.startswith(
        "（按“酒钢集团的高端品种占比是多少”回答）\n\n"
        "产品种类从343个扩展到450余个，高端品种占比从30%升至70%。 ["
    )


def test_its_capacity_which_the_corpus_does_not_state_retrieves_jisco(
    client: OpenAI, live_server: str
) -> None:
    # No article gives 酒钢集团's capacity as a figure: the rewrite is shown and retrieves
    # the same passages as the standalone question.
    _, extra = chat(client, "酒钢集团的产品种类扩展到了多少个", "它的产能呢")
    assert extra["question"] == "酒钢集团的产能是多少"
    expected = ask(live_server, "酒钢集团的产能是多少")["passages"]
    assert [r["doc_id"] for r in extra["references"]] == [p["doc_id"] for p in expected]


def test_an_english_time_follow_up(client: OpenAI) -> None:
    question = "How much did Jiayuguan's industrial value added grow in the first quarter of 2025?"
    content, extra = chat(client, question, "And last year?")
    rewritten = "How much did Jiayuguan's industrial value added grow last year?"
    assert extra["question"] == rewritten
    assert extra["follow_up"] == {"asked": "And last year?", "kind": "time"}
    assert content.startswith(f"(answered as: {rewritten})\n\n{JIAYUGUAN_2024} [")


def test_an_english_entity_follow_up_retrieves_the_new_place(
    client: OpenAI, live_server: str
) -> None:
    # The English question finds Jinchang's articles, though not the 15% sentence (the
    # English path is weaker than the Chinese one on this corpus).
    baiyin = "How much did the Baiyin furnace cut energy use?"
    content, extra = chat(client, baiyin, "What about Jinchang?")
    assert extra["question"] == "How much did Jinchang cut energy use?"
    assert content.startswith("(answered as: How much did Jinchang cut energy use?)\n\n")
    passages = ask(live_server, "How much did Jinchang cut energy use?")["passages"]
    assert [r["doc_id"] for r in extra["references"]] == [p["doc_id"] for p in passages]
    assert {r["doc_id"].split(":")[0] for r in extra["references"][:3]} <= JINCHANG_ARTICLES


def test_a_full_question_after_another_is_not_rewritten(client: OpenAI) -> None:
    content, extra = chat(client, BAIYIN, "酒钢集团的产品种类扩展到了多少个")
    assert extra["question"] == "酒钢集团的产品种类扩展到了多少个"
    assert extra["follow_up"] is None
    assert not content.startswith("（按")


def test_ask_reads_a_follow_up_with_its_context(live_server: str) -> None:
    body = {"question": "那么金昌呢？", "context": [BAIYIN]}
    result = httpx.post(f"{live_server}/v1/ask", json=body, timeout=60).json()
    assert result["question"] == "金昌能耗降低了多少"
    assert result["answer"]["text"] == JINCHANG_ANSWER
    with httpx.stream("POST", f"{live_server}/v1/ask/stream", json=body, timeout=60) as r:
        data = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    passages = json.loads(data[0])
    assert passages["question"] == "金昌能耗降低了多少"
    assert json.loads(data[1])["answer"]["text"] == JINCHANG_ANSWER
    alone = httpx.post(f"{live_server}/v1/ask", json={"question": "那么金昌呢？"}, timeout=60)
    assert alone.json()["question"] == "那么金昌呢？"


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ([BAIYIN] * 6, "context"),
        (["   "], "context.0"),
        ([BAIYIN, 7], "context.1"),
        (["x" * 1001], "context.0"),
        (BAIYIN, "context"),
    ],
)
def test_a_bad_context_is_a_422_naming_it(live_server: str, context: Any, field: str) -> None:
    body = {"question": "那么金昌呢？", "context": context}
    for path in ("/v1/ask", "/v1/ask/stream"):
        response = httpx.post(f"{live_server}{path}", json=body, timeout=60)
        assert response.status_code == 422
        assert response.json()["error"]["message"].startswith(f"{field}: "), response.json()
