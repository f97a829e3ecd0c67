"""Token-bucket rate limiting: the pure limiter on a fake clock, and 429s through the app."""

from __future__ import annotations

from typing import Any

import pytest

from service.ratelimit import RateLimiter, retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_is_allowed_then_the_next_request_waits_one_refill_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(1.0)


def test_tokens_refill_at_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=120, burst=1, clock=clock)
    assert limiter.acquire("a") == 0.0
    clock.now += 0.25
    assert limiter.acquire("a") == pytest.approx(0.25)
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0


def test_clients_have_separate_buckets() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=FakeClock())
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_idle_buckets_are_forgotten_and_the_table_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock, max_clients=3)
    for client in "abcde":
        limiter.acquire(client)
    assert len(limiter) == 3
    clock.now += 10  # long enough for every bucket to be full again
    limiter.acquire("z")
    assert len(limiter) == 1


def test_retry_after_is_a_whole_number_of_seconds_at_least_one() -> None:
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(1.0) == 1
    assert retry_after_seconds(1.2) == 2


def test_over_the_burst_the_api_answers_429_with_retry_after(make_client: Any) -> None:
    with make_client(rate_limit_per_minute=1, rate_limit_burst=2) as client:
        statuses = [client.get("/v1/documents").status_code for _ in range(3)]
        limited = client.get("/v1/search", params={"q": "甘肃"})
        health = client.get("/healthz")
        metrics = client.get("/metrics")
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert health.status_code == 200 and metrics.status_code == 200  # not rate limited


def test_front_doors_are_limited_too_in_their_own_error_shapes(make_client: Any) -> None:
    dify = {
        "knowledge_id": "default",
        "query": "甘肃",
        "retrieval_setting": {"top_k": 1, "score_threshold": 0.0},
    }
    chat = {"model": "ragqa-extractive", "messages": [{"role": "user", "content": "甘肃"}]}
    with make_client(rate_limit_per_minute=1, rate_limit_burst=1) as client:
        assert client.post("/retrieval", json=dify).status_code == 200
        limited_dify = client.post("/retrieval", json=dify)
        limited_chat = client.post("/v1/chat/completions", json=chat)
    assert limited_dify.status_code == 429
    assert limited_dify.json()["error_code"] == 429
    assert limited_chat.status_code == 429
    assert limited_chat.json()["error"]["type"] == "rate_limit_error"
