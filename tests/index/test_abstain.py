"""The abstention model on hand-set weights and tiny inline data, with exact results."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from index.rank.abstain import FEATURES, AbstentionModel, Evidence, fit

EVIDENCE = Evidence(
    score=2.0,
    similarity=0.9,
    support=0.5,
    focus_support=1.0,
    margin=0.25,
    lexical_share=1.0,
    english=0.0,
    has_focus=1.0,
    answer_type=0.0,
)


def _model(
    weights: tuple[float, ...], bias: float = 0.0, threshold: float = 0.5
) -> AbstentionModel:
    n = len(FEATURES)
    return AbstentionModel((0.0,) * n, (1.0,) * n, weights, bias, threshold)


def test_evidence_vector_follows_the_feature_order() -> None:
    assert FEATURES == (
        "score",
        "similarity",
        "support",
        "focus_support",
        "margin",
        "lexical_share",
        "english",
        "has_focus",
        "answer_type",
        "name_support",
        "has_names",
    )
    assert EVIDENCE.vector() == [2.0, 0.9, 0.5, 1.0, 0.25, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert EVIDENCE.vector(("margin", "score")) == [0.25, 2.0]


def test_probability_is_the_logistic_of_standardised_evidence() -> None:
    only_support = _model((0.0, 0.0, 2.0) + (0.0,) * 8, bias=-1.0)
    assert only_support.probability(EVIDENCE) == pytest.approx(0.5)  # z = 2 × 0.5 - 1 = 0
    # standardising: (0.5 - 0.25) / 0.5 = 0.5, so z = 2 × 0.5 - 1 = 0 again
    shifted = replace(only_support, mean=(0, 0, 0.25) + (0,) * 8, scale=(1, 1, 0.5) + (1,) * 8)
    assert shifted.probability(EVIDENCE) == pytest.approx(0.5)
    score_and_margin = _model((1.0, 0.0, 0.0, 0.0, 4.0) + (0.0,) * 6)
    assert score_and_margin.probability(EVIDENCE) == pytest.approx(1 / (1 + math.exp(-3.0)))


def test_abstains_below_the_threshold_only() -> None:
    model = _model((0.0,) * 11)  # probability 0.5 whatever the evidence
    assert not replace(model, threshold=0.5).abstains(EVIDENCE)
    assert replace(model, threshold=0.51).abstains(EVIDENCE)


def test_extreme_evidence_does_not_overflow() -> None:
    model = _model((1000.0,) + (0.0,) * 10)
    assert model.probability(EVIDENCE) == pytest.approx(1.0)
    assert model.probability(replace(EVIDENCE, score=-2.0)) == pytest.approx(0.0, abs=1e-20)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "abstention.json"
    model = replace(_model((0.5,) * 11, bias=0.25, threshold=0.3), notes="fitted on x")
    model.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    assert AbstentionModel.load(path) == model


def test_a_model_fitted_before_an_input_existed_reads_only_its_own_inputs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "abstention.json"
    path.write_text(
        json.dumps(
            {
                "features": ["support", "margin"],
                "mean": [0.0, 0.0],
                "scale": [1.0, 1.0],
                "weights": [2.0, 4.0],
                "bias": -2.0,
                "threshold": 0.5,
            }
        ),
        encoding="utf-8",
    )
    model = AbstentionModel.load(path)
    assert model.features == ("support", "margin")
    # z = 2 × 0.5 + 4 × 0.25 - 2 = 0, whatever the other inputs say
    assert model.probability(replace(EVIDENCE, name_support=0.0)) == pytest.approx(0.5)


def test_load_refuses_a_model_reading_an_unknown_input(tmp_path: Path) -> None:
    path = tmp_path / "abstention.json"
    _model((0.0,) * 11).save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0] = "colour"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown input\(s\) colour; run `ragqa eval tune`"):
        AbstentionModel.load(path)


def test_load_refuses_weights_that_do_not_match_the_inputs(tmp_path: Path) -> None:
    path = tmp_path / "abstention.json"
    _model((0.0,) * 11).save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = data["features"][:3]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="3 features but other lengths of weights"):
        AbstentionModel.load(path)


def test_fit_separates_answerable_from_unanswerable_evidence() -> None:
    # answerable questions have high support, unanswerable ones low; other features constant
    answerable = [replace(EVIDENCE, support=s).vector() for s in (0.8, 0.9, 1.0)]
    unanswerable = [replace(EVIDENCE, support=s).vector() for s in (0.0, 0.1)]
    mean, scale, weights, bias = fit(answerable + unanswerable, [True] * 3 + [False] * 2)
    assert mean[2] == pytest.approx(0.56)  # (0.8 + 0.9 + 1.0 + 0.0 + 0.1) / 5
    assert weights[2] > 0
    assert all(w == 0.0 for i, w in enumerate(weights) if i != 2)  # constant features
    model = AbstentionModel(mean, scale, weights, bias, 0.5)
    assert all(not model.abstains(Evidence(*v)) for v in answerable)
    assert all(model.abstains(Evidence(*v)) for v in unanswerable)


def test_a_best_sentence_without_the_kind_of_thing_asked_lowers_the_probability() -> None:
    only_type = _model((0.0,) * 8 + (2.0, 0.0, 0.0), bias=-1.0)
    assert only_type.probability(EVIDENCE) == pytest.approx(1 / (1 + math.exp(1.0)))  # type 0
    typed = replace(EVIDENCE, answer_type=1.0)
    assert only_type.probability(typed) == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_the_engine_records_whether_its_answer_holds_the_kind_of_thing_asked(engine: Any) -> None:
    found = _choice(engine, "白银炉能耗降低了多少")
    assert found is not None and found.evidence.answer_type == 1.0  # "300公斤标煤降至210公斤标煤"


def test_an_answer_from_a_passage_without_the_named_place_lowers_the_probability() -> None:
    only_names = _model((0.0,) * 9 + (2.0, 0.0), bias=-1.0)
    assert only_names.probability(EVIDENCE) == pytest.approx(1 / (1 + math.exp(-1.0)))
    elsewhere = replace(EVIDENCE, name_support=0.0, has_names=1.0)
    assert only_names.probability(elsewhere) == pytest.approx(1 / (1 + math.exp(1.0)))


@pytest.mark.parametrize(
    ("question", "name_support", "has_names"),
    [
        # the best sentence is about 每万人口 of another city: 嘉峪关 is not in its passage
        ("What is the population of Jiayuguan?", 0.0, 1.0),
        ("How many investment-attraction task forces did Lanzhou New Area set up?", 1.0, 1.0),
        ("白银炉能耗降低了多少", 1.0, 0.0),  # a Chinese question romanises nothing
    ],
)
def test_the_engine_records_whether_the_answer_passage_has_the_places_named(
    engine: Any, question: str, name_support: float, has_names: float
) -> None:
    found = _choice(engine, question)
    assert found is not None
    assert (found.evidence.name_support, found.evidence.has_names) == (name_support, has_names)


def _choice(engine: Any, question: str) -> Any:
    """Stage 4's choice for `question`, read from the pipeline's trace."""
    return engine.pipeline.run(question).choice
