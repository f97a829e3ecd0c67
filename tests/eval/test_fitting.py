"""The fitting arithmetic of `ragqa eval tune` on tiny inline data, with exact results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.fitting import (
    Groups,
    assign_folds,
    choose_threshold,
    fit_listwise,
    listwise_loss,
    top1_accuracy,
)


def test_folds_hold_out_whole_units_and_spread_each_kind() -> None:
    seeds = [f"seed:{i:03d}.txt" for i in range(5)]
    paragraphs = [f"cmrc:TRIAL_{i}.txt" for i in range(12)]
    loose = [f"seed:question:q{i}" for i in range(3)]
    folds = assign_folds(seeds + paragraphs + loose + seeds, k=5)
    assert set(folds) == set(seeds + paragraphs + loose)
    assert sorted(folds[s] for s in seeds) == [0, 1, 2, 3, 4]  # one seed file per fold
    per_fold = [sum(folds[p] == f for p in paragraphs) for f in range(5)]
    assert sorted(per_fold) == [2, 2, 2, 3, 3]
    assert assign_folds(list(reversed(seeds)), k=5) == {s: folds[s] for s in seeds}


def _two_questions() -> Groups:
    # question 0: the good candidate has the higher feature 0; question 1: higher feature 1
    return Groups.stack(
        [
            (np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([1.0, 0.0])),
            (np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]), np.array([1.0, 0.0, 0.0])),
            (np.array([[5.0, 5.0]]), np.array([1.0])),  # one candidate: uninformative
            (np.empty((0, 2)), np.empty(0)),  # no candidates: dropped
        ],
        d=2,
    )


def test_stack_numbers_the_questions_and_informative_drops_the_trivial_ones() -> None:
    data = _two_questions()
    assert data.group.tolist() == [0, 0, 1, 1, 1, 2]
    assert data.informative().group.tolist() == [0, 0, 1, 1, 1]


def test_listwise_loss_by_hand() -> None:
    data = _two_questions().informative()
    loss, grad = listwise_loss(np.zeros(2), data, np.zeros(2), l2=0.0)
    # all scores 0: mass on the good candidate is 1/2 and 1/3
    assert loss == pytest.approx((math.log(2) + math.log(3)) / 2)
    # d/dw0 = mean over questions of sum (p_all - p_good) x0 = (0.5 - 1) / 2 = -0.25
    assert grad.tolist() == pytest.approx([-0.25, (1 / 3 - 1) / 2])


def test_fit_moves_weights_towards_the_features_of_good_candidates() -> None:
    data = _two_questions()
    weights = fit_listwise(data, prior=[0.0, 0.0], l2=0.01, steps=300)
    assert weights[0] > 0.5 and weights[1] > 0.5
    assert top1_accuracy(data.informative(), weights) == 1.0
    assert top1_accuracy(data.informative(), [0.0, 0.0]) == 1.0  # ties: first row, good here
    assert top1_accuracy(data.informative(), [-1.0, -1.0]) == 0.0


def test_fit_without_informative_questions_keeps_the_prior() -> None:
    only_trivial = Groups.stack([(np.array([[1.0, 2.0]]), np.array([1.0]))], d=2)
    assert fit_listwise(only_trivial, prior=[0.3, 0.7]) == (0.3, 0.7)


def test_threshold_keeps_answerable_nulls_under_the_ceiling() -> None:
    answerable = [0.9, 0.2, 0.8, 0.7, 0.6, 0.95, 0.85, 0.75, 0.65, 0.55]
    assert choose_threshold(answerable, 0.0) == 0.2  # nothing below 0.2
    assert choose_threshold(answerable, 0.1) == 0.55  # only 0.2 falls below
    assert choose_threshold(answerable, 0.25) == 0.6  # 2 of 10 may fall below
    assert choose_threshold([], 0.05) == 0.5
