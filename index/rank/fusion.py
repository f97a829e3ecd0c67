"""Stage 2, fusion: one ranking from the candidates, weighted or by reciprocal rank for the
hybrids, a single source as it is.

The arithmetic is pure over arrays, so it tests without a model.

Fusion must not punish a passage that only dense retrieval found: an English question has no
BM25 match at all, so the lexical share of the fused score is scaled by how much of the
question BM25 could actually read (the fraction of its tokens in the vocabulary).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from index.rank.params import RankingParams
from index.rank.types import Candidates, Query, Ranking


def _minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def top_k(scores: np.ndarray, k: int) -> npt.NDArray[np.int64]:
    """Indices of the `k` highest scores, best first (ties in index order), without sorting
    the whole array: a partition, then a sort of the `k`."""
    k = min(k, scores.size)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    part.sort()
    return part[np.argsort(-scores[part], kind="stable")].astype(np.int64)


def top_positive(scores: np.ndarray, k: int) -> npt.NDArray[np.int64]:
    """`top_k` restricted to scores above 0 (what BM25 candidates are): the partition runs
    over the matching passages only, not over every passage of the index."""
    matching = np.flatnonzero(scores > 0)
    return matching[top_k(scores[matching], k)]


def fuse_weighted(
    dense_ids: np.ndarray,
    dense_scores: np.ndarray,
    bm25_scores: np.ndarray,
    params: RankingParams,
    lexical_share: float,
) -> dict[int, float]:
    """Convex combination of min-max-normalised dense and max-normalised BM25 scores."""
    bm25_top = top_positive(bm25_scores, params.depth)
    ids = np.unique(np.concatenate([dense_ids, bm25_top]).astype(np.int64))
    if ids.size == 0:
        return {}
    dense_map = dict(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
    floor = float(dense_scores.min()) if dense_scores.size else 0.0
    dense_all = np.array([dense_map.get(i, floor) for i in ids.tolist()], dtype=np.float32)
    top_bm25 = float(bm25_scores[bm25_top[0]]) if bm25_top.size else 0.0
    lexical = bm25_scores[ids] / top_bm25 if top_bm25 > 0 else np.zeros(ids.size)
    w_lex = (1.0 - params.dense_weight) * lexical_share
    fused = (1.0 - w_lex) * _minmax(dense_all) + w_lex * lexical
    return dict(zip(ids.tolist(), fused.tolist(), strict=True))


def fuse_rrf(
    dense_ids: np.ndarray, bm25_scores: np.ndarray, params: RankingParams
) -> dict[int, float]:
    """Reciprocal rank fusion; BM25 ranks count only for passages with a non-zero score."""
    fused: dict[int, float] = {}
    for rank, idx in enumerate(dense_ids.tolist()):
        fused[idx] = fused.get(idx, 0.0) + 1.0 / (params.rrf_k + rank + 1)
    for rank, idx in enumerate(top_positive(bm25_scores, params.depth).tolist()):
        fused[idx] = fused.get(idx, 0.0) + 1.0 / (params.rrf_k + rank + 1)
    return fused


# -- the fusion stages ---------------------------------------------------------------------

FusionStage = Callable[[Query, Candidates, RankingParams], Ranking]


def dense_only(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """The dense ranking as it is."""
    assert found.dense is not None
    pairs = zip(found.dense.chunks.tolist(), found.dense.scores.tolist(), strict=True)
    return Ranking(tuple(pairs))


def lexical_only(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """The `depth` best BM25 passages with a non-zero score."""
    assert found.lexical is not None
    scores = found.lexical
    order = top_positive(scores, params.depth)
    return Ranking(tuple((int(i), float(scores[i])) for i in order))


def weighted_fusion(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """Dense and BM25 scores combined, BM25's share scaled by how much of the question it
    can read (`fuse_weighted`)."""
    assert found.dense is not None and found.lexical is not None
    fused = fuse_weighted(
        found.dense.chunks, found.dense.scores, found.lexical, params, query.terms.lexical_share
    )
    return Ranking(tuple(sorted(fused.items(), key=lambda kv: -kv[1])))


def rrf_fusion(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """Reciprocal rank fusion of the dense and BM25 rankings (`fuse_rrf`)."""
    assert found.dense is not None and found.lexical is not None
    fused = fuse_rrf(found.dense.chunks, found.lexical, params)
    return Ranking(tuple(sorted(fused.items(), key=lambda kv: -kv[1])))
