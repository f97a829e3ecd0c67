"""Typed HTTP errors and the one place that turns any exception into the JSON error shape.

Every error of our own API leaves the service as
``{"error": {"code": "<snake_case>", "message": "..."}}``. Routes raise `ApiError` subclasses
(status and code are class attributes, as in datasette); `to_api_error` maps
framework errors (HTTPException, RequestValidationError), the index layer's typed errors and
unexpected exceptions onto that shape.

The front doors that speak another ecosystem's protocol get that ecosystem's error shape, by
route prefix (`ERROR_SHAPES`), from the same `ApiError`s:

- Dify's External Knowledge API (`/retrieval`): ``{"error_code": int, "error_msg": str}``,
  with Dify's codes 1001 (invalid Authorization header, 403), 1002 (authorization failed,
  403) and 2001 (unknown knowledge, 404); any other error's `error_code` is its HTTP status.
- OpenAI-compatible routes (`/v1/chat/completions`, `/v1/models`):
  ``{"error": {"message", "type", "param", "code"}}`` as the OpenAI API sends them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import (
    CollectionNotFoundError,
    DocumentNotFoundError,
    IndexError_,
    InvalidDocumentError,
    ModelUnavailableError,
    shown_id,
)
from service.scope import unknown_field

logger = logging.getLogger("service.errors")


class ApiError(Exception):
    """An error with a fixed HTTP status and machine-readable code; the message is for people."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class MalformedRequest(ApiError):
    """The request cannot be parsed: invalid JSON, undecodable bytes, wrong content type."""

    status = 400
    code = "malformed_request"


class InvalidRequest(ApiError):
    """Well-formed request whose fields break the contract (the message names the field)."""

    status = 422
    code = "invalid_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class NotFound(ApiError):
    status = 404
    code = "not_found"


class DocumentNotFound(NotFound):
    code = "document_not_found"


class CollectionNotFound(NotFound):
    code = "collection_not_found"


class JobNotFound(NotFound):
    code = "job_not_found"


class JobsBusy(ApiError):
    """Too many upload jobs already wait (`service.upload_jobs.MAX_QUEUED`)."""

    status = 503
    code = "jobs_busy"


class SourceNotFound(NotFound):
    code = "source_not_found"


class SourceRefused(ApiError):
    """A web source (or page) that cannot be fetched or read: the message names the URL and
    the rule or failure (not http/https, a private address, robots.txt, a limit, not a feed)."""

    status = 422
    code = "source_refused"


class AdminDisabled(NotFound):
    code = "admin_disabled"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class ReloadInProgress(ApiError):
    status = 409
    code = "reload_in_progress"


class IndexInvalid(ApiError):
    status = 409
    code = "index_invalid"


class DocumentConflict(ApiError):
    status = 409
    code = "document_conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many requests: retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


class CorsRejected(ApiError):
    """A CORS preflight from an origin, method or header the allow-list does not hold."""

    status = 400
    code = "cors_rejected"


class InternalError(ApiError):
    status = 500
    code = "internal_error"


class NotReady(ApiError):
    status = 503
    code = "not_ready"


class StoreUnavailable(ApiError):
    """The app serves a fixed index without a document store (embedded use, some tests)."""

    status = 503
    code = "store_unavailable"


class ModelUnavailable(ApiError):
    status = 503
    code = "model_unavailable"


class BackendUnavailable(ApiError):
    """The index backend (Milvus) did not answer in time: retry later."""

    status = 503
    code = "backend_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": "5"})


class DifyInvalidAuthorization(ApiError):
    """Dify 1001: the Authorization header is not `Bearer <key>`."""

    status = 403
    code = "invalid_authorization_header"


class DifyAuthorizationFailed(ApiError):
    """Dify 1002: the key is not the configured one."""

    status = 403
    code = "authorization_failed"


class KnowledgeNotFound(NotFound):
    """Dify 2001: `knowledge_id` names no collection."""

    code = "knowledge_not_found"


class ModelNotFound(NotFound):
    """OpenAI-compatible routes: the requested model is not one we serve."""

    code = "model_not_found"


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one JSON error shape of our own API (a message quoting bad input is made
    encodable first)."""
    return {"error": {"code": code, "message": _encodable(message)}}  # (SSE uses it directly)


def _encodable(text: str) -> str:
    # A lone surrogate quoted from the input would make the UTF-8 encoding of the reply fail.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


DIFY_ERROR_CODES: dict[str, int] = {
    DifyInvalidAuthorization.code: 1001,
    DifyAuthorizationFailed.code: 1002,
    KnowledgeNotFound.code: 2001,
}


def dify_error_body(error: ApiError) -> dict[str, Any]:
    """Dify's shape: its own codes where Dify defines one, else the HTTP status."""
    return {
        "error_code": DIFY_ERROR_CODES.get(error.code, error.status),
        "error_msg": error.message,
    }


