"""Dify's conditions beyond `Filters`, tested on documents' `Facts` (`service.dify`): what each
operator keeps, with a metadata field that holds numbers and one that holds words."""

from __future__ import annotations

from typing import Any

import pytest

from service.dify import (
    ConditionError,
    DifyCondition,
    DifyMetadataCondition,
    Facts,
    _Condition,
    condition_test,
    plain,
)

DOCS = {
    "a": Facts("2025-01-22", "a.txt", {"page": "3", "desk": "economy"}, "2026-12-01", "2026-12-05"),
    "b": Facts(None, "b.txt", {"page": "12", "desk": "sports"}, "2026-12-03", "2026-12-03"),
    "c": Facts("2024-06-30", "c.txt", {}, None, None),
}


def kept(name: str, operator: str, value: Any) -> set[str]:
    test = condition_test(_Condition(0, name, operator, value))
    return {doc for doc, facts in DOCS.items() if test(facts)}


@pytest.mark.parametrize(
    ("name", "operator", "value", "expected"),
    [
        ("page", ">", "5", {"b"}),  # as numbers: 12 > 5, though "12" < "5" as text
        ("page", "≤", 3, {"a"}),
        ("page", "=", "3.0", {"a"}),
        ("page", "≠", "3", {"b"}),  # c has no page: only `empty` keeps it
        ("page", "empty", None, {"c"}),
        ("desk", "contains", "on", {"a"}),
        ("desk", "not contains", "on", {"b"}),
        ("desk", "start with", "sp", {"b"}),
        ("desk", "end with", "my", {"a"}),
        ("desk", "is not", "economy", {"b"}),
        ("desk", "not in", ["economy", "sports"], set()),
        ("desk", "not empty", None, {"a", "b"}),
        ("source", "not in", ["a.txt", "b.txt"], {"c"}),
        ("published", "is not", "2025-01-22", {"c"}),
        ("published", "empty", None, {"b"}),
        ("upload_date", "after", "2026-12-01", {"b"}),
        ("upload_date", "is", "2026-12-01", {"a"}),
        ("upload_date", "empty", None, {"c"}),
        ("last_update_date", "≥", "2026-12-04", {"a"}),
        ("last_update_date", "before", 1796428800, {"b"}),  # 2026-12-05T00:00:00Z
    ],
)
def test_each_operator_keeps_what_it_says(
    name: str, operator: str, value: Any, expected: set[str]
) -> None:
    assert kept(name, operator, value) == expected


def test_only_the_operators_filters_can_say_are_plain() -> None:
    def one(name: str, operator: str) -> DifyMetadataCondition:
        return DifyMetadataCondition(
            conditions=[DifyCondition(name=name, comparison_operator=operator, value="x")]
        )

    assert plain(None) and plain(one("source", "contains")) and plain(one("published", "after"))
    assert not plain(one("source", "not contains"))
    assert not plain(one("upload_date", "after"))
    assert not plain(one("desk", "contains"))


@pytest.mark.parametrize(
    ("name", "operator", "value", "message"),
    [
        ("page", "all of", "3", "'all of' is not supported on page; use is, is not,"),
        ("upload_date", "contains", "2026", "'contains' is not supported on upload_date"),
        ("upload_date", "after", "yesterday", "value: 'yesterday' is not a date"),
        ("desk", "is not", None, "value: required for 'is not'"),
        ("page", ">", "three", "value: must be a number for '>'"),
        ("page", "<", True, "value: must be a number for '<'"),
    ],
)
def test_a_condition_that_cannot_be_honoured_names_itself(
    name: str, operator: str, value: Any, message: str
) -> None:
    with pytest.raises(ConditionError, match="conditions\\[0\\]") as caught:
        condition_test(_Condition(0, name, operator, value))
    assert message in str(caught.value)
