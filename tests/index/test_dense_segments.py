"""Per-segment flat indexes searched as one: the same passages and scores as one flat index
over all their vectors, with and without a restriction mask."""

from __future__ import annotations

import numpy as np

from index.search import dense
from index.search.dense import AnnParams, RowBlocks, SegmentedFlat

DIM = 8


def _vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


SEGMENTS = [_vectors(5, 1), _vectors(1, 2), _vectors(7, 3)]
ALL = np.concatenate(SEGMENTS)
QUERY = _vectors(1, 4)[0]


def _segmented() -> SegmentedFlat:
    return SegmentedFlat([dense.build_faiss(v, AnnParams()) for v in SEGMENTS], DIM)


def test_three_segments_search_as_one_flat_index() -> None:
    single = dense.build_faiss(ALL, AnnParams())
    segmented = _segmented()
    assert segmented.ntotal == 13 and segmented.d == DIM
    for k in (1, 4, 13, 50):
        ids, scores = dense.masked_search(segmented, QUERY, k, None)
        want_ids, want_scores = dense.masked_search(single, QUERY, k, None)
        assert ids.tolist() == want_ids.tolist()
        assert scores.tolist() == want_scores.tolist()
    assert len(dense.masked_search(segmented, QUERY, 50, None)[0]) == 13


def test_a_mask_restricts_every_segment_by_global_row() -> None:
    single = dense.build_faiss(ALL, AnnParams())
    segmented = _segmented()
    mask = np.zeros(13, dtype=bool)
    mask[[0, 5, 6, 12]] = True  # rows of the first, second and third segment
    ids, scores = dense.masked_search(segmented, QUERY, 10, mask)
    want_ids, want_scores = dense.masked_search(single, QUERY, 10, mask)
    assert sorted(ids.tolist()) == [0, 5, 6, 12]
    assert ids.tolist() == want_ids.tolist() and scores.tolist() == want_scores.tolist()
    nothing = dense.masked_search(segmented, QUERY, 10, np.zeros(13, dtype=bool))
    assert nothing[0].tolist() == [] and nothing[1].tolist() == []


def test_stored_vectors_and_sentence_rows_read_by_global_row() -> None:
    segmented = _segmented()
    rows = np.array([12, 0, 5, 6, 4])
    assert np.array_equal(segmented.reconstruct_batch(rows), ALL[rows])
    assert np.array_equal(dense.all_vectors(segmented), ALL)
    blocks = RowBlocks(SEGMENTS, DIM)
    assert len(blocks) == 13 and blocks.shape == (13, DIM)
    assert np.array_equal(blocks[rows], ALL[rows])
    assert np.array_equal(blocks[2:9], ALL[2:9])
    assert np.array_equal(np.asarray(blocks), ALL)
    empty = RowBlocks([], DIM)
    assert empty[np.array([], dtype=np.int64)].shape == (0, DIM)
    assert dense.masked_search(SegmentedFlat([], DIM), QUERY, 5, None)[0].tolist() == []
