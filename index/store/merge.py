"""The merge policy: which segments the library rewrites into one (copying vectors, embedding
nothing), so that a query reads few segments and tombstones do not pile up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

MAX_SEGMENTS = 8
"""More segments than this and all but the largest are merged into one."""
REWRITE_DEAD_SHARE = 1 / 3
"""A segment with more than this share of tombstoned documents is rewritten without them."""


def merge_candidates(segments: Sequence[Any], live: Counter[str]) -> list[str]:
    """The segments to merge now, in store order: those with more than `REWRITE_DEAD_SHARE` of
    their documents tombstoned, and all but the largest when there are more than
    `MAX_SEGMENTS` (`segments`: the store's, with `name`, `n_documents`, `n_chunks`; `live`:
    live documents per segment)."""
    segments = [s for s in segments if live[s.name]]
    heavy = {s.name for s in segments if live[s.name] < (1 - REWRITE_DEAD_SHARE) * s.n_documents}
    if len(segments) > MAX_SEGMENTS:
        largest = max(segments, key=lambda s: s.n_chunks).name
        return [s.name for s in segments if s.name != largest or s.name in heavy]
    return [s.name for s in segments if s.name in heavy]
