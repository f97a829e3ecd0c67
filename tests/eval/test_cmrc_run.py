"""CMRC questions asked over a real CMRC index: every question over the whole collection, a
hit only for a passage of the question's own paragraph holding an answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.cli import app
from eval.cmrc import load_cmrc_questions, source_name
from eval.dataset import contains_answer
from eval.runner import EngineAnswerer, run_questions
from tests.conftest import CMRC_TEST_PARAGRAPHS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cmrc_engine(cmrc_index: tuple[Path, Path], embedder):  # type: ignore[no-untyped-def]
    from index.engine import Engine

    return Engine.load(cmrc_index[1], embedder=embedder)


def test_each_paragraph_is_one_document_of_its_own_file(cmrc_engine) -> None:  # type: ignore[no-untyped-def]
    sources = [d.source for d in cmrc_engine.data.documents]
    assert len(sources) == CMRC_TEST_PARAGRAPHS == len(set(sources))
    first = cmrc_engine.data.documents[sources.index(source_name("TRIAL_800"))]
    assert first.title == "泡泡战士"
    assert first.text.startswith("基于《跑跑卡丁车》与《泡泡堂》上所开发的游戏")


def test_hits_count_only_passages_of_the_questions_own_paragraph(cmrc_engine) -> None:  # type: ignore[no-untyped-def]
    indexed = {d.source for d in cmrc_engine.data.documents}
    questions = [q for q in load_cmrc_questions() if q.source in indexed][:30]
    answerer = EngineAnswerer(cmrc_engine)
    results = run_questions(answerer, questions, top_k=5)
    assert len(results) == 30
    for question, result in zip(questions, results, strict=True):
        reply = answerer.ask(question.question, 5)
        relevant = [
            rank
            for rank, p in enumerate(reply.passages, 1)
            if p.source == question.source and contains_answer(p.text, question.answers)
        ]
        assert result.first_hit_rank == (relevant[0] if relevant else None)
        assert result.answer_correct == (
            reply.answer_text is not None and contains_answer(reply.answer_text, question.answers)
        )


def test_an_unknown_set_name_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["run", "--set", "squad"])
    assert result.exit_code == 2
    assert "unknown question set 'squad'" in result.output
    assert "cmrc-en" in result.output and "Traceback" not in result.output
