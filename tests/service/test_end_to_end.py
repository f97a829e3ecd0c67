"""The real server (`python -m service`) over real HTTP: every dev question answers as the
in-process engine does, streaming works, and reloads never interrupt answering."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def dev_questions() -> list[str]:
    lines = (ROOT / "eval" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def well_formed(body: dict[str, Any]) -> bool:
    return set(body) == {"question", "answer", "passages", "took_ms"} and bool(body["passages"])


def test_every_dev_question_answers_as_the_engine_does(live_server: str, engine: Any) -> None:
    with httpx.Client(base_url=live_server, timeout=60) as http:
        for question in dev_questions():
            response = http.post("/v1/ask", json={"question": question})
            assert response.status_code == 200, response.text
            body = response.json()
            local = engine.ask(question, 5)
            cited = [(p["doc_id"], p["char_start"], p["char_end"]) for p in body["passages"]]
            assert cited == [(p.doc_id, p.char_start, p.char_end) for p in local.passages]
            if local.answer is None:
                assert body["answer"] is None
            else:
                a = body["answer"]
                assert (a["doc_id"], a["char_start"], a["char_end"], a["text"]) == (
                    local.answer.doc_id,
                    local.answer.char_start,
                    local.answer.char_end,
                    local.answer.text,
                )


def test_stream_over_real_http_sends_passages_answer_done(live_server: str) -> None:
    events = []
    payload = {"question": "白银炉能耗降低了多少"}
    with httpx.stream("POST", f"{live_server}/v1/ask/stream", json=payload, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event: "):
                events.append(line[7:])
    assert events == ["passages", "answer", "done"]


def test_cors_allows_the_configured_origin_only(live_server: str, live_origin: str) -> None:
    ok = httpx.get(f"{live_server}/v1/documents", headers={"Origin": live_origin})
    other = httpx.get(f"{live_server}/v1/documents", headers={"Origin": "http://other.example"})
    assert ok.headers["access-control-allow-origin"] == live_origin
    assert "access-control-allow-origin" not in other.headers


def test_answering_continues_through_two_reloads(live_server: str, live_api_key: str) -> None:
    questions = dev_questions()[:8]
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def hammer() -> None:
        nonlocal answered
        with httpx.Client(base_url=live_server, timeout=60) as http:
            i = 0
            while not stop.is_set() or answered < 10:
                q = questions[i % len(questions)]
                i += 1
                try:
                    r = http.post("/v1/ask", json={"question": q})
                    if r.status_code != 200 or not well_formed(r.json()):
                        failures.append(f"{r.status_code}: {r.text[:200]}")
                    answered += 1
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        auth = {"Authorization": f"Bearer {live_api_key}"}
        for _ in range(2):
            r = httpx.post(f"{live_server}/v1/index/reload", headers=auth, timeout=120)
            assert r.status_code == 200, r.text
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert answered >= 10
