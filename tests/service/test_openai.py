"""The OpenAI-compatible routes on the real server, driven by the official `openai` client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from service.openai_compat import MODEL_ID, NO_ANSWER

QUESTION = "酒钢集团的产品种类扩展到了多少个"
UNANSWERED = "火星上的第一座城市叫什么名字"


@pytest.fixture(scope="module")
def client(live_server: str) -> OpenAI:
    return OpenAI(base_url=f"{live_server}/v1", api_key="any-key-works", max_retries=0)


def ask(live_server: str, question: str, top_k: int = 5) -> dict[str, Any]:
    body = {"question": question, "top_k": top_k}
    return dict(httpx.post(f"{live_server}/v1/ask", json=body, timeout=60).json())


def document_text(live_server: str, doc_id: str) -> str:
    return str(httpx.get(f"{live_server}/v1/documents/{doc_id}").json()["text"])


def test_models_lists_the_model_and_one_per_collection(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL_ID, f"{MODEL_ID}:default"]
    assert client.models.retrieve(MODEL_ID).owned_by == "ragqa"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


def test_chat_reply_is_the_answer_then_numbered_sources(client: OpenAI, live_server: str) -> None:
    expected = ask(live_server, QUESTION, 3)
    answer = expected["answer"]
    assert answer is not None
    reply = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}], extra_body={"top_k": 3}
    )
    message = reply.choices[0].message
    content = message.content or ""
    assert reply.model == MODEL_ID and reply.choices[0].finish_reason == "stop"
    lines = [
        f"[{n}] [{p['title']}](<{p['url']}>) · {p['published'] or 'undated'}"
        + (f" · {p['byline']}" if p["byline"] else "")  # where the page prints one
        for n, p in enumerate(expected["passages"], 1)
    ]
    assert content == f"{answer['text']} [{answer['passage_rank']}]\n\nSources:\n\n" + (
        "\n\n".join(lines)
    )
    assert lines[0] == (
        "[1] [老工业基地焕新转型如何发力]"
        f"(<{live_server}/read/000_0ad1dae646fc90f2.txt:0?start=1086&end=1242#cited>) · undated"
    )
    cites = [a.url_citation for a in message.annotations or []]
    assert content[cites[0].start_index : cites[0].end_index] == answer["text"]
    first = cites[0].model_extra or {}
    assert (first["doc_id"], first["char_start"], first["char_end"]) == (
        answer["doc_id"],
        answer["char_start"],
        answer["char_end"],
    )
    assert [content[c.start_index : c.end_index] for c in cites[1:]] == lines
    assert cites[0].url == answer["url"]
    assert [c.url for c in cites[1:]] == [p["url"] for p in expected["passages"]]


def test_references_quote_the_documents_verbatim(client: OpenAI, live_server: str) -> None:
    reply = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}]
    )
    references = (reply.model_extra or {})["references"]
    expected = ask(live_server, QUESTION)["passages"]
    assert [(r["doc_id"], r["char_start"], r["char_end"]) for r in references] == [
        (p["doc_id"], p["char_start"], p["char_end"]) for p in expected
    ]
    for r, p in zip(references, expected, strict=True):
        assert {"doc_id", "title", "source", "published", "char_start", "char_end", "text"} <= set(
            r
        )
        assert r["text"] == document_text(live_server, r["doc_id"])[r["char_start"] : r["char_end"]]
        assert (r["title"], r["source"], r["published"]) == (
            p["title"],
            p["source"],
            p["published"],
        )


def test_no_answer_gives_the_fixed_sentence_and_still_sources(
    client: OpenAI, live_server: str
) -> None:
    assert ask(live_server, UNANSWERED)["answer"] is None
    reply = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": UNANSWERED}]
    )
    content = reply.choices[0].message.content or ""
    assert content.startswith(NO_ANSWER + "\n\nSources:\n\n[1] [")
    assert len((reply.model_extra or {})["references"]) == 5


def test_stream_sends_the_same_reply_and_references_last(client: OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=MODEL_ID, messages=messages)
    chunks = list(client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == (
        whole.choices[0].message.content
    )
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["references"] == (whole.model_extra or {})["references"]
    annotations = (last.choices[0].delta.model_extra or {})["annotations"]
    assert annotations == [a.model_dump() for a in whole.choices[0].message.annotations or []]
    assert all("references" not in (c.model_extra or {}) for c in chunks[:-1])


QUESTION_TOKENS = 10  # ▁ 酒 钢 集团 的产品 种类 扩展 到了 多少 个: the encoder's tokenizer


def test_usage_counts_the_messages_and_the_reply_in_the_encoder_tokens(client: OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=MODEL_ID, messages=messages)
    assert whole.usage is not None
    assert whole.usage.prompt_tokens == QUESTION_TOKENS
    assert whole.usage.completion_tokens > 0
    assert whole.usage.total_tokens == QUESTION_TOKENS + whole.usage.completion_tokens
    streamed = list(
        client.chat.completions.create(
            model=MODEL_ID,
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *reply, last = streamed
    assert last.choices == []
    assert last.usage == whole.usage
    assert all(c.usage is None for c in reply)
    assert "".join(c.choices[0].delta.content or "" for c in reply) == (
        whole.choices[0].message.content
    )
    plain = list(client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True))
    assert all(c.usage is None and c.choices for c in plain)


def test_stream_ends_with_references_then_done_on_the_wire(live_server: str) -> None:
    body = {"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{live_server}/v1/chat/completions", json=body, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    assert "references" in json.loads(data[-2])


def test_a_follow_up_is_rewritten_with_the_previous_question(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL_ID,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "……"},
            {"role": "user", "content": [{"type": "text", "text": "那现在呢？"}]},
        ],
    )
    assert (reply.model_extra or {})["question"] == "酒钢集团现在的产品种类扩展到了多少个"
    assert (reply.model_extra or {})["follow_up"] == {"asked": "那现在呢？", "kind": "time"}
    standalone = "白银炉能耗降低了多少"
    reply = client.chat.completions.create(
        model=MODEL_ID,
        messages=[{"role": "user", "content": QUESTION}, {"role": "user", "content": standalone}],
    )
    assert (reply.model_extra or {})["question"] == standalone
    assert (reply.model_extra or {})["follow_up"] is None


def test_unknown_model_is_an_openai_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
        )
    assert caught.value.status_code == 404
    assert caught.value.body == {
        "message": f"model: 'gpt-4o' does not exist; the models are {MODEL_ID} and "
        f"{MODEL_ID}:<collection>",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


@pytest.mark.parametrize(
    ("messages", "extra", "param"),
    [
        ([], {}, "messages"),
        ([{"role": "user", "content": 123}], {}, "messages.0.content"),
        ([{"role": "user", "content": {"text": QUESTION}}], {}, "messages.0.content"),
        ([{"role": "user", "content": "   "}], {}, "messages"),
        ([{"role": "system", "content": QUESTION}], {}, "messages"),
        ([{"role": "user", "content": QUESTION}], {"top_k": 0}, "top_k"),
        ([{"role": "user", "content": QUESTION}], {"top_k": 1000}, "top_k"),
    ],
)
def test_bad_input_is_an_openai_422(
    client: OpenAI, messages: list[Any], extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model=MODEL_ID, messages=messages, extra_body=extra)
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error"
    assert body["param"] == param, body


def test_malformed_json_is_an_openai_400(live_server: str) -> None:
    response = httpx.post(
        f"{live_server}/v1/chat/completions",
        content=b'{"model": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_chat_routes_are_in_the_openapi_document(live_server: str) -> None:
    paths = httpx.get(f"{live_server}/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/models", "/v1/models/{model}"} <= set(paths)
