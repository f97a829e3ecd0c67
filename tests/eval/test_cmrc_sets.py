"""The CMRC 2018 trial set and the hand-written sets built on it are well formed and true to
the paragraphs: every id unique, every context_id a real paragraph, every answer in its
paragraph (as the corpus loader cleans it), English questions in English, licence beside them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from corpus.loader import load_corpus
from eval.cmrc import (
    CMRC_EN_FILE,
    CMRC_FILE,
    CMRC_UNANSWERABLE_FILE,
    Paragraph,
    context_of,
    load_cmrc_questions,
    load_paragraphs,
    source_name,
    write_corpus,
)
from eval.dataset import contains_answer, is_english, load_questions, normalize
from index.text.tokenize import has_cjk


@pytest.fixture(scope="module")
def paragraphs() -> dict[str, Paragraph]:
    return {p.context_id: p for p in load_paragraphs()}


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The paragraphs as the corpus loader reads them from `write_corpus`'s files."""
    directory = write_corpus(load_paragraphs(), tmp_path_factory.mktemp("cmrc") / "corpus")
    corpus = load_corpus(directory)
    assert corpus.problems == []
    return {d.source: f"{d.title}\n{d.text}" for d in corpus.documents}


def _raw_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_trial_set_has_256_paragraphs_and_1002_questions(
    paragraphs: dict[str, Paragraph],
) -> None:
    questions = load_cmrc_questions()
    assert len(paragraphs) == 256
    assert len(questions) == 1002
    assert len({q.id for q in questions}) == 1002
    assert {context_of(q.source) for q in questions} == set(paragraphs)
    assert all(q.tags == ("cmrc",) and q.answerable for q in questions)


def test_repeated_annotator_answers_are_kept_once_in_order() -> None:
    first = load_cmrc_questions()[0]
    assert first.id == "TRIAL_800_QUERY_0"
    assert first.question == "生命数耗完即算为什么？"
    assert first.answers == ("踢爆",)
    assert first.source == "TRIAL_800.txt"


def test_source_names_round_trip() -> None:
    assert source_name("TRIAL_800") == "TRIAL_800.txt"
    assert context_of("TRIAL_800.txt") == "TRIAL_800"
    assert context_of(None) is None


def test_every_paragraph_is_one_document_holding_all_its_answers(
    documents: dict[str, str],
) -> None:
    assert len(documents) == 256
    missing = [
        q.id for q in load_cmrc_questions() if not contains_answer(documents[q.source], q.answers)
    ]
    assert missing == []


def test_write_corpus_leaves_unchanged_files_alone_and_removes_others(tmp_path: Path) -> None:
    two = load_paragraphs()[:2]
    write_corpus(two, tmp_path)
    (tmp_path / "stale.txt").write_text("x", encoding="utf-8")
    before = (tmp_path / two[0].source).stat().st_mtime_ns
    write_corpus(two[:1], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [two[0].source]
    assert (tmp_path / two[0].source).stat().st_mtime_ns == before
    assert (tmp_path / two[0].source).read_text(encoding="utf-8") == (
        f"{two[0].title}\n\n{two[0].text}\n"
    )


@pytest.mark.parametrize("path", [CMRC_EN_FILE, CMRC_UNANSWERABLE_FILE])
def test_hand_written_sets_load_with_unique_ids_and_real_paragraphs(
    path: Path, paragraphs: dict[str, Paragraph]
) -> None:
    questions = load_questions(path)  # raises on a duplicate id or a malformed line
    raw = _raw_lines(path)
    assert len(raw) == len(questions)
    assert len({q.id for q in questions}) == len(questions)
    assert all(r["context_id"] in paragraphs for r in raw)
    assert all("cmrc" in q.tags for q in questions)


def test_english_set_keeps_the_cmrc_answers_of_the_question_it_translates(
    paragraphs: dict[str, Paragraph], documents: dict[str, str]
) -> None:
    original = {q.id: q for q in load_cmrc_questions()}
    english = load_questions(CMRC_EN_FILE)
    raw = {str(r["id"]): r for r in _raw_lines(CMRC_EN_FILE)}
    assert len(english) >= 150
    assert len({raw[q.id]["query_id"] for q in english}) == len(english)
    assert len({q.source for q in english}) >= 100  # spread over many paragraphs
    for q in english:
        source = original[str(raw[q.id]["query_id"])]
        assert q.answers == source.answers, q.id
        assert q.source == source.source == source_name(str(raw[q.id]["context_id"]))
        assert contains_answer(documents[q.source], q.answers), q.id
        assert is_english(q.question) and "english" in q.tags, q.id
        assert normalize(q.question) != normalize(source.question)


def test_unanswerable_set_is_about_cmrc_topics_and_has_no_answers() -> None:
    questions = load_questions(CMRC_UNANSWERABLE_FILE)
    assert len(questions) >= 40
    assert all(not q.answerable and q.source is None for q in questions)
    assert all("unanswerable" in q.tags for q in questions)
    languages = Counter("english" in q.tags for q in questions)
    assert languages[True] >= 10 and languages[False] >= 20
    # "MIT OpenCourseWare每年…" has more Latin letters than Chinese but is a Chinese question
    assert all(("english" in q.tags) != has_cjk(q.question) for q in questions)


def test_licence_and_attribution_travel_with_the_data() -> None:
    readme = (CMRC_FILE.parent / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme
    assert "Cui" in readme and "github.com/ymcui/cmrc2018" in readme
    assert CMRC_EN_FILE.name in readme and CMRC_UNANSWERABLE_FILE.name in readme
