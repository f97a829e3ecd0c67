"""Pydantic models of the documents API: documents in, write reports and collections out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from corpus.formats import MAX_ARTICLE_CHARS
from index.store.records import check_collection_name
from index.store.writes import MAX_TITLE_CHARS, NewDocument
from service.scope import DATE_SCHEMA, MetadataValue, check_date, metadata_strings

MAX_BATCH = 1000
"""Documents per write request, in every format (JSON, files, JSONL lines)."""
MAX_SKIPPED_SHOWN = 100
"""Skipped inputs listed in a write's answer; `skipped_count` counts them all."""
MAX_PASSAGES = 2000
DOC_ID_PATTERN = r"^[^/\s\x00-\x1f]{1,200}$"
DOC_ID_SCHEMA_PATTERN = r"^(?!\.\.?$)[^/\s\x00-\x1f]{1,200}$"
"""`DOC_ID_PATTERN` as the schema states it: '.' and '..' are refused too (a URL path cannot
name them). The validators check it with Python's `re`."""
TEXT_PATTERN = r"\S"
"""A title or text is not empty or only spaces."""

DOCUMENT_EXAMPLE: dict[str, Any] = {
    "title": "兰州新区氢能产业园开工",
    "text": "3月1日，兰州新区氢能产业园开工建设，总投资50亿元，预计年产氢燃料电池汽车5000辆。",
    "published": "2025-03-01",
    "url": "https://example.org/news/1",
    "source": "甘肃日报",
    "metadata": {"lang": "zh", "desk": "economy"},
}


class DocumentContent(BaseModel):
    """One article's content (the body of `PUT .../documents/{doc_id}`, whose path names the
    id). Give `text`, or pre-chunked `passages` (kept as given), or both (then every passage
    must occur verbatim in `text`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [DOCUMENT_EXAMPLE],
            "anyOf": [{"required": ["text"]}, {"required": ["passages"]}],
        },
    )

    title: str = Field(
        strict=True,
        description=f"1 to {MAX_TITLE_CHARS} characters",
        json_schema_extra={"maxLength": MAX_TITLE_CHARS, "pattern": TEXT_PATTERN},
    )
    text: str = Field(
        default="",
        strict=True,
        validate_default=True,
        description=f"the article text, at most {MAX_ARTICLE_CHARS:,} characters "
        "(MAX_ARTICLE_CHARS); required unless `passages` are given",
        json_schema_extra={"pattern": TEXT_PATTERN, "maxLength": MAX_ARTICLE_CHARS},
    )
    published: str | None = Field(
        default=None, description="ISO date YYYY-MM-DD", json_schema_extra=DATE_SCHEMA
    )
    url: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="what `filters.source` matches; omitted: the URL's host, else the "
        "collection name",
    )
    metadata: dict[str, MetadataValue] = Field(
        default_factory=dict, description="what `filters.metadata` matches (values as strings)"
    )
    passages: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PASSAGES,
        description="pre-chunked passages, indexed as given instead of chunking `text`; "
        "with `text`, each must occur in it verbatim (without it, the text is the passages "
        "joined by blank lines)",
        json_schema_extra={"items": {"type": "string", "pattern": TEXT_PATTERN}},
    )

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if len(value) > MAX_TITLE_CHARS:
            raise ValueError(f"must be at most {MAX_TITLE_CHARS} characters, got {len(value)}")
        return value

    @field_validator("published")
    @classmethod
    def _published(cls, value: str | None) -> str | None:
        return check_date(value)

    @model_validator(mode="before")
    @classmethod
    def _text_from_passages(cls, data: Any) -> Any:
        """Pre-chunked passages without `text`: the text is the passages joined by blank lines."""
        passages = data.get("passages") if isinstance(data, dict) else None
        given = isinstance(passages, list) and all(isinstance(p, str) for p in passages)
        if given and "text" not in data:
            return {**data, "text": "\n\n".join(passages)}  # type: ignore[arg-type]
        return data

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if len(value) > MAX_ARTICLE_CHARS:
            raise ValueError(article_too_long(len(value)))
        return value

    def to_new(self, item: str) -> NewDocument:
        return NewDocument(
            title=self.title,
            text=self.text,
            published=self.published,
            url=self.url,
            source=self.source,
            metadata=metadata_strings(self.metadata),
            passages=tuple(self.passages) if self.passages is not None else None,
            doc_id=getattr(self, "doc_id", None),
            item=item,
        )


class DocumentIn(DocumentContent):
    """One article to store, with an id of your own if you like."""

    doc_id: str | None = Field(
        default=None,
        pattern=DOC_ID_PATTERN,
        description="Your id; omitted: derived from the collection and the content, so "
        "posting the same content again gives the same id and embeds nothing.",
        json_schema_extra={"pattern": DOC_ID_SCHEMA_PATTERN},
    )

    @field_validator("doc_id")
    @classmethod
    def _doc_id(cls, value: str | None) -> str | None:
        if value is not None and value in (".", ".."):
            raise ValueError("must not be '.' or '..'")
        return value


class WrittenOut(BaseModel):
    doc_id: str = Field(
        description="the document's id; for a duplicate, the id of the document it is a copy of"
    )
    status: str = Field(
        description="created, replaced, unchanged (nothing re-embedded) or duplicate (a copy "
        "of document `doc_id`, stored as its alias `alias_id`, not indexed again)"
    )
    item: str = Field(description="which input: documents[i], a file name, or file:line")
    title: str
    alias_id: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="a duplicate's own id, as an alias of `doc_id` (DELETE removes just it); "
        "only on duplicates",
    )
    similarity: float | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="a duplicate's estimated Jaccard similarity to `doc_id` (0..1; copies "
        "are 0.5 or more, docs/documents.md, 'Duplicates'); only on duplicates",
    )


class SkippedOut(BaseModel):
    item: str
    reason: str


class WriteResponse(BaseModel):
    collection: str
    doc_ids: list[str] = Field(
        description="ids of every stored input, in input order (a duplicate's: the document "
        "it is a copy of)"
    )
    documents: list[WrittenOut]
    skipped: list[SkippedOut] = Field(
        description=f"inputs not stored, and why: the first {MAX_SKIPPED_SHOWN}"
    )
    skipped_count: int = Field(description="how many inputs were skipped in all")
    embedded_documents: int = Field(description="documents embedded by this request")
    took_ms: float


class CollectionOut(BaseModel):
    name: str
    documents: int
    created_at: str


class CollectionDeleted(BaseModel):
    name: str
    deleted_documents: int


class DocumentDeleted(BaseModel):
    doc_id: str
    collection: str
    deleted: bool = True


def article_too_long(length: int) -> str:
    """Why a text of `length` characters is refused (the words of the file readers)."""
    return (
        f"{length:,} characters long, over the limit of {MAX_ARTICLE_CHARS:,} "
        "(MAX_ARTICLE_CHARS); split it into several articles"
    )


def collection_name(value: str) -> str:
    """Validated path parameter (ValueError in plain words)."""
    return check_collection_name(value)
