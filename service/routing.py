"""The route class every router of the service uses: checks that run before the body is parsed.

FastAPI parses a JSON body before it solves a route's dependencies, so a dependency cannot
authenticate first, and pydantic's `str` accepts lone UTF-16 surrogates (``"\\ud800"`` is valid
JSON escape syntax but not Unicode: the tokenizer fails on it). `ApiRoute` runs, in order:

1. the route's key check, if it depends on `service.auth.require_key`: no key, 401, whatever
   the body is (`refuse_without_key` makes the same check in `service.bodylimit`, from the
   headers, before the body is read at all);
2. a check that the query string's percent-encoded bytes are UTF-8: 400 naming the parameter;
3. a scan of the JSON body for lone surrogates in any string or key: 422 naming the field.

Routers are made with `api_router(...)`, so a new router gets both without thinking about it
(`tests/service/test_routes_contract.py` checks that every route is an `ApiRoute`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from index.settings import Settings
from service.auth import check_key, require_key
from service.errors import MalformedRequest
from service.text import lone_surrogate_message


class ApiRoute(APIRoute):
    """An APIRoute that authenticates and rejects lone surrogates before parsing the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needs_key = route_needs_key(self)

        async def guarded(request: Request) -> Response:
            if needs_key:
                check_key(request.app.state.ragqa.settings, request.headers.get("authorization"))
            reject_undecodable_query(request.scope.get("query_string", b""))
            await reject_lone_surrogates(request)
            return await handler(request)

        return guarded


def route_needs_key(route: BaseRoute) -> bool:
    """Whether `route` depends on `service.auth.require_key`."""
    return isinstance(route, APIRoute) and any(
        d.dependency is require_key for d in route.dependencies
    )


def flat_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Every route in matching order, looking inside included routers (FastAPI keeps each as
    one branch; its routes carry their full paths)."""
    found: list[BaseRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += flat_routes(inner.routes) if inner is not None else [route]
    return found


def refuse_without_key(settings: Settings, routes: Sequence[BaseRoute], scope: Scope) -> None:
    """Raise the 401 (or the 404 of disabled admin routes) for a request whose route needs
    the key and whose headers do not carry it; decided from the headers alone, so
    `service.bodylimit` calls it before reading a byte of the body. `routes`: `flat_routes`
    of the app."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            if route_needs_key(route):
                check_key(settings, Headers(scope=scope).get("authorization"))
            return


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes are `ApiRoute`s (use it for every router of the service)."""
    return APIRouter(route_class=ApiRoute, **kwargs)


def reject_undecodable_query(query: bytes) -> None:
    """Raise a 400 naming the query parameter whose percent-encoded bytes are not UTF-8.

    Starlette decodes them with replacement characters (`q=%ff%fe` would be searched as
    "\ufffd\ufffd"); the API refuses bytes that are not UTF-8 instead."""
    for pair in query.split(b"&"):
        key, _, value = pair.partition(b"=")
        for part in (key, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError as exc:
                name = unquote_to_bytes(key).decode("utf-8", "replace")[:40] or "query"
                raise MalformedRequest(
                    f"{name}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}); "
                    "percent-encode the UTF-8 bytes of the text"
                ) from None


async def reject_lone_surrogates(request: Request) -> None:
    """Raise a 422 validation error if the JSON body holds a lone surrogate anywhere."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    body = await request.body()  # cached on the request: the route reads it again for free
    if b"\\u" not in body and b"\\U" not in body:
        return  # a surrogate can only arrive as an escape (raw ones are not valid UTF-8)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return  # malformed: the route's own parsing reports it
    for loc, text in _strings(data, ()):
        message = lone_surrogate_message(text)
        if message is not None:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", *loc) if loc else ("body",),
                        "msg": message,
                        "input": None,
                        "ctx": {"error": message},
                    }
                ]
            )


def _strings(
    value: object, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string of a parsed JSON value (keys included), with where it is (keys escaped)."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
            yield (*loc, shown), key
            yield from _strings(item, (*loc, shown))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*loc, i))


def path_methods(request: Request) -> list[str]:
    """The documented methods of the request's path (every operation of `/openapi.json`
    whose path template matches it), for a 405's `Allow`.

    Starlette's own 405 names the methods of the first matching route only; a path served by
    several routes (PUT and DELETE of one resource) needs all of them. The path is read as
    the client sent it, with `%2F` kept inside its segment (`a%2Fb` is one name with a
    slash, not two segments)."""
    path = "/" + "/".join(s.replace("/", "%2F") for s in path_segments(request))
    found: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            found.update(m.upper() for m in operations if m.upper() in HTTP_METHODS)
    return sorted(found)


def path_segments(request: Request) -> list[str]:
    """The request path's segments as the client sent them, each percent-decoded on its own
    (`a%2Fb` is one segment holding a slash, not two)."""
    raw = request.scope.get("raw_path")
    if not raw:
        return request.url.path.split("/")[1:]
    path = raw.decode("ascii", "replace").split("?", 1)[0]
    return [unquote(part) for part in path.split("/")[1:]]


HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
