"""Every route of the app is an `ApiRoute`, so each gets the checks that must run before its
body is parsed (the admin key first, then lone surrogates), whoever adds it."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from service.routing import ApiRoute


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, looking inside included routers (FastAPI keeps them as branches)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += _api_routes(list(inner.routes))
    return found


def test_every_api_route_is_an_api_route(make_client: Any) -> None:
    with make_client() as client:
        routes = _api_routes(list(client.app.routes))
    paths = {r.path for r in routes}
    assert {"/v1/ask", "/v1/ask/stream", "/v1/search", "/v1/index/reload"} <= paths
    plain = [f"{sorted(r.methods)} {r.path}" for r in routes if not isinstance(r, ApiRoute)]
    assert plain == [], "make these routers with service.routing.api_router(...)"
