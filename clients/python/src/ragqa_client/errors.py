"""What can go wrong talking to a ragqa service, as typed exceptions.

The service answers every refusal as ``{"error": {"code", "message"}}`` with a 4xx status;
`ApiError` carries those three, and a subclass per status lets a caller catch the one it can
handle (`NotFoundError`, `RateLimitError`, ...) without comparing numbers.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx


class RagqaError(Exception):
    """Any failure of a ragqa client call."""


class ConnectionFailed(RagqaError):
    """The service could not be reached, or the connection broke (no HTTP answer)."""


class ApiError(RagqaError):
    """The service refused the request; `status`, `code` and `message` are its JSON error.

    `status` is None for an `event: error` sent after a stream had started (its HTTP status
    was already 200)."""

    def __init__(self, status: int | None, code: str, message: str, body: Any = None) -> None:
        where = f"HTTP {status}" if status is not None else "stream error"
        super().__init__(f"{where} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class BadRequestError(ApiError):
    """400: the request could not be parsed."""


class AuthenticationError(ApiError):
    """401: no API key, or the wrong one (writes need the service's `RAGQA_API_KEY`)."""


class NotFoundError(ApiError):
    """404: an unknown document, collection or route."""


class ConflictError(ApiError):
    """409: a reload is in progress, or a document id is taken."""


class PayloadTooLargeError(ApiError):
    """413: the body (or a file) is over the service's size limit."""


class UnprocessableEntityError(ApiError):
    """422: a field is invalid; the message names it."""


class RateLimitError(ApiError):
    """429: rate limited; `retry_after` is the server's `Retry-After` in seconds, if sent."""

    retry_after: float | None = None


class ServiceUnavailableError(ApiError):
    """503: the index is not loaded yet, or this service has no document store."""


BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_from_body(status: int | None, body: Any) -> ApiError:
    """The exception for an error body of the service (`{"error": {"code", "message"}}`)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code, message = error["code"], str(error.get("message", ""))
    else:  # not our shape (a proxy's error page, say): keep what it said
        code, message = "http_error", str(body)[:500]
    kind = BY_STATUS.get(status or 0, ApiError)
    return kind(status, code, message, body)


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for a non-2xx response whose body has been read."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    error = error_from_body(response.status_code, body)
    if isinstance(error, RateLimitError):
        with contextlib.suppress(KeyError, ValueError):
            error.retry_after = float(response.headers["retry-after"])
    return error
