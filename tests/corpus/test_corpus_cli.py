"""``python -m corpus inspect``: a readable table of documents and load problems."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from corpus.cli import inspect, main

REPO = Path(__file__).resolve().parents[2]


def test_inspect_lists_every_seed_document_with_id_title_date_and_size() -> None:
    out = io.StringIO()
    assert inspect(out=out) == 0
    table = out.getvalue()
    assert "002_a6192bb7d02a95be.txt:0" in table and "2025-01-22" in table
    assert "千亿级产业是怎样炼成的" in table
    assert "13 documents from 5 files" in table
    assert "0 load problems" in table


def test_inspect_shows_the_date_page_and_byline_each_page_states() -> None:
    out = io.StringIO()
    assert inspect(out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["id", "source", "title", "date", "page", "chars", "byline"]
    rows = {line.split("  ")[0]: line.split()[-5:] for line in lines[2:15]}
    # title words, date, page, characters, byline (the byline's words are the last ones)
    assert rows["002_a6192bb7d02a95be.txt:0"] == ["产业焕发新气象", "2025-01-22", "7", "4067", "-"]
    assert rows["003_9e92c380d67ef266.txt:0"] == ["-", "-", "2359", "新甘肃·甘肃日报记者", "刘健"]
    assert rows["000_0ad1dae646fc90f2.txt:1"] == ["闯出新路子", "-", "-", "250", "陈发明"]
    assert "新甘肃·甘肃日报记者 刘健" in lines[2 + 6]  # the byline printed whole


def test_inspect_reports_problems_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("兰州新区今年以来持续推进产业项目建设。", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text("{oops\n", encoding="utf-8")
    out = io.StringIO()
    assert inspect(tmp_path, out=out) == 1
    assert "bad.jsonl:1: not valid JSON" in out.getvalue()
    assert "good.txt:0" in out.getvalue()


def test_missing_directory_exits_2_with_a_message(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["inspect", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_python_dash_m_corpus_inspect_runs() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "corpus", "inspect"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "13 documents from 5 files" in run.stdout
