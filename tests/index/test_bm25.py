"""BM25 over tiny inline passages: scores checked against bm25s' Lucene formula by hand.

bm25s ("lucene" method) scores idf(t) × tf / (tf + k1 × (1 - b + b × length / average length)),
idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)): Lucene's formula without the constant (k1 + 1)
factor, which does not change any ranking.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index.bm25 import BM25Index

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
