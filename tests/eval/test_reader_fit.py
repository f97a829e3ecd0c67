"""Fitting how stage 4 uses the reader (`ragqa eval fit-reader`): the arithmetic, exactly."""

from __future__ import annotations

from eval.reader_fit import Shortlist, accept_first_for, figures, fit, threshold_for

# Four answerable questions and one the corpus does not answer. The features put the right
# sentence second for the first two; the reader puts it first for the first one only.
ROWS = [
    Shortlist(True, features=[2.0, 1.0], reader=[0.0, 3.0], right=[False, True]),
    Shortlist(True, features=[2.0, 1.0], reader=[1.0, 0.5], right=[False, True]),
    Shortlist(True, features=[1.0, 0.0], reader=[2.0, 1.0], right=[True, False]),
    Shortlist(True, features=[], reader=[], right=[]),
    Shortlist(False, features=[1.0, 0.5], reader=[-1.0, -2.0], right=[False, False]),
]


def test_the_blend_chooses_by_the_reader_plus_the_weighted_features() -> None:
    assert ROWS[0].best(0.0) == (3.0, True)
    assert ROWS[0].best(4.0) == (8.0, False)
    assert ROWS[3].best(1.0) is None


def test_a_question_without_candidates_counts_against_the_null_ceiling() -> None:
    # 4 answerable, one has no candidates: a ceiling of 25% leaves no room for another null
    assert threshold_for(ROWS, 0.0, 0.25) == 1.0
    assert threshold_for(ROWS, 0.0, 0.5) == 2.0


def test_figures_count_answers_nulls_and_refusals() -> None:
    assert figures(ROWS, 0.0, 1.0) == {
        "answer": 0.5,
        "answerable_null": 0.25,
        "off_corpus_refused": 1.0,
        "answerable": 4,
        "off_corpus": 1,
    }


def test_fit_picks_the_weight_that_answers_most_within_the_ceiling() -> None:
    params, tried = fit(ROWS, candidates=2, max_null=0.25)
    assert (params.candidates, params.feature_weight, params.threshold) == (2, 0.0, 1.0)
    assert tried["4.0"]["answer"] == 0.25


def test_of_weights_that_answer_as_many_the_fit_keeps_the_smallest() -> None:
    # every weight answers the one answerable question; weights of 1 and more also refuse the
    # off-corpus one (its features are 0), but the features do not weigh in for that alone
    rows = [
        Shortlist(True, features=[1.0], reader=[0.0], right=[True]),
        Shortlist(False, features=[0.0], reader=[0.5], right=[False]),
    ]
    params, tried = fit(rows, candidates=1, max_null=0.0)
    assert (params.feature_weight, params.threshold) == (0.0, 0.0)
    assert [tried[w]["off_corpus_refused"] for w in ("0.0", "1.0", "4.0")] == [0.0, 1.0, 1.0]
    assert {tried[w]["answer"] for w in ("0.0", "0.25", "0.5", "1.0", "2.0", "4.0")} == {1.0}


def test_the_first_sentence_is_accepted_unread_rest_where_that_costs_no_answer() -> None:
    # threshold 1: the third question's first sentence (2.0) and the second's (1.0, wrong, but
    # wrong after reading both too) stop early; the first question reads both and is right
    assert accept_first_for(ROWS, 0.0, 1.0) == 1.0
    assert [r.read(0.0, 1.0) for r in ROWS] == [2, 1, 1, 0, 2]
    assert figures(ROWS, 0.0, 1.0, accept_first=1.0) == figures(ROWS, 0.0, 1.0)
    params, tried = fit(ROWS, candidates=2, max_null=0.25)
    assert params.accept_first == 1.0
    assert (tried["accept_first"]["read"], tried["accept_first"]["read_all"]) == (1.2, 1.6)


def test_when_every_early_acceptance_costs_an_answer_all_candidates_are_read() -> None:
    rows = [*ROWS, Shortlist(True, features=[0.0, 0.0], reader=[2.5, 3.0], right=[False, True])]
    assert accept_first_for(rows, 0.0, 1.0) is None
    assert fit(rows, candidates=2, max_null=0.25)[0].accept_first is None
