"""Dify's External Knowledge API, the request and response bodies and their mapping to ours.

Dify (`api/services/external_knowledge_service.py`) POSTs to `<endpoint>/retrieval`:

    {"knowledge_id": "default", "query": "...",
     "retrieval_setting": {"top_k": 4, "score_threshold": 0.5},
     "metadata_condition": {"logical_operator": "and", "conditions": [
         {"name": "published", "comparison_operator": "after", "value": "2024-01-01"}]}}

and reads `{"records": [{"content", "score", "title", "metadata"}]}`. Dify versions differ,
so the request is read leniently: `metadata_condition` may be absent or null, a condition's
`name` may be a string or a list of names (the condition then applies to each of them), and
the operator key may be `logical_operator` or `logic`. Unknown extra keys are ignored, except
a key of our own scope vocabulary (`collections`, `filters`, `source`, ... and near misses:
`service.scope`), refused with a 422 that points to `knowledge_id` and `metadata_condition`.

Conditions map onto `index.types.Filters`:

| name                       | operators                                   | filter          |
|----------------------------|---------------------------------------------|-----------------|
| `published` (or `date`)    | before, after, <, >, ≤, ≥, is, =            | published range |
| `source`                   | is, =, in, contains, start with, end with   | sources         |
| `reporter` (`reporters`), `newspaper`, `paper_page`, `place` | is, =, in | the news filters |
| anything else (metadata)   | is, =                                       | metadata equal  |

A date is `YYYY-MM-DD` (a longer ISO timestamp is cut to its date) or a Unix timestamp in
seconds, as Dify stores time metadata. `before`/`after` are strict. `contains`, `start with`
and `end with` on `source` are resolved against the index's source names. Any other
operator is refused with a 422 naming it, rather than silently ignored (ignoring a filter
would return unfiltered results). `and` intersects the conditions into one filter; `or`
restricts one query to the union of the conditions' documents (`service.queries.scope`), so
there is one ranking and its scores compare across the conditions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from index.rank.fitted import RelevanceScale
from index.types import Filters, Passage
from service.queries import relevance
from service.schemas import (
    MAX_TOP_K,
    QUESTION_PATTERN,
    QUESTION_RULE,
    JsonInt,
    clean_question,
)
from service.scope import MAX_FILTER_VALUES, SCOPE_NAMES, check_page, near_miss

DATE_FIELDS = ("published", "date", "published_at", "publish_date")
SOURCE_FIELDS = ("source", "sources")
NEWS_FIELDS = {
    "reporter": "reporters",
    "reporters": "reporters",
    "newspaper": "newspapers",
    "paper_page": "paper_pages",
    "place": "places",
}
"""Condition names of the news filters (`service.scope`) and the `Filters` field of each."""
MAX_CONDITIONS = 20


class DifyCondition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | list[str] = Field(description="metadata field name, or a list of names")
    comparison_operator: str = Field(examples=["after"])
    value: str | int | float | list[str | int | float] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names or not all(n.strip() for n in names):
            raise ValueError("must be a non-empty field name or list of names")
        return value

    @property
    def names(self) -> list[str]:
        return [self.name] if isinstance(self.name, str) else list(self.name)


class DifyMetadataCondition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    logical_operator: Literal["and", "or"] | None = Field(
        default="and",
        description="`and` (default, also for null) or `or`; older Dify versions send `logic`",
    )
    conditions: list[DifyCondition] | None = Field(default=None, max_length=MAX_CONDITIONS)

    @model_validator(mode="before")
    @classmethod
    def _logic_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "logical_operator" not in data and "logic" in data:
            data = {**data, "logical_operator": data["logic"]}
        if isinstance(data, dict) and data.get("logical_operator") is None:
            data = {**data, "logical_operator": "and"}
        if isinstance(data, dict) and isinstance(data["logical_operator"], str):
            data = {**data, "logical_operator": data["logical_operator"].strip().lower()}
        return data


class DifyRetrievalSetting(BaseModel):
    model_config = ConfigDict(extra="ignore")

    top_k: JsonInt = Field(ge=1, le=MAX_TOP_K, strict=True, examples=[4])
    score_threshold: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        strict=True,
        description="records below this score are left out",
    )


class DifyRetrievalRequest(BaseModel):
    """What Dify sends to `POST /retrieval` (extra keys are kept in `model_extra`, for
    `scope_key_error`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "knowledge_id": "default",
                    "query": "白银炉能耗降低了多少",
                    "retrieval_setting": {"top_k": 3, "score_threshold": 0.5},
                }
            ]
        },
    )

    knowledge_id: str = Field(description="the collection to search; `default` for now")
    query: str = Field(
        strict=True,
        description=f"The query. {QUESTION_RULE}",
        json_schema_extra={"pattern": QUESTION_PATTERN},
    )
    retrieval_setting: DifyRetrievalSetting
    metadata_condition: DifyMetadataCondition | None = None

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return clean_question(value)