def openai_error_body(error: ApiError) -> dict[str, Any]:
    """OpenAI's shape; `param` is the field the message names (``"messages: ..."``)."""
    if error.status == 401:
        kind = "authentication_error"
    elif error.status == 429:
        kind = "rate_limit_error"
    elif error.status >= 500:
        kind = "server_error"
    else:
        kind = "invalid_request_error"
    field, sep, _ = error.message.partition(": ")
    param = field if sep and field and " " not in field and field != "body" else None
    return {"error": {"message": error.message, "type": kind, "param": param, "code": error.code}}


ERROR_SHAPES: tuple[tuple[str, Callable[[ApiError], dict[str, Any]]], ...] = (
    ("/retrieval", dify_error_body),
    ("/v1/chat/completions", openai_error_body),
    ("/v1/models", openai_error_body),
)
"""Route prefix -> the error body its clients understand; every other path gets ours."""


def _body_for(error: ApiError, path: str) -> dict[str, Any]:
    for prefix, shape in ERROR_SHAPES:
        if path == prefix or path.startswith(prefix + "/"):
            return shape(error)
    return error_body(error.code, error.message)


def error_response(error: ApiError, path: str = "") -> JSONResponse:
    """The JSON response for `error`, in the shape the route at `path` speaks."""
    error.message = _encodable(error.message)
    return JSONResponse(_body_for(error, path), status_code=error.status, headers=error.headers)


def to_api_error(exc: BaseException) -> ApiError:
    """Map any exception to the ApiError that describes it (used by handlers and SSE streams)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RequestValidationError):
        return validation_error(exc.errors())
    if isinstance(exc, StarletteHTTPException):
        return _from_http_exception(exc)
    if isinstance(exc, DocumentNotFoundError):
        return DocumentNotFound(str(exc))  # the id is quoted and capped there
    if isinstance(exc, CollectionNotFoundError):
        return CollectionNotFound(
            f"no collection named {shown_id(str(exc.args[0]) if exc.args else '')}: create it "
            "with PUT /v1/collections/{name}"
        )
    if isinstance(exc, InvalidDocumentError):
        return InvalidRequest(str(exc))
    from corpus.web.errors import FetchError
    from index.errors import SourceNotFoundError

    if isinstance(exc, SourceNotFoundError):
        return SourceNotFound(f"no web source with id {shown_id(str(exc.args[0]))} here")
    if isinstance(exc, FetchError):
        return SourceRefused(f"url: {exc}")
    if isinstance(exc, ModelUnavailableError):
        return ModelUnavailable(str(exc) or "the embedding model is unavailable")
    from index.errors import BackendUnavailableError

    if isinstance(exc, BackendUnavailableError):
        return BackendUnavailable(str(exc) or "the index backend is unavailable")
    if isinstance(exc, IndexError_):
        return IndexInvalid(str(exc) or type(exc).__name__)
    logger.exception("unexpected error", exc_info=exc)
    return InternalError("internal error: this is a bug, please report it")


def _from_http_exception(exc: StarletteHTTPException) -> ApiError:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return NotFound("no such route: see /docs for the API")
    if exc.status_code == 405:
        error: ApiError = MethodNotAllowed("method not allowed on this route", headers=headers)
        return error
    if exc.status_code == 413:
        return PayloadTooLarge("request body too large")
    if exc.status_code == 400:
        # FastAPI raises a bare 400 when the body bytes cannot be decoded (e.g. invalid UTF-8).
        return MalformedRequest("body: could not be decoded; send UTF-8 encoded JSON")
    generic = ApiError(str(exc.detail), headers=headers)
    generic.status = exc.status_code
    generic.code = _snake(str(exc.detail)) or "http_error"
    return generic


def _snake(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


# Plain-words messages per field; the field name is prefixed when rendered.
FIELD_MESSAGES: dict[str, str] = {
    "top_k": "must be an integer between 1 and 50",
    "q": "must be a non-empty string of at most 1000 characters",
    "rebuild": "must be true or false",
}


def validation_error(errors: Sequence[Any]) -> ApiError:
    """Turn pydantic/FastAPI validation errors into one ApiError naming the first bad field."""
    if not errors:
        return InvalidRequest("request: invalid")
    first = errors[0]
    kind = str(first.get("type", ""))
    # The first element says where (body, query string, path); a field may be named `query`.
    loc = [str(part) for part in first.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "invalid JSON")
        return MalformedRequest(f"body: malformed JSON ({detail})")
    if not loc:
        if isinstance(first.get("input"), bytes | bytearray):
            return MalformedRequest("body: must be JSON sent with Content-Type: application/json")
        if kind == "missing":
            return InvalidRequest("body: required; send a JSON object")
        return InvalidRequest("body: must be a JSON object")
    field = ".".join(loc)
    return InvalidRequest(f"{field}: {_field_message(loc[-1], kind, first)}")


def _field_message(name: str, kind: str, error: Mapping[str, Any]) -> str:
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return unknown_field(name)
    if kind == "value_error":
        # Our own validators raise ValueError with the plain-words message.
        ctx = error.get("ctx") or {}
        return str(ctx.get("error", error.get("msg", "invalid")))
    if name in FIELD_MESSAGES:
        return FIELD_MESSAGES[name]
    if kind in ("string_type", "str_type"):
        return "must be a string"
    return str(error.get("msg", "invalid")).lower()
