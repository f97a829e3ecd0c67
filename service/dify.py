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

Conditions map onto `index.types.Filters` where they can (so a backend that filters by
expression, Milvus, filters them itself):

| name                       | operators                                   | filter          |
|----------------------------|---------------------------------------------|-----------------|
| `published` (or `date`)    | before, after, <, >, ≤, ≥, is, =            | published range |
| `source` (`document_name`) | is, =, in, contains, start with, end with   | sources         |
| `reporter` (`reporters`), `newspaper`, `paper_page`, `place` | is, =, in | the news filters |
| anything else (metadata)   | is, =                                       | metadata equal  |

Every other operator Dify's UI sends is honoured by testing each document of the collection
(`condition_test` on its `Facts`); the conditions then combine as masks (`to_mask`):
- on dates (`published`, and Dify's built-in `upload_date` and `last_update_date`, which
  take the first table's date operators too): is not, ≠, empty, not empty;
- on `source` and metadata fields: is not, ≠, not in, not contains, empty, not empty, and on
  metadata also contains, start with, end with, in, and >, <, ≥, ≤ (as numbers).

`upload_date` and `last_update_date` are Dify's built-in fields: the dates (UTC) the document
was added to and last replaced in the store. As in Dify's own SQL, a document without the
field matches only `empty` (`is not`, `not contains`, ... are false for it).

A date is `YYYY-MM-DD` (a longer ISO timestamp is cut to its date) or a Unix timestamp in
seconds, as Dify stores time metadata. `before`/`after` are strict. `contains`, `start with`
and `end with` on `source` are resolved against the index's source names. Any other
operator is refused with a 422 naming it, rather than silently ignored (ignoring a filter
would return unfiltered results). `and` intersects the conditions into one filter; `or`
restricts one query to the union of the conditions' documents (`service.queries.scope`), so
there is one ranking and its scores compare across the conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
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
STAMP_FIELDS = {"upload_date": "uploaded", "last_update_date": "updated"}
"""Dify's built-in time fields, and the `Facts` field each reads."""
SOURCE_FIELDS = ("source", "sources", "document_name")
NEWS_FIELDS = {
    "reporter": "reporters",
    "reporters": "reporters",
    "newspaper": "newspapers",
    "paper_page": "paper_pages",
    "place": "places",
}
"""Condition names of the news filters (`service.scope`) and the `Filters` field of each
(only is, = and in: a document's reporters are several names, not one value to compare)."""
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


# -- conditions beyond `Filters`: a test of each document ---------------------------------------

FILTER_OPERATORS = {
    "date": frozenset({"before", "after", "<", ">", "≤", "≥", "<=", ">=", "is", "="}),
    "source": frozenset({"is", "=", "in", "contains", "start with", "end with"}),
    "metadata": frozenset({"is", "="}),
    "news": frozenset({"is", "=", "in"}),
}
"""The operators `condition_filter` turns into `Filters`, per kind of field."""
EMPTY_OPERATORS = frozenset({"empty", "not empty", "is null", "is not null"})
NEGATIONS = {"is not": "is", "≠": "=", "!=": "=", "not in": "in", "not contains": "contains"}
DATE_OPERATORS = FILTER_OPERATORS["date"] | {"is not", "≠", "!="} | EMPTY_OPERATORS
STRING_OPERATORS = (
    FILTER_OPERATORS["source"] | {"is not", "≠", "!=", "not in", "not contains"} | EMPTY_OPERATORS
)
NUMBER_OPERATORS = frozenset({">", "<", "≥", "≤", ">=", "<="})


@dataclass(frozen=True)
class Facts:
    """What a condition may read of one document."""

    published: str | None
    source: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    uploaded: str | None = None
    """The date (YYYY-MM-DD, UTC) it was added to the store; None without a store."""
    updated: str | None = None
    """The date it was last replaced in the store."""


DocumentTest = Callable[[Facts], bool]
Mask = npt.NDArray[np.bool_]


def _kind(name: str) -> str:
    name = name.strip().lower()
    if name in DATE_FIELDS or name in STAMP_FIELDS:
        return "date"
    if name in NEWS_FIELDS:
        return "news"
    return "source" if name in SOURCE_FIELDS else "metadata"


def _plain(name: str, operator: str) -> bool:
    return operator in FILTER_OPERATORS[_kind(name)] and name.strip().lower() not in STAMP_FIELDS


def plain(condition: DifyMetadataCondition | None) -> bool:
    """Whether every condition is one `to_filters` turns into `Filters`."""
    return all(
        _plain(name, c.comparison_operator.strip().lower())
        for c in ((condition.conditions or []) if condition else [])
        for name in c.names
    )


def _refuse(c: _Condition, where: str, allowed: frozenset[str]) -> ConditionError:
    order = [
        "is", "is not", "=", "≠", "in", "not in", "contains", "not contains", "start with",
        "end with", "before", "after", "<", ">", "≤", "≥", "empty", "not empty",
    ]  # fmt: skip
    names = ", ".join(o for o in order if o in allowed)
    return ConditionError(
        f"{where}.comparison_operator: {c.operator!r} is not supported on {c.name}; use {names}"
    )


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _compare(op: str, have: Any, want: Any) -> bool:
    if op in ("<", "before"):
        return bool(have < want)
    if op in (">", "after"):
        return bool(have > want)
    if op in ("≤", "<="):
        return bool(have <= want)
    if op in ("≥", ">="):
        return bool(have >= want)
    return bool(have == want)  # is, =


def _date_test(c: _Condition, where: str) -> DocumentTest:
    name = c.name.strip().lower()
    read: Callable[[Facts], str | None] = (
        (lambda f: getattr(f, STAMP_FIELDS[name]))
        if name in STAMP_FIELDS
        else (lambda f: f.published)
    )
    op = c.operator
    if op not in DATE_OPERATORS:
        raise _refuse(c, where, DATE_OPERATORS)
    if op in EMPTY_OPERATORS:
        empty = op in ("empty", "is null")
        return lambda f: (read(f) is None) == empty
    day = _day(c.value, where).isoformat()
    positive, negate = NEGATIONS.get(op, op), op in NEGATIONS

    def test(f: Facts) -> bool:
        have = read(f)
        return have is not None and _compare(positive, have[:10], day) != negate

    return test


def _string_test(c: _Condition, where: str, read: Callable[[Facts], str | None]) -> DocumentTest:
    op = c.operator
    numeric = _kind(c.name) == "metadata" and op in NUMBER_OPERATORS
    if op not in STRING_OPERATORS and not numeric:
        allowed = STRING_OPERATORS | (NUMBER_OPERATORS if _kind(c.name) == "metadata" else set())
        raise _refuse(c, where, frozenset(allowed))
    if op in EMPTY_OPERATORS:
        empty = op in ("empty", "is null")
        return lambda f: (not read(f)) == empty
    values = _strings(c.value)
    if not values:
        raise ConditionError(f"{where}.value: required for {op!r}")
    if len(values) > MAX_FILTER_VALUES:
        raise ConditionError(f"{where}.value: at most {MAX_FILTER_VALUES} values")
    if numeric and any(_number(v) is None for v in values):
        raise ConditionError(f"{where}.value: must be a number for {op!r}")
    if numeric or (op in ("=", "≠", "!=") and all(_number(v) is not None for v in values)):
        wanted = [n for n in map(_number, values) if n is not None]
        positive = NEGATIONS.get(op, op)

        def by_number(f: Facts) -> bool:
            have = _number(read(f))
            if have is None:
                return False
            hit = any(_compare(positive, have, w) for w in wanted)
            return hit != (op in NEGATIONS)

        return by_number
    tests: dict[str, Callable[[str, str], bool]] = {
        "is": lambda s, v: s == v,
        "=": lambda s, v: s == v,
        "in": lambda s, v: s == v,
        "contains": lambda s, v: v in s,
        "start with": lambda s, v: s.startswith(v),
        "end with": lambda s, v: s.endswith(v),
    }
    match, negate = tests[NEGATIONS.get(op, op)], op in NEGATIONS

    def by_text(f: Facts) -> bool:
        have = read(f)
        return have is not None and any(match(have, v) for v in values) != negate

    return by_text


def condition_test(c: _Condition) -> DocumentTest:
    """The test of one condition on a document; ConditionError names what is wrong."""
    where = f"metadata_condition.conditions[{c.index}]"
    kind = _kind(c.name)
    if kind == "date":
        return _date_test(c, where)
    if kind == "source":
        return _string_test(c, where, lambda f: f.source)
    if kind == "news":
        raise _refuse(c, where, FILTER_OPERATORS["news"])
    key = c.name
    return _string_test(c, where, lambda f: f.metadata.get(key))


def to_mask(
    condition: DifyMetadataCondition,
    sources: Sequence[str],
    by_filters: Callable[[Filters | None], Mask],
    by_test: Callable[[DocumentTest], Mask],
) -> Mask:
    """The documents the conditions allow, as a mask: `by_filters` gives a filter's documents
    (None: no document), `by_test` a test's. Raises ConditionError as `to_filters` does."""
    masks = []
    for i, c in enumerate(condition.conditions or []):
        for name in c.names:
            one = _Condition(i, name, c.comparison_operator.strip().lower(), c.value)
            if _plain(name, one.operator):
                masks.append(by_filters(condition_filter(one, sources)))
            else:
                masks.append(by_test(condition_test(one)))
    if condition.logical_operator == "or":
        return np.logical_or.reduce(masks)
    return np.logical_and.reduce(masks)
