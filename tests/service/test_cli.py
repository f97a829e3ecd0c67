"""The `ragqa` command line: help, `ask` in-process (pretty and `--json`), clean failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ragqa.cli import app

QUESTION = "酒钢集团的产品种类扩展到了多少个"
runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("corpus", "index", "service", "eval", "build", "serve", "ask"):
        assert command in result.output


def test_each_layer_has_its_group() -> None:
    for group, commands in (
        ("corpus", ("inspect",)),
        ("index", ("build",)),
        ("service", ("serve", "ask")),
        ("eval", ("run", "diff", "gate", "bench", "tune")),
    ):
        result = runner.invoke(app, [group, "--help"])
        assert result.exit_code == 0, result.output
        for command in commands:
            assert command in result.output, (group, command)


def test_service_does_not_import_eval() -> None:
    service = Path(__file__).resolve().parents[2] / "service"
    importing = [
        str(path.relative_to(service))
        for path in service.rglob("*.py")
        if "from eval" in path.read_text() or "import eval" in path.read_text()
    ]
    assert importing == []


def test_python_m_ragqa_is_the_same_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ragqa", "--help"], capture_output=True, text=True, check=True
    )
    assert "index" in out.stdout and "service" in out.stdout


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys; from ragqa.cli import app\n"
        "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_m_service_help_describes_serving() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "service", "--help"], capture_output=True, text=True, check=True
    )
    assert "--port" in out.stdout


def store(tmp_path: Path) -> list[str]:
    """`--data-dir` of a document store of the test's own (the corpus is imported into it)."""
    return ["--data-dir", str(tmp_path / "data")]


def test_ask_json_prints_the_api_response(index_dir: Path, engine: Any, tmp_path: Path) -> None:
    from service.schemas import AskResponse

    result = runner.invoke(
        app,
        ["ask", QUESTION, "--json", "--top-k", "3", "--index", str(index_dir), *store(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    AskResponse.model_validate(printed)
    expected = AskResponse.model_validate(engine.ask(QUESTION, 3)).model_dump(mode="json")
    printed.pop("took_ms"), expected.pop("took_ms")
    assert printed == expected


def test_ask_prints_the_answer_and_numbered_passages(
    index_dir: Path, engine: Any, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["ask", QUESTION, "--top-k", "2", "--index", str(index_dir), *store(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    answer = engine.ask(QUESTION, 2).answer
    assert answer.text in result.output.replace("\n", "")
    assert "[1]" in result.output and "[2]" in result.output


def test_ask_without_an_index_says_to_build_one(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(missing), *store(tmp_path)])
    assert result.exit_code == 1
    assert f"no index at {missing}" in result.output.replace("\n", "")
    assert "ragqa build" in result.output
    assert "Traceback" not in result.output


def test_ask_with_an_empty_question_is_a_usage_error(index_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "   ", "--index", str(index_dir), *store(tmp_path)])
    assert result.exit_code == 2
    assert "question: must not be empty" in result.output


def test_invalid_environment_variable_is_named(index_dir: Path) -> None:
    result = runner.invoke(app, ["ask", QUESTION], env={"RAGQA_THREADS": "0"})
    assert result.exit_code == 2
    assert "RAGQA_THREADS" in result.output
