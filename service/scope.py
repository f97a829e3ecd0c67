"""The scope of a question, one schema for every front door: which collections, which documents.

    {"collections": ["fdnews"],
     "filters": {"published_from": "2025-01-01", "published_to": "2025-12-31",
                 "source": ["000_0ad1dae646fc90f2.txt"], "metadata": {"desk": "economy"},
                 "reporter": ["刘健"], "newspaper": ["甘肃日报"], "paper_page": ["7"],
                 "place": ["兰州"]}}

`collections` omitted: every collection. Every field of `filters` is optional; all given must
match. The same names everywhere: the JSON body of `POST /v1/ask`, `/v1/ask/stream` and
`/v1/chat/completions` (where `model: "ragqa-extractive:<collection>"` also names one), the
arguments of the MCP tools `search` and `ask`, the LangChain retriever, `ragqa ask`, and, as
query parameters with the filters flattened (`collections`, `published_from`,
`published_to`, `source`, `metadata=key:value`, `reporter`, `newspaper`, `paper_page`,
`place`), `GET /v1/search`. Dify's request is Dify's (`knowledge_id` and
`metadata_condition`, mapped onto this in `service.dify`).

`reporter`, `newspaper`, `paper_page` and `place` match the news fields a page states
(`corpus.newsmeta`): any of the values given, and for `reporter` any of the document's
reporters; a page is compared without leading zeros (``07`` is ``7``).

A key that is not one of these is refused with a message naming it, and the name meant when
it is a near miss (`sources` → `source`, `collection` → `collections`): an ignored filter
would answer from documents the caller meant to exclude, and look like an answer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

from index.types import Filters

COLLECTIONS = "collections"
FILTERS = "filters"
NEWS_FILTER_FIELDS = ("reporter", "newspaper", "paper_page", "place")
FILTER_FIELDS = ("published_from", "published_to", "source", "metadata", *NEWS_FILTER_FIELDS)
SCOPE_NAMES = (COLLECTIONS, FILTERS, *FILTER_FIELDS)
"""Every name of the scope vocabulary (the near-miss hints are drawn from these)."""
MAX_FILTER_VALUES = 100
"""Sources (or collections) one scope may list, by every door."""

DATE_SCHEMA: JsonDict = {"format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
"""What `check_date` accepts, for the OpenAPI schema (the check itself words the refusal)."""

MetadataValue = str | int | float | bool


def check_date(value: str | None) -> str | None:
    """An ISO date ``YYYY-MM-DD`` (None passes), or ValueError in plain words."""
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}") from None


def metadata_strings(values: dict[str, MetadataValue]) -> dict[str, str]:
    """Metadata values as the strings they are stored and compared as (true → "true")."""
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items()}


PAGE_PATTERN = "^[0-9]{1,4}$"
PAGE_SCHEMA: JsonDict = {
    "anyOf": [
        {"type": "string", "pattern": PAGE_PATTERN},
        {"type": "integer", "minimum": 0, "maximum": 9999},
    ]
}
"""What `check_page` accepts, for the OpenAPI schema."""


def check_page(value: str) -> str:
    """A newspaper page (版次) as stored: digits without leading zeros ("07" → "7")."""
    if re.fullmatch(PAGE_PATTERN, value) is None:
        raise ValueError(f"must be a page number like 7 or 07, got {value[:20]!r}")
    return str(int(value))


def check_collections(value: list[str] | None) -> list[str] | None:
    """`[]` is refused: it would search nothing, and omitting the field searches everything."""
    if value is not None and not value:
        raise ValueError("must name at least one collection (omit it to search every one)")
    return value


def near_miss(name: str) -> str | None:
    """The scope name `name` looks like a misspelling of, if any (`sources` → `source`)."""
    if name in SCOPE_NAMES:
        return None
    found = difflib.get_close_matches(name.strip().lower(), SCOPE_NAMES, n=1, cutoff=0.8)
    return found[0] if found else None


def unknown_field(name: str) -> str:
    """The plain-words refusal of an unknown key (the caller prefixes where it is)."""
    if name == COLLECTIONS:  # e.g. inside `filters`, where MCP's tools once took it
        return f"unknown field here; {COLLECTIONS!r} is not a filter, it goes beside {FILTERS!r}"
    meant = near_miss(name)
    return "unknown field" + (f"; did you mean {meant!r}?" if meant else "")


def misplaced_scope_key(keys: Iterable[str]) -> tuple[str, str] | None:
    """For a body that tolerates keys it does not know (OpenAI's chat request, Dify's): the
    first key that is a scope name in the wrong place or a near miss of one, with why."""
    for key in keys:
        if not isinstance(key, str):
            continue
        if key in FILTER_FIELDS:
            return key, f"not a top-level field; put it in {FILTERS}.{key}"
        meant = near_miss(key)
        if meant is not None:
            place = meant if meant in (COLLECTIONS, FILTERS) else f"{FILTERS}.{meant}"
            return key, f"unknown field; did you mean {place!r}?"
    return None


class FiltersIn(BaseModel):
    """Which documents a question may be answered from; every given field must match."""

    model_config = ConfigDict(extra="forbid")

    published_from: str | None = Field(
        default=None,
        description="ISO date, inclusive; undated documents never match",
        json_schema_extra=DATE_SCHEMA,
    )
    published_to: str | None = Field(
        default=None, description="ISO date, inclusive", json_schema_extra=DATE_SCHEMA
    )
    source: list[str] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="exact source names; any of them",
    )
    metadata: dict[str, MetadataValue] = Field(
        default_factory=dict, description="every key must have this value"
    )
    reporter: list[str] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="reporter names (刘健); any of them among the document's reporters",
    )
    newspaper: list[str] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="newspapers (甘肃日报); any of them",
    )
    paper_page: list[str | int] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description='newspaper pages (版次: 7 or "07"); any of them',
        json_schema_extra={"items": PAGE_SCHEMA},
    )
    place: list[str] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="dateline places (兰州 of 新华社兰州…电); any of them",
    )

    @field_validator("published_from", "published_to")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return check_date(value)

    @field_validator("paper_page", mode="before")
    @classmethod
    def _pages(cls, values: Any) -> Any:
        if not isinstance(values, list):
            return values  # pydantic words the refusal
        pages = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, str | int):
                raise ValueError(f"must be a page number like 7 or 07, got {v!r}")
            pages.append(check_page(str(v)))
        return pages

    def to_filters(self) -> Filters:
        return Filters(
            published_from=self.published_from,
            published_to=self.published_to,
            sources=tuple(self.source),
            metadata=tuple(sorted(metadata_strings(self.metadata).items())),
            reporters=tuple(self.reporter),
            newspapers=tuple(self.newspaper),
            paper_pages=tuple(str(p) for p in self.paper_page),
            places=tuple(self.place),
        )


COLLECTIONS_DESCRIPTION = "Collections to search, in one merged ranking; omitted: every collection."
FILTERS_DESCRIPTION = (
    "Only documents matching every given field; one that matches nothing gives no passages "
    "and a null answer."
)
FILTERS_EXAMPLE = {"published_from": "2025-01-01", "source": ["000_0ad1dae646fc90f2.txt"]}


class Scope(BaseModel):
    """`collections` and `filters`, as every request body that takes a scope has them."""

    collections: list[str] | None = Field(
        default=None,
        max_length=MAX_FILTER_VALUES,
        description=COLLECTIONS_DESCRIPTION,
        examples=[["default"]],
        json_schema_extra={"minItems": 1},
    )
    filters: FiltersIn | None = Field(
        default=None, description=FILTERS_DESCRIPTION, examples=[FILTERS_EXAMPLE]
    )

    @field_validator("collections")
    @classmethod
    def _collections(cls, value: list[str] | None) -> list[str] | None:
        return check_collections(value)

    def to_filters(self) -> Filters | None:
        return self.filters.to_filters() if self.filters is not None else None
