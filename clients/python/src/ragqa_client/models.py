"""The bodies of the ragqa HTTP API, as typed models (the shapes of `/openapi.json`).

Responses keep fields this version does not know (`extra="allow"`): a newer service may add
some, and they stay readable (`passage.model_extra`) instead of breaking the client. Every
offset is a character offset into the document's `text`, half-open: for a passage `p` of
document `d`, `d.text[p.char_start:p.char_end] == p.text`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Span(_Response):
    char_start: int
    char_end: int


class Outlet(_Response):
    """Another outlet that ran the cited article (a reprint the service keeps as an alias)."""

    source: str
    url: str | None = None
    title: str
    published: str | None = None


class Alias(Outlet):
    """A reprint of a document, stored as its alias (not indexed again)."""

    alias_id: str
    added_at: str


class Passage(_Response):
    """A ranked passage with its citation."""

    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int
    char_end: int
    highlight: Span | None = None
    url: str | None = None
    aliases: list[Outlet] = Field(default_factory=list)
    """The other outlets that ran the article, oldest first."""


class Answer(_Response):
    """The shortest verbatim span of a passage that answers the question."""

    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int
    char_end: int
    passage_rank: int
    url: str | None = None
    aliases: list[Outlet] = Field(default_factory=list)
    """The other outlets that ran the article, oldest first."""


class AskResult(_Response):
    """`POST /v1/ask`: the answer (None when the corpus does not answer) and the passages."""

    question: str
    answer: Answer | None
    passages: list[Passage]
    took_ms: float


class SearchResult(_Response):
    """`GET /v1/search`: the passages of `/v1/ask` without an answer."""

    query: str
    passages: list[Passage]
    took_ms: float


class PassagesEvent(_Response):
    """The first event of a stream: the passages, highlights still None."""

    question: str
    passages: list[Passage]


class AnswerEvent(_Response):
    """The last event of a stream: the answer and the passages with their highlights."""

    answer: Answer | None
    passages: list[Passage]
    took_ms: float


StreamEvent = PassagesEvent | AnswerEvent


class DocumentSummary(_Response):
    doc_id: str
    title: str
    source: str
    published: str | None
    n_chars: int
    n_passages: int
    collection: str


class Document(DocumentSummary):
    """One document with the `text` every offset points into."""

    text: str
    url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    aliases: list[Alias] = Field(default_factory=list)
    """Reprints of the document by other outlets, oldest first."""


class NewDocument(BaseModel):
    """A document to store. Give `text`, or pre-chunked `passages`, or both (each passage
    then occurs verbatim in `text`). The service validates every field and names a bad one."""

    model_config = ConfigDict(extra="forbid")

    title: str
    text: str | None = None
    published: str | None = Field(default=None, description="YYYY-MM-DD")
    url: str | None = None
    source: str | None = None
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)
    passages: list[str] | None = None
    doc_id: str | None = Field(default=None, description="omitted: derived from the content")


class Written(_Response):
    doc_id: str = Field(description="for a duplicate: the document it is a copy of")
    status: str = Field(description="created, replaced, unchanged or duplicate")
    item: str
    title: str
    alias_id: str | None = Field(default=None, description="a duplicate's own id")
    similarity: float | None = Field(default=None, description="a duplicate's, 0..1")


class Skipped(_Response):
    item: str
    reason: str


class WriteResult(_Response):
    """What a write stored (in input order) and what it skipped, and why."""

    collection: str
    doc_ids: list[str]
    documents: list[Written]
    skipped: list[Skipped]
    skipped_count: int
    embedded_documents: int
    took_ms: float


class DocumentDeleted(_Response):
    doc_id: str
    collection: str
    deleted: bool


class Collection(_Response):
    name: str
    documents: int
    created_at: str


class CollectionDeleted(_Response):
    name: str
    deleted_documents: int
