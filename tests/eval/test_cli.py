"""`ragqa eval`: diff of two runs, and every bad input as one clean message with a non-zero exit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.cli import app
from eval.report import write_run
from ragqa.cli import app as ragqa
from tests.eval.runs import synthetic_run

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = write_run(synthetic_run(at=datetime(2026, 1, 1, tzinfo=UTC)), tmp_path)
    b = write_run(synthetic_run(better=True, at=datetime(2026, 1, 2, tzinfo=UTC)), tmp_path)
    return a, b


def _clean_failure(result: object, code: int, *needles: str) -> None:
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == code, out  # type: ignore[attr-defined]
    assert "Traceback" not in out
    assert "error:" in out
    for needle in needles:
        assert needle in out, out


def test_diff_lists_the_question_that_got_better(tmp_path: Path) -> None:
    a, b = _two_runs(tmp_path)
    result = runner.invoke(app, ["diff", str(a), str(b)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("hybrid+rerank: tiny.jsonl, 2026-01-01 00:00 UTC (abc1234)")
    assert "  hit@5            0.500 -> 1.000" in lines
    assert "worse (0)" in lines and "better (1)" in lines
    assert "  q2       rank miss -> 1, answer wrong -> ok  [english] How many products?" in lines


def test_diff_of_an_unchanged_variant_lists_nothing(tmp_path: Path) -> None:
    a, b = _two_runs(tmp_path)
    result = runner.invoke(app, ["diff", str(a), str(b), "--variant", "bm25"])
    assert result.exit_code == 0
    assert "worse (0)" in result.output and "better (0)" in result.output


def test_diff_is_mounted_under_ragqa_eval(tmp_path: Path) -> None:
    a, b = _two_runs(tmp_path)
    result = runner.invoke(ragqa, ["eval", "diff", str(a), str(b)])
    assert result.exit_code == 0 and "better (1)" in result.output


def test_diff_names_the_variants_a_run_has(tmp_path: Path) -> None:
    a, b = _two_runs(tmp_path)
    result = runner.invoke(app, ["diff", str(a), str(b), "--variant", "dense"])
    _clean_failure(result, 1, "no variant 'dense'", "bm25, hybrid+rerank, baseline")


def test_diff_of_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    a, _ = _two_runs(tmp_path)
    result = runner.invoke(app, ["diff", str(a), str(tmp_path / "nowhere")])
    _clean_failure(result, 1, "not a run directory")


def test_missing_question_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "-q", str(tmp_path / "missing.jsonl")])
    _clean_failure(result, 1, "missing.jsonl: question file not found")


def test_bad_jsonl_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = '{"question": "甘肃有多少家企业", "answers": ["3293家"], "source": "a.txt"}'
    bad.write_text(good + "\n{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "-q", str(bad)])
    _clean_failure(result, 1, "bad.jsonl:2: invalid JSON")


def test_missing_index_says_to_build_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--index", str(tmp_path / "no-index")])
    _clean_failure(result, 1, "no index at", "run `ragqa build`")


def test_unknown_retriever_is_a_usage_error() -> None:
    result = runner.invoke(app, ["run", "--retriever", "bm25,magic"])
    _clean_failure(result, 2, "unknown retriever magic")


def test_url_with_local_variants_is_a_usage_error() -> None:
    result = runner.invoke(app, ["run", "--url", "http://127.0.0.1:9", "--chunk-sizes", "200"])
    _clean_failure(result, 2, "--url evaluates the service as deployed")


def test_held_out_with_defaults_is_a_usage_error() -> None:
    result = runner.invoke(app, ["run", "--held-out", "--defaults"])
    _clean_failure(result, 2, "--held-out already runs the defaults beside the fit")


def test_unreachable_url(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = runner.invoke(app, ["run", "--url", f"http://127.0.0.1:{port}"])
    _clean_failure(result, 1, "service: cannot reach", f"127.0.0.1:{port}/readyz")


def test_python_dash_m_eval_runs_the_same_app(tmp_path: Path) -> None:
    a, b = _two_runs(tmp_path)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "eval", "diff", str(a), str(b)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "better (1)" in done.stdout


def _tiny_set(tmp_path: Path) -> Path:
    lines = (ROOT / "eval" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    return path


def test_run_in_process_prints_the_table_and_writes_the_run(
    index_dir: Path, tmp_path: Path
) -> None:
    args = ["run", "-q", str(_tiny_set(tmp_path)), "--index", str(index_dir)]
    args += ["--retriever", "bm25,hybrid+rerank", "--no-baseline", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr has the model loader's progress
    assert lines[0] == "tiny.jsonl: 3 questions, top 10 passages"
    assert lines[1].split()[:3] == ["variant", "n", "hit@1"]
    assert [line.split()[0] for line in lines[2:4]] == ["bm25", "hybrid+rerank"]
    run_dirs = list((tmp_path / "o").iterdir())
    assert len(run_dirs) == 1 and f"run directory: {run_dirs[0]}" in lines


@pytest.mark.slow
def test_run_against_a_live_service_as_json(live_server: str, tmp_path: Path) -> None:
    args = ["run", "-q", str(_tiny_set(tmp_path)), "--url", live_server, "--json"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc["summary"]) == ["service"]
    assert doc["summary"]["service"]["n_questions"] == 3
    assert doc["summary"]["service"]["n_errors"] == 0
    assert Path(doc["run_dir"]).parent == tmp_path / "o"


def test_bench_help_is_the_cli_s_own_with_every_option() -> None:
    result = runner.invoke(ragqa, ["eval", "bench", "--help"])
    assert result.exit_code == 0
    assert "Usage: ragqa eval bench [OPTIONS]" in result.output
    for option in ("--index", "--model", "--synthetic", "--json"):
        assert option in result.output
    bad = runner.invoke(ragqa, ["eval", "bench", "--synthetic", "0"])
    assert bad.exit_code == 2
    assert "--synthetic" in bad.output
