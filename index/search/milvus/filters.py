"""Collections and filters as Milvus filter expressions (`filter_expression`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from corpus.newsmeta import NEWSPAPER, PAPER_PAGE, PLACE, REPORTER_SEPARATOR, REPORTERS
from index.types import Filters


def quote(value: str) -> str:
    """A Milvus string literal."""
    return json.dumps(value, ensure_ascii=False)


def filter_expression(collections: Sequence[str] | None, filters: Filters | None) -> str:
    """The Milvus filter expression of a query's collections and filters ("" = no filter).

    The same rows as `index.search.filters.allowed_documents`: a document without a date never
    matches a date filter (a comparison with null is false in Milvus)."""
    parts: list[str] = []
    if collections is not None:
        parts.append(f"collection in [{', '.join(quote(c) for c in collections)}]")
    if filters is not None:
        if filters.published_from is not None:
            parts.append(f"published >= {quote(filters.published_from)}")
        if filters.published_to is not None:
            parts.append(f"published <= {quote(filters.published_to)}")
        if filters.sources:
            parts.append(f"source in [{', '.join(quote(s) for s in filters.sources)}]")
        for key, value in filters.metadata:
            parts.append(f"metadata[{quote(key)}] == {quote(value)}")
        parts += _news_parts(filters)
    return " and ".join(f"({p})" for p in parts)


def _news_parts(filters: Filters) -> list[str]:
    """The news filters over the metadata JSON; reporters are one string joined by ``、``,
    so a name matches as the whole value or as one item of it, never inside another name."""
    parts: list[str] = []
    for key, values in (
        (NEWSPAPER, filters.newspapers),
        (PAPER_PAGE, filters.paper_pages),
        (PLACE, filters.places),
    ):
        if values:  # Milvus takes no `in` over a JSON key: one comparison per value
            parts.append(" or ".join(f"metadata[{quote(key)}] == {quote(v)}" for v in values))
    if filters.reporters:
        field = f"metadata[{quote(REPORTERS)}]"
        sep = REPORTER_SEPARATOR
        alternatives = [
            f"{field} {op} {quote(pattern)}"
            for name in filters.reporters
            for op, pattern in (
                ("==", name),
                ("like", f"{name}{sep}%"),
                ("like", f"%{sep}{name}"),
                ("like", f"%{sep}{name}{sep}%"),
            )
        ]
        parts.append(" or ".join(alternatives))
    return parts


def _in_list(field: str, values: Iterable[str | int], negate: bool = False) -> str:
    items = ", ".join(quote(v) if isinstance(v, str) else str(int(v)) for v in values)
    return f"{field} {'not in' if negate else 'in'} [{items}]"
