"""Fusion keeps dense-only passages for questions BM25 cannot read."""

import numpy as np

from index.rank.fusion import fuse_rrf, fuse_weighted
from index.rank.matching import coverage
from index.rank.params import RankingParams


def test_weighted_fusion_ignores_bm25_when_the_question_has_no_known_token() -> None:
    dense_ids = np.array([2, 0, 1])
    dense_scores = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    bm25 = np.array([0.0, 0.0, 0.0, 5.0], dtype=np.float32)  # a stray lexical match on 3
    fused = fuse_weighted(dense_ids, dense_scores, bm25, RankingParams(), lexical_share=0.0)
    assert max(fused, key=fused.__getitem__) == 2
    assert fused[3] == 0.0


def test_weighted_fusion_lets_bm25_lift_an_exact_match() -> None:
    dense_ids = np.array([0, 1, 2])
    dense_scores = np.array([0.85, 0.84, 0.70], dtype=np.float32)
    bm25 = np.array([0.5, 6.0, 0.0], dtype=np.float32)
    fused = fuse_weighted(dense_ids, dense_scores, bm25, RankingParams(), lexical_share=1.0)
    assert fused[1] > fused[0]


def test_rrf_counts_only_passages_bm25_actually_matched() -> None:
    dense_ids = np.array([1, 0])
    bm25 = np.array([0.0, 0.0, 3.0], dtype=np.float32)
    fused = fuse_rrf(dense_ids, bm25, RankingParams())
    assert set(fused) == {0, 1, 2}
    assert fused[1] > fused[0]


def test_coverage_is_the_share_of_terms_found() -> None:
    assert coverage(frozenset({"白银", "能耗"}), "白银炉的综合能耗") == 1.0
    assert coverage(frozenset({"白银", "粮食"}), "白银炉") == 0.5
    assert coverage(frozenset(), "任何") == 0.0


def test_bm25_candidates_are_the_best_matching_passages_without_a_full_sort() -> None:
    from index.rank.fusion import top_k, top_positive

    scores = np.array([0.0, 2.0, 0.0, 5.0, 2.0, 1.0, 0.0], dtype=np.float32)
    assert top_positive(scores, 3).tolist() == [3, 1, 4]  # ties in passage order
    assert top_positive(scores, 10).tolist() == [3, 1, 4, 5]  # never a passage scoring 0
    assert top_positive(np.zeros(4, dtype=np.float32), 2).tolist() == []
    rng = np.random.default_rng(0)
    for _ in range(20):
        sparse = np.where(rng.random(500) < 0.1, rng.random(500), 0.0).astype(np.float32)
        expected = [i for i in top_k(sparse, 30).tolist() if sparse[i] > 0]
        assert top_positive(sparse, 30).tolist() == expected
