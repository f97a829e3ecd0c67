"""Pydantic models of the HTTP edge: every request and response body of /work/shared/API.md.

They mirror the frozen dataclasses of `index.types` (built from them with `from_attributes`),
so `/openapi.json` describes each route exactly. Validators raise ValueError with plain words;
`service.errors` prefixes the field name.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from service.scope import Scope
from service.text import lone_surrogate_message

MAX_QUESTION_CHARS = 1000
MAX_CONTEXT_QUESTIONS = 5
MAX_TOP_K = 50
DEFAULT_TOP_K = 5


QUESTION_PATTERN = r"^\s*\S(?:[\s\S]{0," + str(MAX_QUESTION_CHARS - 2) + r"}\S)?\s*$"
r"""What `clean_question` accepts, as a JSON Schema pattern: 1 to 1000 characters once the
surrounding whitespace is trimmed (Python's `\s` is exactly what `str.strip` removes)."""
QUESTION_RULE = (
    f"Surrounding whitespace is trimmed first; then 1 to {MAX_QUESTION_CHARS} characters "
    "(code points) of valid Unicode (no lone surrogates)."
)


def clean_question(value: str) -> str:
    """Trim a question and enforce 1..1000 characters (shared by /v1/ask and /v1/search)."""
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"must be at most {MAX_QUESTION_CHARS} characters after trimming")
    surrogate = lone_surrogate_message(text)
    if surrogate is not None:
        raise ValueError(surrogate)
    return text


def _integral(value: object) -> object:
    """5.0 is the integer 5 (JSON Schema counts it as one); 2.5, "5" and true stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_integral)]
"""An integer as JSON Schema has it (5 or 5.0); use with `strict=True` so "5" and true fail."""


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case error code, stable for programs")
    message: str = Field(description="what was wrong, in plain words")


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx response."""

    error: ErrorDetail


ContextQuestion = Annotated[
    str,
    Field(strict=True, json_schema_extra={"pattern": QUESTION_PATTERN}),
    AfterValidator(clean_question),
]
"""An earlier question of a conversation (`AskRequest.context`): checked like a question."""


