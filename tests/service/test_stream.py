"""`POST /v1/ask/stream`: Server-Sent Events in order, an error event, keep-alive comments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

QUESTION = "白银炉能耗降低了多少"


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) per SSE block; comment-only blocks become ("comment", text)."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        if all(line.startswith(":") for line in lines):
            events.append(("comment", lines[0][1:].strip()))
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((name, json.loads(data)))
    return events


def test_stream_sends_passages_then_answer_then_done(client: TestClient, engine: Any) -> None:
    response = client.post("/v1/ask/stream", json={"question": QUESTION, "top_k": 3})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = [e for e in parse_sse(response.text) if e[0] != "comment"]
    assert [name for name, _ in events] == ["passages", "answer", "done"]
    passages, answer, done = (data for _, data in events)
    assert passages["question"] == QUESTION
    assert len(passages["passages"]) == 3
    assert all(p["highlight"] is None for p in passages["passages"])
    assert set(answer) == {"answer", "passages", "took_ms"}
    assert done == {}

    expected = client.post("/v1/ask", json={"question": QUESTION, "top_k": 3}).json()
    assert answer["answer"] == expected["answer"]
    assert answer["passages"] == expected["passages"]
    strip = [{**p, "highlight": None} for p in expected["passages"]]
    assert passages["passages"] == strip


class FailingAnswer:
    """The real engine, except that the answer step fails (fault injection, not a mock)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def answer(self, retrieved: Any) -> Any:
        raise RuntimeError("answer step exploded")


def test_error_after_the_stream_started_is_an_error_event(make_client: Any, engine: Any) -> None:
    with make_client() as client:
        client.app.state.ragqa.engine = FailingAnswer(engine)
        response = client.post("/v1/ask/stream", json={"question": QUESTION})
    assert response.status_code == 200
    events = [e for e in parse_sse(response.text) if e[0] != "comment"]
    assert [name for name, _ in events] == ["passages", "error"]
    assert events[1][1]["error"]["code"] == "internal_error"
    assert "exploded" not in events[1][1]["error"]["message"]  # no internals leak out


def test_stream_sends_keepalive_comments_while_waiting(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.routes import ask

    # A zero interval: any wait on the engine (a real encoder pass) yields a keep-alive.
    monkeypatch.setattr(ask, "KEEPALIVE_SECONDS", 0.0)
    response = client.post("/v1/ask/stream", json={"question": QUESTION})
    assert ": keep-alive\n\n" in response.text
    events = parse_sse(response.text)
    assert ("comment", "keep-alive") in events
    assert [n for n, _ in events if n != "comment"] == ["passages", "answer", "done"]
