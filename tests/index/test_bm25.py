"""BM25 over tiny inline passages: scores checked against bm25s' Lucene formula by hand.

bm25s ("lucene" method) scores idf(t) × tf / (tf + k1 × (1 - b + b × length / average length)),
idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)): Lucene's formula without the constant (k1 + 1)
factor, which does not change any ranking.

The library's views score with per-segment statistics (`SegmentedBM25`): the same numbers, to
the bit, as one bm25s index over all their passages.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index.search.bm25 import BM25Index, SegmentedBM25, TermStats
from index.text.tokenize import tokenize

TEXTS = ["copper smelter copper", "nickel mine", "copper nickel cobalt"]
# token counts 3, 2, 3 -> average length 8/3; N = 3
K1, B, N, AVG = 1.5, 0.75, 3, 8 / 3


def _idf(df: int) -> float:
    return math.log(1 + (N - df + 0.5) / (df + 0.5))


def _tf(tf: int, length: int) -> float:
    return tf / (tf + K1 * (1 - B + B * length / AVG))


@pytest.fixture(scope="module")
def index() -> BM25Index:
    return BM25Index.build(TEXTS)


def test_scores_follow_lucene_bm25(index: BM25Index) -> None:
    scores = index.scores("copper")
    expected = [_idf(2) * _tf(2, 3), 0.0, _idf(2) * _tf(1, 3)]
    assert scores.dtype == np.float32
    assert scores.tolist() == pytest.approx(expected, rel=1e-5)
    # by hand: idf = ln(1.6) = 0.4700; length part 1 - 0.75 + 0.75 × 3 / (8/3) = 1.09375;
    # tf parts 2 / (2 + 1.640625) = 0.5494 and 1 / (1 + 1.640625) = 0.3787
    assert scores[0] == pytest.approx(0.2582, abs=1e-4)
    assert scores[2] == pytest.approx(0.1780, abs=1e-4)


def test_a_query_sums_its_terms(index: BM25Index) -> None:
    scores = index.scores("nickel cobalt")
    expected = [0.0, _idf(2) * _tf(1, 2), _idf(2) * _tf(1, 3) + _idf(1) * _tf(1, 3)]
    assert scores.tolist() == pytest.approx(expected, rel=1e-5)


def test_a_query_with_no_known_token_scores_zero_everywhere(index: BM25Index) -> None:
    assert index.scores("zinc").tolist() == [0.0, 0.0, 0.0]
    assert index.scores("的 了").tolist() == [0.0, 0.0, 0.0]  # stopwords only


def test_idf_is_log_of_passages_over_passage_frequency(index: BM25Index) -> None:
    weights = index.idf(["copper", "cobalt", "zinc"])
    assert weights["copper"] == pytest.approx(math.log(1 + 3 / 2))
    assert weights["cobalt"] == pytest.approx(math.log(1 + 3 / 1))
    assert weights["zinc"] == pytest.approx(math.log(1 + 3))  # unknown: the highest value


def test_vocabulary_and_how_much_of_a_query_it_reads(index: BM25Index) -> None:
    assert sorted(index.vocabulary) == ["cobalt", "copper", "mine", "nickel", "smelter"]
    assert index.vocabulary_hit("copper zinc") == 0.5
    assert index.vocabulary_hit("copper nickel") == 1.0
    assert index.vocabulary_hit("的") == 0.0


def test_save_and_load_give_the_same_scores(index: BM25Index, tmp_path: Path) -> None:
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path, n_docs=3)
    assert loaded.scores("copper nickel").tolist() == index.scores("copper nickel").tolist()


def test_a_passage_without_tokens_still_takes_its_row() -> None:
    index = BM25Index.build(["copper", "。。。", "copper mine"])
    scores = index.scores("copper")
    assert scores[1] == 0.0 and scores[0] > 0 and scores[2] > 0


# -- per-segment statistics (the library's views) ------------------------------------------


def _segmented(*segments: list[str]) -> SegmentedBM25:
    return SegmentedBM25(
        [TermStats.from_tokens([tokenize(t) or [""] for t in s]) for s in segments]
    )


def test_three_segments_score_exactly_as_one_bm25s_index_over_their_passages() -> None:
    segmented = _segmented(TEXTS[:1], TEXTS[1:2], TEXTS[2:])
    assert segmented.n_docs == 3 and segmented.avgdl == AVG
    single = BM25Index.build(TEXTS)
    for query in ["copper", "nickel cobalt", "copper copper mine", "smelter nickel copper", "zinc"]:
        assert segmented.scores(query).dtype == np.float32
        assert segmented.scores(query).tolist() == single.scores(query).tolist(), query
    # the global statistics: "copper" is in 2 of 3 passages, over both segments that hold it
    assert segmented.scores("copper").tolist() == [
        np.float32(_idf(2) * _tf(2, 3)),
        0.0,
        np.float32(_idf(2) * _tf(1, 3)),
    ]
    assert segmented.scores("copper")[0] == pytest.approx(0.2582, abs=1e-4)
    assert segmented.idf(["copper", "cobalt", "zinc"]) == single.idf(["copper", "cobalt", "zinc"])
    assert sorted(segmented.vocabulary) == sorted(single.vocabulary)
    assert segmented.vocabulary_hit("copper zinc") == 0.5


def test_a_segment_of_one_passage_without_tokens_keeps_bm25s_statistics() -> None:
    texts = ["copper", "。。。", "copper mine"]
    segmented = _segmented(texts[:2], texts[2:])
    assert segmented.scores("copper").tolist() == BM25Index.build(texts).scores("copper").tolist()
    assert segmented.scores("的").tolist() == [0.0, 0.0, 0.0]


def test_no_segments_score_nothing() -> None:
    empty = SegmentedBM25([])
    assert empty.n_docs == 0 and empty.scores("copper").tolist() == []
    assert empty.idf(["copper"]) == {"copper": pytest.approx(math.log(2))}
    assert empty.vocabulary == [] and empty.vocabulary_hit("copper") == 0.0


def test_segment_statistics_are_postings_per_term() -> None:
    stats = TermStats.from_tokens([["copper", "smelter", "copper"], ["nickel"], ["copper"]])
    assert stats.lengths.tolist() == [3, 1, 1] and stats.total_length == 5
    rows, tf = stats.postings("copper")
    assert rows.tolist() == [0, 2] and tf.tolist() == [2.0, 1.0]
    assert stats.df("copper") == 2 and stats.df("nickel") == 1 and stats.df("zinc") == 0
