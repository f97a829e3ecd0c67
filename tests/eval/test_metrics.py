"""Metrics on tiny inline runs with hand-computed expected values."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace

import pytest

from eval.dataset import Question
from eval.metrics import (
    QuestionResult,
    RetrievedRef,
    diff_results,
    first_hit_rank,
    ndcg_at_k,
    percentile,
    score_question,
    summarize,
)

Q1 = Question("q1", "酒钢实施了多少项重大科技课题", ("29项",), "a.txt", ("numeric",))
Q2 = Question("q2", "金昌年均增速", ("10.1%",), "a.txt", ("numeric", "distractor"))
Q3 = Question("q3", "金昌资源综合利用产值", ("118亿元",), "a.txt", ("entity",))
U1 = Question("u1", "嘉峪关人口", (), None, ("unanswerable",))
U2 = Question("u2", "Population of Jinchang?", (), None, ("unanswerable", "english"))

FILLER = ("b.txt", "无关的段落")


def _run() -> list[QuestionResult]:
    """Hits at ranks 1 (and again 4), 3 and never; answers right, wrong, abstained."""
    return [
        score_question(
            Q1,
            [("a.txt", "企业实施29项重大科技课题"), FILLER, FILLER, ("a.txt", "共29 项")],
            answer_text="29项",
            latency_ms=10.0,
            scores=[0.9, 0.8, 0.7, 0.6],
        ),
        score_question(
            Q2,
            # Rank 1 holds the answer but from the wrong file: not relevant.
            [("b.txt", "增速10.1%"), ("a.txt", "没有答案"), ("a.txt", "以年均10.1%的增速")],
            answer_text="10.2%",
            latency_ms=20.0,
        ),
        score_question(Q3, [FILLER, FILLER], answer_text=None, latency_ms=30.0),
        score_question(U1, [FILLER], answer_text=None, latency_ms=40.0),
        score_question(U2, [FILLER], answer_text="一百万", latency_ms=50.0),
    ]


def test_first_hit_rank_needs_right_source_and_an_answer() -> None:
    passages = [("b.txt", "29项"), ("a.txt", "三十项"), ("a.txt", "实施29项课题")]
    assert first_hit_rank(Q1, passages) == 3
    assert first_hit_rank(Q1, passages[:2]) is None


def test_first_hit_rank_matches_across_whitespace_and_width() -> None:
    assert first_hit_rank(Q2, [("a.txt", "年均１０．１\n\n％")]) == 1


def test_unanswerable_question_never_has_a_hit() -> None:
    assert first_hit_rank(U1, [("a.txt", "任何文本")]) is None


def test_score_question_records_ranks_lengths_and_scores() -> None:
    r1 = _run()[0]
    assert r1.first_hit_rank == 1
    assert r1.relevant_ranks == (1, 4)
    assert r1.passage_chars == (13, 5, 5, 5)
    assert r1.retrieved[0] == RetrievedRef("a.txt", 0.9)
    assert r1.answer_correct


def test_scores_default_to_none_and_must_match_passage_count() -> None:
    assert _run()[1].retrieved[0] == RetrievedRef("b.txt", None)
    with pytest.raises(ValueError, match="1 scores for 2 passages"):
        score_question(Q1, [FILLER, FILLER], answer_text=None, latency_ms=1.0, scores=[1.0])


def test_abstaining_is_correct_only_for_unanswerable_questions() -> None:
    results = {r.question_id: r for r in _run()}
    assert not results["q3"].answer_correct
    assert results["u1"].answer_correct
    assert not results["u2"].answer_correct


def test_hits_and_mrr_over_answerable_questions() -> None:
    s = summarize(_run())["all"]
    assert (s.n_questions, s.n_answerable, s.n_unanswerable) == (5, 3, 2)
    assert s.hit_at_1 == pytest.approx(1 / 3)
    assert s.hit_at_3 == pytest.approx(2 / 3)
    assert s.hit_at_5 == pytest.approx(2 / 3)
    assert s.hit_at_10 == pytest.approx(2 / 3)
    assert s.mrr_at_10 == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_ndcg_uses_the_relevant_passages_found_as_the_ideal() -> None:
    # q1: relevant at 1 and 4 -> (1 + 1/log2 5) / (1 + 1/log2 3); q2: at 3 -> (1/log2 4) / 1.
    q1 = (1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k((1, 4)) == pytest.approx(q1)
    assert ndcg_at_k((3,)) == pytest.approx(0.5)
    assert ndcg_at_k(()) == 0.0
    assert ndcg_at_k((11,)) == 0.0
    assert summarize(_run())["all"].ndcg_at_10 == pytest.approx((q1 + 0.5 + 0.0) / 3)


def test_answer_accuracy_and_abstention() -> None:
    s = summarize(_run())["all"]
    assert s.answer_accuracy == pytest.approx(1 / 3)
    # Abstained on q3 (answerable) and u1 (unanswerable); u2 was answered.
    assert s.abstention_precision == pytest.approx(1 / 2)
    assert s.abstention_recall == pytest.approx(1 / 2)


def test_passage_length_and_latency_percentiles() -> None:
    s = summarize(_run())["all"]
    chars = [13, 5, 5, 5, 7, 4, 11, 5, 5, 5, 5]
    assert s.mean_passage_chars == pytest.approx(sum(chars) / len(chars))
    assert s.latency_p50_ms == pytest.approx(30.0)
    assert s.latency_p95_ms == pytest.approx(48.0)  # 40 + 0.8 * (50 - 40)


def test_percentile_interpolates_and_rejects_empty_input() -> None:
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary_has_all_plus_one_entry_per_tag() -> None:
    summary = summarize(_run())
    assert list(summary) == ["all", "distractor", "english", "entity", "numeric", "unanswerable"]
    assert summary["numeric"].hit_at_1 == pytest.approx(1 / 2)
    assert summary["numeric"].abstention_recall is None
    unanswerable = summary["unanswerable"]
    assert unanswerable.hit_at_1 is None and unanswerable.mrr_at_10 is None
    assert unanswerable.abstention_precision == 1.0
    assert unanswerable.abstention_recall == pytest.approx(1 / 2)
    assert list(summarize(_run(), by_tag=False)) == ["all"]


def test_empty_run_summarises_to_undefined_metrics() -> None:
    s = summarize([])["all"]
    assert s.n_questions == 0
    assert s.hit_at_1 is None and s.latency_p50_ms is None and s.mean_passage_chars is None


def test_hit_beyond_rank_ten_counts_for_nothing_at_ten() -> None:
    passages = [FILLER] * 10 + [("a.txt", "29项")]
    r = score_question(Q1, passages, answer_text=None, latency_ms=1.0)
    s = summarize([r])["all"]
    assert r.first_hit_rank == 11
    assert (s.hit_at_10, s.mrr_at_10, s.ndcg_at_10) == (0.0, 0.0, 0.0)


def test_result_round_trips_through_json() -> None:
    for result in _run():
        data = json.loads(json.dumps(asdict(result), ensure_ascii=False))
        assert QuestionResult.from_dict(data) == result


def test_diff_lists_changed_questions_worse_first() -> None:
    before = {r.question_id: r for r in _run()}
    after = [
        replace(before["q1"], first_hit_rank=3, relevant_ranks=(3,)),  # rank 1 -> 3
        replace(before["q2"], first_hit_rank=1, answer_correct=True),  # both better
        before["q3"],  # unchanged: omitted
        replace(before["u1"], answer_text="乱答", answer_correct=False),  # worse, by 1
        replace(before["u2"], answer_correct=True, first_hit_rank=None),  # better
        replace(before["q3"], question_id="new"),  # not in the first run: omitted
    ]
    changes = diff_results(list(before.values()), after)
    assert [(c.question_id, c.change) for c in changes] == [
        ("u1", "worse"),
        ("q1", "worse"),
        ("q2", "better"),
        ("u2", "better"),
    ]
    assert (changes[1].rank_before, changes[1].rank_after) == (1, 3)


def test_diff_marks_opposite_moves_as_mixed() -> None:
    r = _run()[0]  # rank 1, answer correct
    rank_down_answer_up = replace(r, first_hit_rank=3)
    rank_up_answer_down = replace(r, answer_correct=False)
    [change] = diff_results([rank_down_answer_up], [rank_up_answer_down])
    assert change.change == "mixed"
    assert (change.correct_before, change.correct_after) == (True, False)