class AskRequest(Scope):
    """The question, how many passages, and its scope (`service.scope`); any other key is
    refused, naming it."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        strict=True,
        description=f"The question. {QUESTION_RULE}",
        examples=["白银炉能耗降低了多少"],
        json_schema_extra={"pattern": QUESTION_PATTERN},
    )
    top_k: JsonInt = Field(
        default=DEFAULT_TOP_K,
        ge=1,
        le=MAX_TOP_K,
        strict=True,
        description="Passages to return: an integer (5 or 5.0; not 2.5, not a string).",
    )

    context: list[ContextQuestion] | None = Field(
        default=None,
        max_length=MAX_CONTEXT_QUESTIONS,
        description="Earlier questions of the conversation, oldest first (at most "
        f"{MAX_CONTEXT_QUESTIONS}, each like `question`): a follow-up such as '那么金昌呢？' "
        "is rewritten into a standalone question with them before retrieval, and the "
        "response's `question` is the question answered.",
        examples=[["白银炉能耗降低了多少"]],
    )

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return clean_question(value)


class SpanOut(_Out):
    char_start: int
    char_end: int


class OutletOut(_Out):
    """Another outlet that ran the cited article: a reprint stored as an alias of the
    document (docs/documents.md, "Duplicates")."""

    source: str
    url: str | None
    title: str
    published: str | None


ALIASES_DESCRIPTION = (
    "the other outlets that ran this article (reprints stored as aliases of the document), "
    "oldest first"
)


class PassageOut(_Out):
    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int = Field(description="code-point offset into the document text, inclusive")
    char_end: int = Field(description="code-point offset into the document text, exclusive")
    highlight: SpanOut | None = Field(description="the answer span when it lies in this passage")
    byline: str | None = Field(default=None, description="the byline as printed, if any")
    reporters: list[str] = Field(default_factory=list, description="the byline's names")
    newspaper: str | None = None
    paper_page: str | None = Field(default=None, description="the newspaper page (版次)")
    place: str | None = Field(default=None, description="the dateline's place")
    url: str | None = Field(
        default=None,
        description="link to the article: the document's own `url`, else ragqa's read page "
        "(`/read/{doc_id}?start=&end=#cited`) with the passage highlighted",
    )
    aliases: list[OutletOut] = Field(default_factory=list, description=ALIASES_DESCRIPTION)


class AnswerOut(_Out):
    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int
    char_end: int
    passage_rank: int = Field(description="rank of the passage the answer is quoted from")
    byline: str | None = Field(default=None, description="the byline as printed, if any")
    reporters: list[str] = Field(default_factory=list, description="the byline's names")
    newspaper: str | None = None
    paper_page: str | None = Field(default=None, description="the newspaper page (版次)")
    place: str | None = Field(default=None, description="the dateline's place")
    url: str | None = Field(
        default=None,
        description="link to the article: the document's own `url`, else ragqa's read page "
        "(`/read/{doc_id}?start=&end=#cited`) with the answer highlighted",
    )
    aliases: list[OutletOut] = Field(default_factory=list, description=ALIASES_DESCRIPTION)


class AskResponse(_Out):
    question: str
    answer: AnswerOut | None = Field(description="null when the corpus does not answer")
    passages: list[PassageOut]
    took_ms: float


class SearchResponse(_Out):
    query: str
    passages: list[PassageOut]
    took_ms: float


class DocumentSummaryOut(_Out):
    doc_id: str
    title: str
    source: str
    published: str | None
    n_chars: int
    n_passages: int
    collection: str = Field(description="the collection the document belongs to")
    byline: str | None = Field(default=None, description="the byline as printed, if any")
    reporters: list[str] = Field(default_factory=list, description="the byline's names")
    newspaper: str | None = None
    paper_page: str | None = Field(default=None, description="the newspaper page (版次)")
    place: str | None = Field(default=None, description="the dateline's place")


class AliasOut(OutletOut):
    """A reprint of the document, stored as its alias (not indexed again)."""

    alias_id: str = Field(description="its own id: DELETE on it removes just this alias")
    added_at: str


class DocumentOut(DocumentSummaryOut):
    text: str
    url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    aliases: list[AliasOut] = Field(
        default_factory=list,
        description="reprints of this article by other outlets, stored as its aliases, oldest "
        "first (docs/documents.md, 'Duplicates')",
    )


class StreamPassagesEvent(_Out):
    """`event: passages` of /v1/ask/stream (highlights are null at this point)."""

    question: str
    passages: list[PassageOut]


class StreamAnswerEvent(_Out):
    """`event: answer` of /v1/ask/stream."""

    answer: AnswerOut | None
    passages: list[PassageOut]
    took_ms: float


class ReloadRequest(BaseModel):
    rebuild: bool = Field(
        default=False, strict=True, description="rebuild the index from the corpus first"
    )


class ReloadResponse(BaseModel):
    documents: int
    passages: int
    model: str
    built_at: str | None
    took_ms: float


class StatusResponse(BaseModel):
    status: str


class ReadyResponse(StatusResponse):
    """`/readyz`: ready, and (serving the document store) what this replica serves."""

    version: int | None = Field(
        default=None,
        description="the document store's generation this replica's view serves (bumped by "
        "every committed write; replicas on one store converge on the same number)",
    )
    segments: int | None = Field(default=None, description="index segments the view reads")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting the error model for the given statuses."""
    descriptions = {
        400: "Malformed request (invalid JSON, undecodable bytes, not JSON)",
        401: "Missing or wrong API key",
        404: "Not found",
        409: "Conflict (reload in progress, the new index is invalid, or a document id is taken)",
        413: "Request body (or an uploaded file) over the size limit",
        415: "Unsupported file type or content type",
        422: "A field is invalid; the message names it",
        429: "Rate limited; see Retry-After",
        503: "Index not loaded yet",
    }
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}


def json_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`error_responses` for a route whose success media type is not JSON (the SSE stream):
    its errors are still `application/json`, and the document says so."""
    return {
        status: {
            "description": entry["description"],
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
            },
        }
        for status, entry in error_responses(*statuses).items()
    }
