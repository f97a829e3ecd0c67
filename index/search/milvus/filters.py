"""Collections and filters as Milvus filter expressions (`filter_expression`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

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
    return " and ".join(f"({p})" for p in parts)


def _in_list(field: str, values: Iterable[str | int], negate: bool = False) -> str:
    items = ", ".join(quote(v) if isinstance(v, str) else str(int(v)) for v in values)
    return f"{field} {'not in' if negate else 'in'} [{items}]"
