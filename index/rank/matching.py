"""What of a question can be matched literally, and how much of it a text holds.

Shared by the ranking stages (`index.rank.query`, `index.rank.evidence`) and the answer choice
(`index.rank.answer`), so neither calls back into the other: `QueryTerms` (the question's keywords,
focus words, numbers and names), `coverage` (the weighted share of them a text holds) and
`normalized` (NFKC and lower case, cached).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from index.text.tokenize import normalize, numbers, tokenize

NORMALIZED_CACHE = 16_384
"""Texts whose NFKC form is kept: a request reads the same passages and sentences in several
stages (re-scoring, each candidate's context, the answer's support), and popular passages
recur across requests; NFKC was a third of a request's CPU before this cache."""

normalized = lru_cache(maxsize=NORMALIZED_CACHE)(normalize)
"""`index.text.tokenize.normalize`, remembered for the last `NORMALIZED_CACHE` texts."""


@dataclass(frozen=True)
class QueryTerms:
    """What of the question can be matched literally."""

    tokens: frozenset[str]
    weights: dict[str, float]
    """IDF of each token: a rare word found says more than a common one."""
    focus: frozenset[str]
    """The words next to the question word ("产量是多少" → 产量): what is being asked."""
    numbers: frozenset[str]
    lexical_share: float
    """How much BM25 can read this question, 0..1 (0 for an English question on Chinese text)."""
    names: frozenset[str] = frozenset()
    """The corpus words an English question names in pinyin (Jiayuguan → 嘉峪关)."""


_WH_WORD = re.compile(r"多少|几|谁|哪|什么|怎样|如何|是否|多大|多高|多长|多厚|第几")


def focus_terms(question: str, window: int) -> frozenset[str]:
    """Words within `window` characters of the first question word of a Chinese question."""
    match = _WH_WORD.search(question)
    if match is None:
        return frozenset()
    around = question[max(0, match.start() - window) : match.end() + window]
    return frozenset(t for t in tokenize(around) if len(t) > 1)


def query_terms(
    lexical_query: str,
    lexical_share: float,
    question: str,
    idf: Callable[[list[str]], dict[str, float]],
    focus_window: int,
    names: Iterable[str] = (),
) -> QueryTerms:
    """Keywords (IDF-weighted) of the lexical query, the question's focus words and numbers."""
    tokens = [t for t in tokenize(lexical_query) if len(t) > 1 or not t.isascii()]
    focus = focus_terms(lexical_query, focus_window) if lexical_query == question else frozenset()
    return QueryTerms(
        tokens=frozenset(tokens),
        weights=idf(tokens),
        focus=focus,
        numbers=frozenset(numbers(question)),
        lexical_share=lexical_share,
        names=frozenset(names),
    )


def coverage(terms: frozenset[str], text: str, weights: dict[str, float] | None = None) -> float:
    """Share of `terms` (weighted, if given) found in `text` after NFKC and lower-casing."""
    if not terms:
        return 0.0
    haystack = normalized(text)
    weight = (lambda t: weights.get(t, 1.0)) if weights else (lambda t: 1.0)
    total = sum(weight(t) for t in terms)
    return sum(weight(t) for t in terms if t in haystack) / total if total else 0.0
