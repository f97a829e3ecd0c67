"""Pydantic models of the web sources API: a source in, sources and their polls out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from corpus.web.addresses import parse_target
from corpus.web.errors import FetchError
from index.store.sources import Poll, Source
from service.document_schemas import SkippedOut

MAX_URLS = 100
"""Article URLs one request may add."""
MAX_URL_CHARS = 2000
SOURCE_EXAMPLE: dict[str, Any] = {"url": "https://example.org/news/rss.xml", "interval_s": 1800}


def check_url(url: str) -> str:
    """The URL, or ValueError saying why it cannot be a source (before anything is fetched)."""
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"at most {MAX_URL_CHARS} characters")
    if any(ord(c) < 0x20 or c == "\x7f" for c in url):
        raise ValueError("must not contain control characters")
    try:
        parse_target(url)
    except FetchError as exc:
        raise ValueError(exc.reason) from exc
    return url.strip()


class SourceIn(BaseModel):
    """A feed, sitemap or article page to take articles from: `url`, or `urls` (up to 100
    article pages, each its own source)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SOURCE_EXAMPLE]})

    url: str | None = Field(
        default=None, description="an RSS/Atom feed, a sitemap or an article page (http/https)"
    )
    urls: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_URLS, description="article pages"
    )
    kind: Literal["auto", "feed", "sitemap", "page"] = Field(
        default="auto", description="what `url` must be; auto: whatever it turns out to be"
    )
    interval_s: int | None = Field(
        default=None,
        ge=60,
        le=30 * 86400,
        description="seconds between polls (default RAGQA_POLL_INTERVAL_S for feeds and "
        "sitemaps; pages are read once, then only when polled explicitly)",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return check_url(value) if value is not None else None

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        checked = []
        for i, url in enumerate(value):
            try:
                checked.append(check_url(url))
            except ValueError as exc:
                raise ValueError(f"[{i}] {url[:200]!r}: {exc}") from exc
        return checked


class AddedOut(BaseModel):
    doc_id: str
    url: str
    title: str


class PollOut(BaseModel):
    """What one poll did."""

    started_at: str
    finished_at: str
    outcome: Literal["added", "nothing_new", "not_modified", "failed"]
    http_status: int | None
    added: list[AddedOut] = Field(description="documents this poll created or replaced")
    skipped: list[SkippedOut] = Field(description="items not added, each with the reason")
    error: str | None = Field(description="why the source itself could not be read")

    @classmethod
    def of(cls, poll: Poll) -> PollOut:
        return cls(
            started_at=poll.started_at,
            finished_at=poll.finished_at,
            outcome=poll.outcome,  # type: ignore[arg-type]
            http_status=poll.http_status,
            added=[AddedOut(**a.__dict__) for a in poll.added],
            skipped=[SkippedOut(item=i, reason=r) for i, r in poll.skipped],
            error=poll.error,
        )


class SourceOut(BaseModel):
    """A web source, its state and its most recent polls (newest first)."""

    source_id: str
    collection: str
    url: str
    kind: Literal["feed", "sitemap", "page"]
    title: str | None
    interval_s: int | None
    created_at: str
    last_poll_at: str | None
    next_poll_at: str | None
    etag: str | None
    last_modified: str | None
    last_error: str | None
    items_seen: int
    polls: list[PollOut]

    @classmethod
    def of(cls, source: Source) -> SourceOut:
        return cls(
            **{k: v for k, v in source.__dict__.items() if k != "polls"},
            polls=[PollOut.of(p) for p in source.polls],
        )


class SourcesWritten(BaseModel):
    """The sources of a `POST …/sources`: created ones were polled once (see `polls`)."""

    collection: str
    created: list[str] = Field(description="ids of the sources created by this request")
    sources: list[SourceOut]
    skipped: list[SkippedOut] = Field(description="URLs of `urls` that could not be added")


class SourceDeleted(BaseModel):
    source_id: str
    collection: str
    deleted: bool = True
