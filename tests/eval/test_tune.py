"""The held-out figures and the parameters file of `ragqa eval tune`, on inline data."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace
from typing import Any

from eval.dataset import Question
from eval.tune import (
    Figures,
    Fitted,
    Outcome,
    balanced,
    figures,
    on_default_scale,
)
from eval.tune_report import fitted_from_json, fitted_json, render_table
from index.rank.abstain import AbstentionModel
from index.rank.params import AnswerParams, RankingParams

A = Question("a", "问题", ("答案",), "x.txt")
U = Question("u", "没有答案的问题", (), None)


def _item(question: Question) -> Any:
    return SimpleNamespace(question=question)


def test_figures_count_hits_answers_and_nulls_like_the_metrics() -> None:
    pairs = [
        (_item(A), Outcome(first_hit=1, answered=True, correct=True)),
        (_item(A), Outcome(first_hit=4, answered=False, correct=False)),
        (_item(A), Outcome(first_hit=None, answered=True, correct=False)),
        (_item(U), Outcome(first_hit=None, answered=False, correct=True)),
    ]
    assert figures(pairs) == Figures(
        n=4,
        hit_at_1=round(1 / 3, 4),
        hit_at_5=round(2 / 3, 4),
        answer=round(1 / 3, 4),
        answerable_null=round(1 / 3, 4),
        unanswerable_recall=1.0,
    )


def test_each_corpus_weighs_the_same_in_a_fit() -> None:
    # 9 CMRC questions (over two sets) and 2 seed ones: the seed ones count 9 / 2 → 4 times over
    items = [SimpleNamespace(set_name="cmrc", n=i) for i in range(6)]
    items += [SimpleNamespace(set_name="cmrc-en", n=i) for i in range(6, 9)]
    items += [SimpleNamespace(set_name="own", n=9), SimpleNamespace(set_name="dev", n=10)]
    weighed = balanced(items)  # type: ignore[arg-type]
    assert [i.n for i in weighed] == list(range(9)) + [9] * 4 + [10] * 4
    assert balanced(items[:9]) == items[:9]  # one corpus: nothing repeated


def test_fitted_re_scoring_weights_keep_the_defaults_scale_and_order() -> None:
    # the defaults' re-scoring weights total 0.4 + 1.0 + 0.4 + 0.2 = 2.0
    assert on_default_scale([4.0, 2.0, 3.0, 1.0]) == (0.8, 0.4, 0.6, 0.2)
    assert on_default_scale([0.0, 0.0, 0.0, 0.0]) == (0.0, 0.0, 0.0, 0.0)


def test_fitted_parameters_round_trip_through_json() -> None:
    fitted = Fitted(
        RankingParams(rerank_fused=0.7),
        AnswerParams(w_focus=0.5),
        AbstentionModel((0.0,) * 11, (1.0,) * 11, (0.1,) * 11, -0.2, 0.35),
    )
    doc = fitted_json(fitted)
    assert set(doc) == {"ranking", "answer", "abstention"}
    assert doc["ranking"]["rerank_fused"] == 0.7 and doc["answer"]["w_focus"] == 0.5
    assert "w_focus" not in doc["ranking"]  # no weight shared between the stages
    assert fitted_from_json(doc) == fitted


def test_table_puts_todays_figure_before_the_fitted_one() -> None:
    today = {"cmrc": Figures(10, 0.9, 1.0, 0.5, 0.1, None)}
    tuned = {"cmrc": Figures(10, 0.95, 1.0, 0.8, 0.02, None)}
    lines = render_table(today, tuned).splitlines()
    assert (
        lines[2] == "| cmrc | 10 | 90.0 → 95.0 | 100.0 → 100.0 | 50.0 → 80.0 | 10.0 → 2.0 | n/a |"
    )


def test_tune_names_the_sets_it_knows_when_given_another() -> None:
    from typer.testing import CliRunner

    from eval.cli import app

    result = CliRunner().invoke(app, ["tune", "--set", "squad", "--dry-run"])
    assert result.exit_code == 2
    assert "unknown question set 'squad': choose from dev, own, cmrc" in result.output


def test_tune_writes_an_untracked_file_unless_asked_to_install_the_one_the_engine_reads() -> None:
    from typer.testing import CliRunner

    from corpus import paths
    from eval.cli import app
    from eval.tune_report import PARAMS_FILE, TUNED_FILE
    from index.rank.params import PARAMS_FILE as ENGINE_READS

    assert PARAMS_FILE == ENGINE_READS
    assert PARAMS_FILE.is_file()
    assert TUNED_FILE == paths.VAR_DIR / "tuned" / "params.json"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(TUNED_FILE)], cwd=paths.REPO_DIR, check=False
    )
    assert ignored.returncode == 0  # var/ is not tracked
    result = CliRunner().invoke(app, ["tune", "--install", "--out", "x.json", "--dry-run"])
    assert result.exit_code == 2
    assert "--install and --out name two places for one file" in result.output
