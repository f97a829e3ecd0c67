"""CORS: only allow-listed origins get the header; none by default; never credentials."""

from __future__ import annotations

from typing import Any

ORIGIN = "https://news.example"


def test_allowed_origin_gets_the_cors_header(make_client: Any) -> None:
    with make_client(cors_origins=[ORIGIN]) as client:
        response = client.get("/v1/documents", headers={"Origin": ORIGIN})
        preflight = client.options(
            "/v1/ask",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in response.headers
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" not in preflight.headers["access-control-allow-headers"].lower()


def test_other_origin_gets_no_cors_header(make_client: Any) -> None:
    with make_client(cors_origins=[ORIGIN]) as client:
        response = client.get("/v1/documents", headers={"Origin": "https://evil.example"})
        preflight = client.options(
            "/v1/ask",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight.headers


def test_preflight_asking_for_authorization_is_refused(make_client: Any) -> None:
    with make_client(cors_origins=[ORIGIN]) as client:
        preflight = client.options(
            "/v1/index/reload",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
    assert preflight.status_code == 400


def test_no_cors_headers_by_default(client: Any) -> None:
    response = client.get("/v1/documents", headers={"Origin": ORIGIN})
    assert not any(h.startswith("access-control-") for h in response.headers)
