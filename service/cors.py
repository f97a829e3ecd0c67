"""CORS for the widget's host sites, with refusals in the one JSON error shape.

Starlette answers a preflight it refuses with ``text/plain`` "Disallowed CORS origin"; a client
reading errors as `{"error": {"code", "message"}}` then has nothing to show. `JsonCORSMiddleware`
sends the same 400, with the same headers, as a `CorsRejected` JSON error naming what was not
allowed.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from service.errors import CorsRejected, error_response

_KEEP_OUT = {"content-type", "content-length"}


class JsonCORSMiddleware(CORSMiddleware):
    """`CORSMiddleware` whose refused preflights are JSON errors."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        failures = bytes(response.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        asked = {
            "origin": f"origin {request_headers.get('origin', '')!r}",
            "method": f"method {request_headers.get('access-control-request-method', '')!r}",
            "headers": "headers " + repr(request_headers.get("access-control-request-headers", "")),
            "private-network": "private-network access",
        }
        refused = [asked.get(part.strip(), part.strip()) for part in failures.split(",")]
        error = CorsRejected(
            f"CORS preflight refused: {', '.join(refused)} not allowed "
            "(allowed origins are set by RAGQA_CORS_ORIGINS)"
        )
        json_response = error_response(error)
        for name, value in response.headers.items():
            if name.lower() not in _KEEP_OUT:
                json_response.headers[name] = value
        return json_response
