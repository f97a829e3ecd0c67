"""The project's question set (`eval/questions.jsonl`) is well formed and true to the corpus."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from eval.dataset import Question, load_questions, normalize

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "corpus" / "articles"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
DEV_QUESTIONS = ROOT / "eval" / "dev_questions.jsonl"

KNOWN_TAGS = {
    "direct",
    "paraphrase",
    "english",
    "broken_line",
    "news_item",
    "distractor",
    "numeric",
    "entity",
    "unanswerable",
}


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    return load_questions(QUESTIONS)


@pytest.fixture(scope="module")
def raw_files() -> dict[str, str]:
    return {p.name: normalize(p.read_text(encoding="utf-8")) for p in ARTICLES.glob("*.txt")}


def _answerable(questions: list[Question]) -> list[Question]:
    return [q for q in questions if q.answerable]


def test_question_set_has_enough_questions_of_each_required_kind(
    questions: list[Question],
) -> None:
    tags = Counter(t for q in questions for t in q.tags)
    assert len(questions) >= 120
    assert tags["english"] >= 25
    assert tags["unanswerable"] >= 15
    for tag in KNOWN_TAGS:
        assert tags[tag] > 0, f"no question tagged {tag!r}"


def test_every_tag_is_from_the_documented_vocabulary(questions: list[Question]) -> None:
    unknown = {(q.id, t) for q in questions for t in q.tags if t not in KNOWN_TAGS}
    assert not unknown


def test_ids_are_unique(questions: list[Question]) -> None:
    ids = Counter(q.id for q in questions)
    assert [i for i, n in ids.items() if n > 1] == []


def test_unanswerable_questions_have_null_source_and_the_tag(questions: list[Question]) -> None:
    for q in questions:
        assert (q.source is None) == (not q.answerable), q.id
        assert ("unanswerable" in q.tags) == (not q.answerable), q.id


def test_english_tag_marks_exactly_the_english_questions(questions: list[Question]) -> None:
    mismatched = [q.id for q in questions if ("english" in q.tags) != q.is_english]
    assert mismatched == []


def test_every_source_is_a_seed_file(questions: list[Question], raw_files: dict[str, str]) -> None:
    missing = {q.source for q in _answerable(questions)} - set(raw_files)
    assert missing == set()


def test_every_answer_occurs_in_its_raw_source_file(
    questions: list[Question], raw_files: dict[str, str]
) -> None:
    missing = [
        (q.id, answer)
        for q in _answerable(questions)
        for answer in q.answers
        if normalize(answer) not in raw_files[str(q.source)]
    ]
    assert missing == []


def test_every_answer_occurs_in_one_cleaned_document_of_its_source() -> None:
    from corpus import loader

    questions = load_questions(QUESTIONS)
    cleaned: dict[str, list[str]] = {}
    for path in sorted(ARTICLES.glob("*.txt")):
        documents, _problems = loader.load_file(path)
        cleaned[path.name] = [normalize(d.text) for d in documents]
    # A passage never spans two documents, so each answer must sit inside a single one.
    missing = [
        (q.id, answer)
        for q in _answerable(questions)
        for answer in q.answers
        if not any(normalize(answer) in text for text in cleaned[str(q.source)])
    ]
    assert missing == []


def test_no_question_repeats_a_dev_question(questions: list[Question]) -> None:
    dev = {normalize(q.question).lower() for q in load_questions(DEV_QUESTIONS)}
    repeated = [q.id for q in questions if normalize(q.question).lower() in dev]
    assert repeated == []


def test_no_question_text_appears_twice(questions: list[Question]) -> None:
    texts = Counter(normalize(q.question).lower() for q in questions)
    assert [t for t, n in texts.items() if n > 1] == []


def test_distractor_answers_for_jiayuguan_and_baiyin_share_a_figure(
    questions: list[Question], raw_files: dict[str, str]
) -> None:
    # The point of the distractor tag: the same "17.9%" answers questions about two cities.
    by_answer = {q.source for q in questions if "17.9%" in q.answers and "distractor" in q.tags}
    assert by_answer == {"003_9e92c380d67ef266.txt"}
    assert "17.9%" in raw_files["004_0ab705ec73a87017.txt"]
