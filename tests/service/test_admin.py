"""`POST /v1/index/reload`: disabled without a key, 401 on a wrong key, atomic swap, failures
leave the old engine serving, one reload at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

KEY = "reload-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTION = "甘肃传统产业占规模以上工业增加值的比重是多少"


def test_reload_is_404_when_no_key_is_configured(client: Any) -> None:
    response = client.post("/v1/index/reload", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "admin_disabled",
        "message": "admin routes are disabled: set RAGQA_API_KEY",
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": "Basic x"}],
    ids=["missing", "wrong", "no-scheme", "basic"],
)
def test_reload_without_the_right_key_is_401(make_client: Any, headers: dict[str, str]) -> None:
    with make_client(api_key=KEY) as client:
        response = client.post("/v1/index/reload", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


def test_reload_swaps_in_a_new_engine_that_answers_the_same(
    make_client: Any, copy_index: Path
) -> None:
    with make_client(api_key=KEY, index_dir=copy_index) as client:
        state = client.app.state.ragqa
        before = state.engine
        answer = client.post("/v1/ask", json={"question": QUESTION}).json()
        response = client.post("/v1/index/reload", headers=AUTH)
        assert response.status_code == 200, response.text
        assert state.engine is not before
        assert state.engine.embedder is before.embedder  # the model is reused, not reloaded
        after = client.post("/v1/ask", json={"question": QUESTION}).json()
    body = response.json()
    assert body["documents"] == len(before.contents.documents())
    assert body["passages"] == before.n_passages
    assert body["model"] == before.model_name
    assert isinstance(body["built_at"], str)
    assert after["answer"] == answer["answer"]


@pytest.mark.slow
def test_reload_with_rebuild_builds_then_loads(make_client: Any, copy_index: Path) -> None:
    with make_client(api_key=KEY, index_dir=copy_index) as client:
        response = client.post("/v1/index/reload", headers=AUTH, json={"rebuild": True})
    assert response.status_code == 200, response.text
    assert response.json()["documents"] > 0


def test_failed_reload_keeps_the_old_engine_serving(make_client: Any, copy_index: Path) -> None:
    with make_client(api_key=KEY, index_dir=copy_index) as client:
        before = client.app.state.ragqa.engine
        for path in copy_index.iterdir():
            if path.is_file() and path.suffix != ".json":
                path.write_bytes(b"truncated")
        response = client.post("/v1/index/reload", headers=AUTH)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "index_invalid"
        assert client.app.state.ragqa.engine is before
        assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200


def test_second_concurrent_reload_is_409(make_client: Any) -> None:
    with make_client(api_key=KEY) as client:
        lock = client.app.state.ragqa.reload_lock
        client.portal.call(lock.acquire)  # a reload is running
        try:
            response = client.post("/v1/index/reload", headers=AUTH)
        finally:
            client.portal.call(lock.release)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reload_in_progress"


def test_bad_reload_body_is_422_naming_the_field(make_client: Any) -> None:
    with make_client(api_key=KEY) as client:
        response = client.post("/v1/index/reload", headers=AUTH, json={"rebuild": "yes"})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("rebuild:")
