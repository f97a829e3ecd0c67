"""What an outside probe of the real server found, each fixed and held: lone surrogates on
every route, CORS headers on every error (a 500 too), JSON refusals of CORS preflights, the
key checked before the body, capped not-found messages, questions with nothing to search for,
and an OpenAPI document that says what the server does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.servers import free_port

JSON = {"content-type": "application/json"}
NONSENSE = {"NUL": "\u0000", "1000 emoji": "😀" * 1000, "1000 NULs": "\u0000" * 1000}


def error_of(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return dict(body["error"])


@pytest.mark.slow
@pytest.mark.parametrize("escape", ["\\ud800", "\\uDFFF", "\\udc00\\ud800"])
def test_a_lone_surrogate_is_422_on_ask_and_stream_with_cors(
    live_server: str, live_origin: str, escape: str
) -> None:
    body = ('{"question": "白银炉' + escape + '"}').encode()
    for path in ("/v1/ask", "/v1/ask/stream"):
        response = httpx.post(
            live_server + path, content=body, headers={**JSON, "Origin": live_origin}, timeout=60
        )
        assert response.status_code == 422, (path, response.text)
        error = error_of(response)
        assert error["code"] == "invalid_request"
        assert error["message"].startswith("question: contains a lone UTF-16 surrogate (U+D")
        assert "at character 3" in error["message"]
        assert response.headers["access-control-allow-origin"] == live_origin


@pytest.mark.slow
def test_surrogate_bytes_in_the_url_never_reach_the_engine_as_surrogates(live_server: str) -> None:
    # UTF-8 cannot spell a surrogate: percent-encoded surrogate bytes in a query are not
    # UTF-8, refused with 400 naming the parameter (issue 20; they used to be searched as
    # U+FFFD); in a path they name no document.
    search = httpx.get(f"{live_server}/v1/search", params={"q": "x"}, timeout=60)
    assert search.status_code == 200
    raw = httpx.get(f"{live_server}/v1/search?q=%ED%A0%80", timeout=60)
    assert raw.status_code == 400
    assert error_of(raw) == {
        "code": "malformed_request",
        "message": "q: not valid UTF-8 (byte 0xed); percent-encode the UTF-8 bytes of the text",
    }
    doc = httpx.get(f"{live_server}/v1/documents/%ED%A0%80", timeout=60)
    assert doc.status_code == 404 and error_of(doc)["code"] == "document_not_found"


@pytest.mark.slow
def test_a_lone_surrogate_in_the_reload_body_is_422_for_a_caller_with_the_key(
    live_server: str, live_api_key: str
) -> None:
    response = httpx.post(
        f"{live_server}/v1/index/reload",
        content=b'{"rebuild": "\\ud800"}',
        headers={**JSON, "Authorization": f"Bearer {live_api_key}"},
        timeout=60,
    )
    assert response.status_code == 422
    assert error_of(response)["message"].startswith("rebuild: contains a lone UTF-16 surrogate")


@pytest.mark.slow
@pytest.mark.parametrize("body", [b'{"rebuild": ', b'{"rebuild": "yes"}', b"\xff\xfe"])
def test_without_the_key_a_bad_reload_body_is_401_not_400(live_server: str, body: bytes) -> None:
    response = httpx.post(f"{live_server}/v1/index/reload", content=body, headers=JSON, timeout=60)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.slow
def test_a_disallowed_preflight_gets_the_json_error_shape(
    live_server: str, live_origin: str
) -> None:
    response = httpx.options(
        f"{live_server}/v1/ask",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "cors_rejected",
        "message": "CORS preflight refused: origin 'https://evil.example' not allowed "
        "(allowed origins are set by RAGQA_CORS_ORIGINS)",
    }
    method = httpx.options(
        f"{live_server}/v1/ask",
        headers={"Origin": live_origin, "Access-Control-Request-Method": "DELETE"},
        timeout=30,
    )
    assert method.status_code == 400
    assert error_of(method)["message"].startswith("CORS preflight refused: method 'DELETE'")
    assert method.headers["access-control-allow-origin"] == live_origin


@pytest.mark.slow
def test_the_not_found_message_is_worded_once_and_caps_the_echoed_id(live_server: str) -> None:
    short = httpx.get(f"{live_server}/v1/documents/nope", timeout=30)
    assert error_of(short) == {
        "code": "document_not_found",
        "message": "no document with id 'nope'",
    }
    long_id = "x" * 60_000
    response = httpx.get(f"{live_server}/v1/documents/{long_id}", timeout=30)
    assert response.status_code == 404
    assert error_of(response)["message"] == (
        f"no document with id {'x' * 100!r}… (60,000 characters)"
    )
    assert len(response.content) < 300


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NONSENSE))
def test_a_question_with_nothing_searchable_gets_a_null_answer(live_server: str, name: str) -> None:
    question = NONSENSE[name]
    response = httpx.post(
        f"{live_server}/v1/ask", json={"question": question, "top_k": 3}, timeout=60
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["answer"], body["passages"]) == (None, [])
    stream = httpx.post(f"{live_server}/v1/ask/stream", json={"question": question}, timeout=60)
    assert '"answer":null' in stream.text.replace(" ", "")
    search = httpx.get(f"{live_server}/v1/search", params={"q": question[:50]}, timeout=60)
    assert search.status_code == 200 and search.json()["passages"] == []


def test_nothing_searchable_never_runs_the_model(engine: Any) -> None:
    calls: list[list[str]] = []
    encode = engine.embedder.encode_queries

    def counting(texts: list[str]) -> Any:
        calls.append(texts)
        return encode(texts)

    engine.embedder.encode_queries = counting
    try:
        for question in NONSENSE.values():
            result = engine.ask(question, 3)
            assert (result.answer, result.passages) == (None, [])
        assert calls == []
        assert engine.ask("白银炉能耗降低了多少", 3).answer is not None
        assert len(calls) == 1  # a real question still runs it, once
    finally:
        del engine.embedder.encode_queries


@pytest.mark.slow
def test_top_k_written_as_5_0_is_the_integer_5(live_server: str) -> None:
    ok = httpx.post(
        f"{live_server}/v1/ask", json={"question": "白银炉能耗降低了多少", "top_k": 2.0}, timeout=60
    )
    assert ok.status_code == 200 and len(ok.json()["passages"]) == 2
    half = httpx.post(
        f"{live_server}/v1/ask", json={"question": "白银炉", "top_k": 2.5}, timeout=60
    )
    assert half.status_code == 422 and error_of(half)["message"].startswith("top_k:")


@pytest.mark.slow
def test_q_is_trimmed_before_the_length_check_as_the_schema_says(live_server: str) -> None:
    spec = httpx.get(f"{live_server}/openapi.json", timeout=30).json()
    (q,) = [p for p in spec["paths"]["/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    assert "trimmed first" in q["description"]
    assert q["schema"]["pattern"] == "^\\s*\\S(?:[\\s\\S]{0,998}\\S)?\\s*$"
    padded = "  白银炉" + " " * 1000  # 1,005 characters raw, 3 once trimmed
    response = httpx.get(f"{live_server}/v1/search", params={"q": padded}, timeout=60)
    assert response.status_code == 200 and response.json()["query"] == "白银炉"
    too_long = httpx.get(f"{live_server}/v1/search", params={"q": "长" * 1001}, timeout=60)
    assert too_long.status_code == 422


@pytest.mark.slow
def test_stream_errors_are_json_and_documented_as_json(live_server: str) -> None:
    spec = httpx.get(f"{live_server}/openapi.json", timeout=30).json()
    responses = spec["paths"]["/v1/ask/stream"]["post"]["responses"]
    for status in ("400", "413", "422", "429", "503"):
        assert list(responses[status]["content"]) == ["application/json"], status
    response = httpx.post(f"{live_server}/v1/ask/stream", json={"question": ""}, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"


# -- a 500 (a bug, which must never happen) still reaches the browser as JSON, with CORS -----


@pytest.fixture
def server_with_a_bug(service_settings: Any, engine: Any) -> Iterator[str]:
    """The real app on uvicorn (127.0.0.1), with one extra route that raises."""
    import uvicorn

    from service.main import create_app

    settings = type(service_settings)(
        **{**dict(service_settings), "cors_origins": ["http://widget.example"]}
    )
    app = create_app(settings, engine=engine)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/boom", boom, methods=["GET"])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_an_unexpected_error_is_json_500_with_the_cors_header(server_with_a_bug: str) -> None:
    response = httpx.get(
        f"{server_with_a_bug}/v1/boom", headers={"Origin": "http://widget.example"}, timeout=30
    )
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "internal error: this is a bug, please report it",
    }
    assert response.headers["access-control-allow-origin"] == "http://widget.example"
    assert json.loads(response.content)  # one complete JSON body
