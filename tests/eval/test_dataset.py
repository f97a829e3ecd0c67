"""Loading question sets: format, defaults for plain sets, errors naming file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.dataset import (
    Question,
    QuestionSetError,
    contains_answer,
    is_english,
    load_questions,
    normalize,
)

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, *rows: Any, name: str = "set.jsonl") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a", "question": "酒钢开发了多少新品种", "answers": ["111个"], "source": "x.txt"}


def test_a_full_line_loads_into_a_frozen_question(tmp_path: Path) -> None:
    path = _write(tmp_path, {**GOOD, "tags": ["numeric"]})
    [q] = load_questions(path)
    assert q == Question("a", "酒钢开发了多少新品种", ("111个",), "x.txt", ("numeric",))
    assert q.answerable
    assert not q.is_english


def test_missing_id_becomes_file_stem_and_line_number(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD.items() if k != "id"}
    path = _write(tmp_path, "", row, name="mine.jsonl")
    assert load_questions(path)[0].id == "mine-2"


def test_missing_tags_are_inferred_as_english_and_unanswerable(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"id": "e", "question": "What is the population of Jiayuguan?", "answers": []},
        {"id": "z", "question": "兰州牛肉面多少钱", "answers": [], "source": None},
        GOOD,
    )
    assert [q.tags for q in load_questions(path)] == [
        ("english", "unanswerable"),
        ("unanswerable",),
        (),
    ]


def test_dev_set_without_tags_loads() -> None:
    dev = load_questions(ROOT / "eval" / "dev_questions.jsonl")
    assert len(dev) == 41
    assert {q.id for q in dev if not q.answerable} == {"du01", "du02", "du03"}
    assert sum("english" in q.tags for q in dev) == 9


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "expected a JSON object"),
        (json.dumps({"answers": ["1"], "source": "x.txt"}), "'question' must be"),
        (json.dumps({"question": 5, "answers": [], "source": None}), "'question' must be"),
        (json.dumps({"question": "q", "answers": "29项", "source": "x.txt"}), "'answers' must"),
        (json.dumps({"question": "q", "answers": [29], "source": "x.txt"}), "'answers' must"),
        (json.dumps({"question": "q", "answers": [""], "source": "x.txt"}), "empty strings"),
        (json.dumps({"question": "q", "source": "x.txt"}), "'answers' must"),
        (json.dumps({"question": "q", "answers": ["1"], "source": None}), "needs a 'source'"),
        (json.dumps({"question": "q", "answers": ["1"]}), "needs a 'source'"),
        (json.dumps({"question": "q", "answers": [], "tags": "x"}), "'tags' must"),
        (json.dumps({"id": 3, "question": "q", "answers": []}), "'id' must"),
    ],
)
def test_bad_line_is_reported_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, GOOD, line)
    with pytest.raises(QuestionSetError, match=message) as info:
        load_questions(path)
    assert str(info.value).startswith(f"{path}:2: ")


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD, {**GOOD, "question": "another"})
    with pytest.raises(QuestionSetError, match=r":2: duplicate id 'a' \(first used on line 1\)"):
        load_questions(path)


def test_missing_file_is_a_question_set_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")


def test_question_set_error_is_a_value_error() -> None:
    assert issubclass(QuestionSetError, ValueError)


def test_normalize_folds_width_and_drops_all_whitespace() -> None:
    assert normalize("１０．１％， 增 速\n\n 领跑") == "10.1%,增速领跑"


def test_answer_split_by_a_raw_line_break_still_matches() -> None:
    raw = "白银有色集团40万吨电\n\n解铜中已有60%以上实现就地转化"
    assert contains_answer(raw, ["40万吨电解铜"])
    assert not contains_answer(raw, ["50万吨电解铜"])


def test_full_width_punctuation_in_text_matches_half_width_answer() -> None:
    assert contains_answer("难在长效，贵在持续。", ["难在长效,贵在持续"])


def test_no_answers_never_match() -> None:
    assert not contains_answer("any text", [])


def test_english_heuristic_counts_letters_against_cjk() -> None:
    assert is_english("How many 5G factories does Jinchang have?")
    assert not is_english("金昌有多少家5G全连接工厂")
    assert not is_english("酒钢CSP生产线是哪一年建成投产的")