def scope_key_error(body: DifyRetrievalRequest) -> str | None:
    """The refusal of a key of our scope vocabulary sent to Dify's route, naming it: Dify
    scopes by `knowledge_id` and `metadata_condition`, and ignoring the key would answer
    from documents the caller meant to exclude."""
    for key in body.model_extra or {}:
        if key in SCOPE_NAMES or near_miss(key) is not None:
            return (
                f"{key[:40]}: not a field of Dify's retrieval request; the collection is "
                "knowledge_id, filters are metadata_condition"
            )
    return None


class DifyRecordMetadata(BaseModel):
    document_id: str
    source: str
    published: str | None = Field(description="YYYY-MM-DD, or null when the article has none")
    url: str | None
    char_start: int = Field(description="code-point offset of `content` in the document text")
    char_end: int = Field(description="exclusive end offset of `content` in the document text")
    title: str
    rank: int
    engine_score: float = Field(description="the engine's own score; `score` is its squash")


class DifyRecord(BaseModel):
    content: str
    score: float = Field(ge=0.0, le=1.0, description="1 / (1 + exp(-(engine_score - 1) / 0.25))")
    title: str
    metadata: DifyRecordMetadata


class DifyRetrievalResponse(BaseModel):
    records: list[DifyRecord]


class ConditionError(ValueError):
    """A condition we cannot honour; the message names it (`conditions[i]...`)."""


@dataclass(frozen=True)
class _Condition:
    index: int
    name: str
    operator: str
    value: Any


def _day(value: Any, where: str) -> date:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        raise ConditionError(f"{where}.value: must be a date (YYYY-MM-DD) or a Unix timestamp")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC).date()
        except (OverflowError, OSError, ValueError):
            raise ConditionError(f"{where}.value: {value!r} is not a Unix timestamp") from None
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        try:
            return datetime.fromtimestamp(float(text), UTC).date()
        except (OverflowError, OSError, ValueError):
            raise ConditionError(
                f"{where}.value: {text[:40]!r} is not a date (YYYY-MM-DD) or a Unix timestamp"
            ) from None


def _date_filter(c: _Condition, where: str) -> Filters:
    op = c.operator
    day = _day(c.value, where)
    one = timedelta(days=1)
    if op in ("before", "<"):
        return Filters(published_to=(day - one).isoformat())
    if op in ("≤", "<="):
        return Filters(published_to=day.isoformat())
    if op in ("after", ">"):
        return Filters(published_from=(day + one).isoformat())
    if op in ("≥", ">="):
        return Filters(published_from=day.isoformat())
    if op in ("is", "="):
        return Filters(published_from=day.isoformat(), published_to=day.isoformat())
    raise ConditionError(
        f"{where}.comparison_operator: {op!r} is not supported on {c.name}; "
        "use before, after, <, >, ≤, ≥, is or ="
    )


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None and str(v) != ""]


def _source_filter(c: _Condition, where: str, sources: Sequence[str]) -> Filters | None:
    op, values = c.operator, _strings(c.value)
    if not values:
        raise ConditionError(f"{where}.value: required for {op!r}")
    if len(values) > MAX_FILTER_VALUES:
        raise ConditionError(
            f"{where}.value: at most {MAX_FILTER_VALUES} values, got {len(values):,} "
            "(as /v1/ask's filters.source)"
        )
    if op in ("is", "=", "in"):
        return Filters(sources=tuple(values))
    tests = {
        "contains": lambda s, v: v in s,
        "start with": lambda s, v: s.startswith(v),
        "end with": lambda s, v: s.endswith(v),
    }
    if op in tests:
        found = tuple(s for s in sources if any(tests[op](s, v) for v in values))
        return Filters(sources=found) if found else None
    raise ConditionError(
        f"{where}.comparison_operator: {op!r} is not supported on source; "
        "use is, =, in, contains, start with or end with"
    )


def _metadata_filter(c: _Condition, where: str) -> Filters:
    if c.operator not in ("is", "="):
        raise ConditionError(
            f"{where}.comparison_operator: {c.operator!r} is not supported on metadata field "
            f"{c.name!r}; use is or ="
        )
    values = _strings(c.value)
    if len(values) != 1:
        raise ConditionError(f"{where}.value: must be one value for {c.operator!r}")
    return Filters(metadata=((c.name, values[0]),))


