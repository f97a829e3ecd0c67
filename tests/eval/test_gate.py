"""The regression gate's logic on tiny exact runs: limits from a measurement, checks, report."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from eval.gate import (
    check_gate,
    derive_thresholds,
    load_thresholds,
    measure,
    never_looser,
    thresholds_json,
)
from eval.metrics import QuestionResult
from tests.eval.runs import QUESTIONS, variant


def _reference() -> tuple[QuestionResult, ...]:
    return variant("hybrid+rerank", q1_rank=1, q2_rank=2).results


def test_limits_sit_two_points_beyond_the_measurement_on_whole_points() -> None:
    t = derive_thresholds(_reference())
    assert measure(_reference())["hit_at_5"] == 1.0
    assert t.floors["hit_at_5"] == 0.98
    assert t.floors["hit_at_5_english"] == 0.98
    assert t.floors["mrr_at_10"] == 0.73  # (1 + 1/2) / 2 = 0.75
    assert t.floors["answer_accuracy"] == 0.98
    assert t.floors["abstention_recall"] == 0.98
    assert t.ceilings == {"answerable_null_rate": 0.02}
    assert t.reference == {"q1": (1, True), "q2": (2, True), "u1": (None, True)}


def test_an_update_raises_floors_and_lowers_ceilings_but_never_loosens_them() -> None:
    old = replace(
        derive_thresholds(_reference()),
        floors={"hit_at_5": 0.9, "mrr_at_10": 0.8},
        ceilings={"answerable_null_rate": 0.01},
    )
    t = never_looser(derive_thresholds(_reference()), old)
    assert t.floors["hit_at_5"] == 0.98  # raised to the new run
    assert t.floors["mrr_at_10"] == 0.8  # the new run's 0.73 would loosen it: kept
    assert t.floors["answer_accuracy"] == 0.98  # new in this run
    assert t.ceilings == {"answerable_null_rate": 0.01}  # the new 0.02 would loosen it
    assert never_looser(derive_thresholds(_reference()), None) == derive_thresholds(_reference())


def test_the_reference_run_passes_its_own_gate() -> None:
    gate = check_gate("tiny.jsonl", _reference(), QUESTIONS, derive_thresholds(_reference()))
    assert gate.passed and gate.worse == ()
    assert gate.render().splitlines()[0] == "gate passed on tiny.jsonl:"


def test_a_drop_fails_and_names_the_question_that_got_worse() -> None:
    thresholds = derive_thresholds(_reference())
    worse = variant("hybrid+rerank", q1_rank=1, q2_rank=None).results
    gate = check_gate("tiny.jsonl", worse, QUESTIONS, thresholds)
    assert not gate.passed
    assert {c.metric for c in gate.failures} == {
        "hit_at_5",
        "hit_at_5_english",
        "mrr_at_10",
        "answer_accuracy",
        "answerable_null_rate",
    }
    assert gate.worse == ("q2 [english] rank 2 -> miss, answer ok -> wrong: How many products?",)
    text = gate.render()
    assert "  FAIL hit_at_5               0.500 (limit >= 0.98)" in text
    assert "  ok   abstention_recall      1.000 (limit >= 0.98)" in text
    assert "questions worse than the reference run (1):" in text


def test_answering_an_unanswerable_question_breaks_abstention_recall() -> None:
    thresholds = derive_thresholds(_reference())
    results = list(_reference())
    results[2] = replace(results[2], answer_text="乱答", answer_correct=False)
    gate = check_gate("tiny.jsonl", results, QUESTIONS, thresholds)
    assert [c.metric for c in gate.failures] == ["abstention_recall"]
    assert gate.worse == (
        "u1 [unanswerable] rank miss -> miss, answer ok -> wrong: 火星上有几家企业",
    )


def test_a_metric_a_set_cannot_measure_does_not_fail() -> None:
    thresholds = derive_thresholds(_reference())
    chinese_only = [r for r in _reference() if "english" not in r.tags]
    gate = check_gate("tiny.jsonl", chinese_only, QUESTIONS, thresholds)
    english = next(c for c in gate.checks if c.metric == "hit_at_5_english")
    assert english.value is None and english.passed


def test_thresholds_file_round_trips(tmp_path: Path) -> None:
    sets = {"tiny.jsonl": derive_thresholds(_reference())}
    doc = thresholds_json(sets, variant="hybrid+rerank", date="2026-01-02", commit="abc", index={})
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = load_thresholds(path)["tiny.jsonl"]
    assert loaded.floors == sets["tiny.jsonl"].floors
    assert loaded.reference == sets["tiny.jsonl"].reference
    assert doc["measured_at"] == "2026-01-02" and doc["commit"] == "abc"
