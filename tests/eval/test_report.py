"""Run directories: results.json round-trips, summary.md has the tables, charts are PNGs."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pytest

from eval.report import (
    HITK_CHART,
    RESULTS,
    SUMMARY,
    TAGS_CHART,
    RunDirError,
    load_run,
    run_dir_name,
    to_json,
    write_run,
)
from eval.tables import comparison_table, markdown, plain, tag_table
from tests.eval.runs import synthetic_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_run_directory_is_named_for_time_set_and_config() -> None:
    assert run_dir_name(synthetic_run()) == "20260102T030405Z-tiny-hybrid-rerank-3v-bf0ac665"


def test_written_run_holds_results_summary_and_two_charts(tmp_path: Path) -> None:
    run_dir = write_run(synthetic_run(), tmp_path)
    assert run_dir.parent == tmp_path
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(
        [RESULTS, SUMMARY, HITK_CHART, TAGS_CHART]
    )
    data = json.loads((run_dir / RESULTS).read_text(encoding="utf-8"))
    assert data["index"]["config_id"] == "bf0ac66595c1b9c6"
    assert data["commit"] == "abc1234"
    assert [v["name"] for v in data["variants"]] == ["bm25", "hybrid+rerank", "baseline"]
    main = data["variants"][1]
    assert main["config"]["retriever"] == "hybrid+rerank"
    assert [r["question_id"] for r in main["results"]] == ["q1", "q2", "u1"]
    assert main["summary"]["all"]["hit_at_1"] == 0.5
    assert data["variants"][2]["summary"]["all"]["answer_accuracy"] is None


def test_results_json_round_trips(tmp_path: Path) -> None:
    run = synthetic_run()
    assert to_json(load_run(write_run(run, tmp_path))) == to_json(run)


def test_charts_are_readme_sized_pngs(tmp_path: Path) -> None:
    run_dir = write_run(synthetic_run(), tmp_path)
    for name in (HITK_CHART, TAGS_CHART):
        assert (run_dir / name).read_bytes()[:8] == PNG_SIGNATURE
    height, width, _ = matplotlib.image.imread(run_dir / HITK_CHART).shape
    assert (width, height) == (960, 600)


def test_summary_markdown_states_date_set_commit_index_and_tables(tmp_path: Path) -> None:
    text = (write_run(synthetic_run(), tmp_path) / SUMMARY).read_text(encoding="utf-8")
    assert "- date: 2026-01-02 03:04 UTC" in text
    assert "`tiny.jsonl` (3 questions)" in text
    assert "commit: `abc1234`" in text
    assert "config id `bf0ac66595c1b9c6`" in text
    assert "| variant | n | hit@1 % | hit@3 % | hit@5 % | hit@10 % | MRR@10 | nDCG@10 |" in text
    assert "| hybrid+rerank | 3 | 50.0 | 50.0 | 50.0 | 50.0 | 0.500 | 0.500 | 50.0 |" in text
    assert "## hit@5 per tag (%)" in text and "## answer accuracy per tag (%)" in text


def test_comparison_row_per_variant_with_baseline_answers_not_applicable() -> None:
    table = comparison_table(synthetic_run())
    assert [r[0] for r in table.rows] == ["bm25", "hybrid+rerank", "baseline"]
    baseline = dict(zip(table.headers, table.rows[2], strict=True))
    assert baseline["hit@5 %"] == "100.0"
    assert baseline["MRR@10"] == f"{(1 / 3 + 1 / 4) / 2:.3f}"
    assert (baseline["answer acc %"], baseline["abstain P %"], baseline["abstain R %"]) == (
        "n/a",
        "n/a",
        "n/a",
    )
    assert baseline["p50 ms"] == "20.0"


def test_tag_tables_count_answerable_questions_and_skip_unanswerable_tags() -> None:
    hit5 = tag_table(synthetic_run(), "hit_at_5")
    assert hit5.headers == ("tag", "answerable", "bm25", "hybrid+rerank", "baseline")
    assert [r[:2] for r in hit5.rows] == [
        ("all", "2"),
        ("direct", "1"),
        ("english", "1"),
        ("numeric", "1"),
    ]
    accuracy = tag_table(synthetic_run(), "answer_accuracy", answering_only=True)
    assert accuracy.headers == ("tag", "answerable", "bm25", "hybrid+rerank")


def test_markdown_escapes_pipes_and_plain_aligns_columns() -> None:
    table = tag_table(synthetic_run(), "hit_at_5")
    assert markdown(table).splitlines()[1] == "| :--- | ---: | ---: | ---: | ---: |"
    lines = plain(table).splitlines()
    assert lines[0] == "hit@5 per tag (%)"
    assert len({len(line) for line in lines[1:]}) == 1


@pytest.mark.parametrize("content", [None, "not json", '{"format": 99}'])
def test_loading_something_that_is_not_a_run_says_so(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / RESULTS).write_text(content, encoding="utf-8")
    with pytest.raises(RunDirError, match=str(tmp_path)):
        load_run(tmp_path)


def test_two_variants_print_a_row_each_and_their_difference_in_points() -> None:
    from eval.metrics import MetricSummary
    from eval.tables import variant_rows

    def summary(hit1: float, mrr: float | None) -> MetricSummary:
        return MetricSummary(
            10, 9, 1, hit1, 0.9, 1.0, 1.0, mrr, None, 0.8, None, None, None, None, None
        )

    rows = variant_rows(
        "dev", [("fp32", summary(0.5, 0.75)), ("int8", summary(0.6, None))], "fp32", "int8"
    )
    assert rows == [
        "| dev | 10 | fp32 | 50.0 | 100.0 | 0.750 | 80.0 |",
        "| dev | 10 | int8 | 60.0 | 100.0 | n/a | 80.0 |",
        "| dev | | int8 - fp32 (points) | +10.0 | +0.0 | n/a | +0.0 |",
    ]
    assert len(variant_rows("dev", [("fp32", summary(0.5, 0.75))], "fp32", "int8")) == 1
