"""Every route of the app is an `ApiRoute`, so each gets the checks that must run before its
body is parsed (the admin key first, then lone surrogates), whoever adds it."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from service.routing import ApiRoute


def test_every_api_route_is_an_api_route(make_client: Any) -> None:
    with make_client() as client:
        routes = [r for r in client.app.routes if isinstance(r, APIRoute)]
    assert routes
    plain = [f"{sorted(r.methods)} {r.path}" for r in routes if not isinstance(r, ApiRoute)]
    assert plain == [], "make these routers with service.routing.api_router(...)"
