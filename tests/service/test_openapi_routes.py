"""Every route of the app is described in /openapi.json, except the MCP endpoint."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

FASTAPI_OWN = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_every_api_route_is_in_openapi_and_only_mcp_is_not(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()["paths"]
    routes = client.app.routes  # type: ignore[attr-defined]
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods - {"HEAD"}:
                assert method.lower() in spec[route.path], (method, route.path)
    hidden = {r.path for r in routes if isinstance(r, APIRoute) and not r.include_in_schema}
    plain = {r.path for r in routes if isinstance(r, Route) and not isinstance(r, APIRoute)}
    assert plain - FASTAPI_OWN - hidden == {"/mcp"}
    for path in ("/retrieval", "/v1/chat/completions", "/v1/models", "/v1/models/{model}"):
        assert path in spec