def _news_filter(c: _Condition, where: str, field: str) -> Filters:
    if c.operator not in ("is", "=", "in"):
        raise ConditionError(
            f"{where}.comparison_operator: {c.operator!r} is not supported on {c.name}; "
            "use is, = or in"
        )
    values = _strings(c.value)
    if not values or len(values) > MAX_FILTER_VALUES:
        raise ConditionError(f"{where}.value: 1 to {MAX_FILTER_VALUES} values")
    if field == "paper_pages":
        try:
            values = [check_page(v) for v in values]
        except ValueError as exc:
            raise ConditionError(f"{where}.value: {exc}") from None
    given = tuple(values)
    return Filters(
        reporters=given if field == "reporters" else (),
        newspapers=given if field == "newspapers" else (),
        paper_pages=given if field == "paper_pages" else (),
        places=given if field == "places" else (),
    )


def condition_filter(c: _Condition, sources: Sequence[str]) -> Filters | None:
    """The filter for one condition; None when it can match no document."""
    where = f"metadata_condition.conditions[{c.index}]"
    name = c.name.strip().lower()
    if name in DATE_FIELDS:
        return _date_filter(c, where)
    if name in SOURCE_FIELDS:
        return _source_filter(c, where, sources)
    if name in NEWS_FIELDS:
        return _news_filter(c, where, NEWS_FIELDS[name])
    return _metadata_filter(c, where)


def intersect(a: Filters, b: Filters) -> Filters | None:
    """Both filters at once; None when no document can pass both."""
    starts = [d for d in (a.published_from, b.published_from) if d is not None]
    ends = [d for d in (a.published_to, b.published_to) if d is not None]
    start, end = (max(starts) if starts else None), (min(ends) if ends else None)
    if start is not None and end is not None and start > end:
        return None
    if a.sources and b.sources:
        sources = tuple(s for s in a.sources if s in b.sources)
        if not sources:
            return None
    else:
        sources = a.sources or b.sources
    metadata = dict(a.metadata)
    for key, value in b.metadata:
        if metadata.setdefault(key, value) != value:
            return None
    if a.reporters and b.reporters and set(a.reporters) != set(b.reporters):
        # "any of a" and "any of b" is no one list of names: a document has several reporters
        raise ConditionError(
            "metadata_condition: two reporter conditions joined by 'and' are not supported; "
            "use one condition with 'in', or 'or'"
        )
    news: list[tuple[str, ...]] = []
    for mine, theirs in (
        (a.newspapers, b.newspapers),
        (a.paper_pages, b.paper_pages),
        (a.places, b.places),
    ):
        both = tuple(v for v in mine if v in theirs) if mine and theirs else mine or theirs
        if (mine or theirs) and not both:
            return None
        news.append(both)
    newspapers, paper_pages, places = news
    return Filters(
        start,
        end,
        sources,
        tuple(metadata.items()),
        reporters=a.reporters or b.reporters,
        newspapers=newspapers,
        paper_pages=paper_pages,
        places=places,
    )


def to_filters(condition: DifyMetadataCondition | None, sources: Sequence[str]) -> list[Filters]:
    """The filters to query with, one per alternative: `[Filters()]` filters nothing, `[]`
    means no document can match. Raises ConditionError for a condition we cannot honour."""
    conditions = [
        _Condition(i, name, c.comparison_operator.strip().lower(), c.value)
        for i, c in enumerate((condition.conditions or []) if condition else [])
        for name in c.names
    ]
    if not conditions or condition is None:
        return [Filters()]
    each = [condition_filter(c, sources) for c in conditions]
    if condition.logical_operator == "or":
        return [f for f in each if f is not None]
    combined: Filters | None = Filters()
    for f in each:
        combined = None if combined is None or f is None else intersect(combined, f)
    return [] if combined is None else [combined]


def to_records(
    passages: Sequence[Passage],
    score_threshold: float,
    urls: Mapping[str, str | None],
    scale: RelevanceScale | None = None,
) -> DifyRetrievalResponse:
    """Dify's records, best first, leaving out those under `score_threshold`; `urls` holds
    each document's url (None when it has none); `scale` squashes the scores (the engine's
    fitted one, `Fitted.relevance`)."""
    records = []
    for p in passages:
        score = relevance(p.score, scale)
        if score < score_threshold:
            continue
        metadata = DifyRecordMetadata(
            document_id=p.doc_id,
            source=p.source,
            published=p.published,
            url=urls.get(p.doc_id),
            char_start=p.char_start,
            char_end=p.char_end,
            title=p.title,
            rank=p.rank,
            engine_score=p.score,
        )
        records.append(DifyRecord(content=p.text, score=score, title=p.title, metadata=metadata))
    return DifyRetrievalResponse(records=records)
