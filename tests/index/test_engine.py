"""The engine on the seed corpus: exact offsets, honest abstention, English questions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.dataset import contains_answer, load_questions
from index.errors import DocumentNotFoundError

EVAL = Path(__file__).resolve().parents[2] / "eval"
ALL_QUESTIONS = load_questions(EVAL / "dev_questions.jsonl") + load_questions(
    EVAL / "questions.jsonl"
)


def test_every_passage_and_answer_is_a_verbatim_slice_of_its_document(engine: Any) -> None:
    checked = 0
    for q in ALL_QUESTIONS:
        result = engine.ask(q.question, top_k=10)
        for p in result.passages:
            doc = engine.contents.document(p.doc_id)
            assert doc.text[p.char_start : p.char_end] == p.text
            assert (doc.title, doc.source, doc.published) == (p.title, p.source, p.published)
            if p.highlight is not None:
                assert p.char_start <= p.highlight.char_start < p.highlight.char_end <= p.char_end
            checked += 1
        if result.answer is not None:
            a = result.answer
            assert engine.contents.document(a.doc_id).text[a.char_start : a.char_end] == a.text
            assert len(a.text) <= 200
            ranked = result.passages[a.passage_rank - 1]
            assert ranked.highlight is not None
            assert (ranked.highlight.char_start, ranked.highlight.char_end) == (
                a.char_start,
                a.char_end,
            )
    assert checked >= 10 * len(ALL_QUESTIONS) * 0.9


def test_baiyin_furnace_question_is_answered_with_the_energy_sentence(engine: Any) -> None:
    result = engine.ask("白银炉能耗降低了多少")
    assert result.answer is not None
    assert "210公斤标煤" in result.answer.text
    assert result.answer.source == "000_0ad1dae646fc90f2.txt"


def test_english_question_is_answered_from_chinese_text(engine: Any) -> None:
    result = engine.ask("How many investment-attraction task forces did Lanzhou New Area set up?")
    assert result.answer is not None and contains_answer(result.answer.text, ["6个"])


@pytest.mark.parametrize(
    "question",
    [
        "甘肃省2025年粮食产量是多少",
        "兰州牛肉面一碗卖多少钱",
        "What is the population of Jiayuguan?",
    ],
)
def test_the_corpus_does_not_say(engine: Any, question: str) -> None:
    result = engine.ask(question)
    assert result.answer is None
    assert result.passages  # passages are returned either way


def test_liangzhou_question_is_never_cited_to_the_jinchang_article(engine: Any) -> None:
    result = engine.ask("凉州区先后开展了多少场环境整治主题活动")
    assert result.answer is not None
    # the Liangzhou article, titled by its first heading (its headline is on page 1)
    assert (result.answer.doc_id, result.answer.title) == (
        "001_8546bbd5f1ad3438.txt:2",
        "全域统筹 推进全面整治",
    )
    assert all("千亿级产业" not in p.title for p in result.passages[:1])


def test_unknown_document_id_is_a_clear_error(engine: Any) -> None:
    with pytest.raises(DocumentNotFoundError, match="no document"):
        engine.contents.document("nope.txt:9")


def test_documents_list_counts_passages(engine: Any) -> None:
    docs = engine.contents.documents()
    assert sum(d.n_passages for d in docs) == engine.n_passages
    assert all(d.n_chars == len(engine.contents.document(d.doc_id).text) for d in docs)
