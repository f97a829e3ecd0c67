"""The admin key: `check_key` compares it in constant time; `require_key` is the route
dependency that marks a route as needing it (and documents the bearer scheme in OpenAPI).

`service.routing.ApiRoute` calls `check_key` before the body is parsed, so a caller without the
key gets 401 whatever it sent and learns nothing about the body.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from index.settings import Settings
from service.errors import AdminDisabled, Unauthorized

bearer = HTTPBearer(
    auto_error=False,
    description="`Authorization: Bearer <RAGQA_API_KEY>`; admin routes are off without it",
)


def check_key(settings: Settings, authorization: str | None) -> None:
    """Raise unless admin routes are enabled and `authorization` carries the key."""
    key = settings.api_key
    if key is None:
        raise AdminDisabled("admin routes are disabled: set RAGQA_API_KEY")
    scheme, _, token = (authorization or "").partition(" ")
    expected = key.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Unauthorized("missing or wrong API key: send Authorization: Bearer <key>")


async def require_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Dependency of admin routes (`ApiRoute` has already checked; this keeps it checked for
    any other route class and puts the scheme in the OpenAPI document)."""
    check_key(request.app.state.ragqa.settings, request.headers.get("authorization"))
