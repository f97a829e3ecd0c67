"""The runner on real components: the session engine in-process, the real server over HTTP,
and the tutorial baseline over the raw seed files."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from corpus import DEFAULT_CORPUS_DIR
from eval.baseline import CHUNK_SIZE, TutorialBaseline, split_raw_files
from eval.dataset import Question, load_questions
from eval.metrics import RetrievedRef, summarize
from eval.runner import (
    TOP_K,
    EngineAnswerer,
    HttpAnswerer,
    ServiceUnreachableError,
    run_questions,
)
from index.rank.pipeline import RetrievalConfig

DEV = Path(__file__).resolve().parents[2] / "eval" / "dev_questions.jsonl"


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    """Two Chinese questions, an English one and an unanswerable one from the dev set."""
    by_id = {q.id: q for q in load_questions(DEV)}
    english = next(q for q in by_id.values() if "english" in q.tags and q.answerable)
    unanswerable = next(q for q in by_id.values() if not q.answerable)
    return [by_id["d001"], by_id["d002"], english, unanswerable]


def test_engine_results_record_what_the_engine_returned(
    engine: Any, questions: list[Question]
) -> None:
    results = run_questions(EngineAnswerer(engine), questions)
    assert [r.question_id for r in results] == [q.id for q in questions]
    for question, result in zip(questions, results, strict=True):
        asked = engine.ask(question.question, TOP_K)
        assert result.retrieved == tuple(RetrievedRef(p.source, p.score) for p in asked.passages)
        assert result.passage_chars == tuple(len(p.text) for p in asked.passages)
        assert len(result.retrieved) == TOP_K
        assert result.answer_text == (asked.answer.text if asked.answer else None)
        assert result.tags == question.tags and result.answerable == question.answerable
        assert result.first_hit_rank == (result.relevant_ranks or (None,))[0]
        assert result.latency_ms > 0 and result.error is None
    assert results[0].first_hit_rank == 1 and results[0].answer_correct  # d001: 超60%
    assert results[-1].first_hit_rank is None and results[-1].relevant_ranks == ()


def test_retriever_setting_changes_the_ranking_source(
    engine: Any, questions: list[Question]
) -> None:
    bm25 = run_questions(EngineAnswerer(engine, RetrievalConfig(retriever="bm25")), questions)
    direct = engine.with_config(RetrievalConfig(retriever="bm25")).ask(questions[0].question, 10)
    assert bm25[0].retrieved == tuple(RetrievedRef(p.source, p.score) for p in direct.passages)


def test_http_answerer_sees_what_the_engine_sees(
    live_server: str, engine: Any, questions: list[Question]
) -> None:
    answerer = HttpAnswerer(live_server)
    answerer.check_ready()
    over_http = run_questions(answerer, questions)
    in_process = run_questions(EngineAnswerer(engine), questions)
    answerer.close()
    for remote, local in zip(over_http, in_process, strict=True):
        assert replace(remote, latency_ms=0) == replace(local, latency_ms=0)


def test_a_rejected_question_is_that_questions_error_not_a_crash(
    live_server: str, questions: list[Question]
) -> None:
    too_long = replace(questions[0], id="long", question="问" * 1001)
    unanswerable = replace(questions[-1], id="long-u", question="问" * 1001)
    results = run_questions(HttpAnswerer(live_server), [too_long, questions[0], unanswerable])
    assert results[0].error is not None and results[0].error.startswith("HTTP 422: ")
    assert "1000 characters" in results[0].error
    assert results[0].retrieved == () and not results[0].answer_correct
    assert results[1].error is None and results[1].answer_correct
    # A failed unanswerable question is not credited as a correct abstention.
    assert not results[2].answer_correct
    summary = summarize(results)["all"]
    assert summary.n_errors == 2
    assert summary.abstention_recall == 0.0 and summary.abstention_precision is None


def test_an_unreachable_service_stops_the_run() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        answerer = HttpAnswerer(url)
        with pytest.raises(ServiceUnreachableError, match="cannot reach"):
            answerer.check_ready()
        with pytest.raises(ServiceUnreachableError, match="/v1/ask"):
            answerer.ask("甘肃有多少家企业", TOP_K)


def test_baseline_cuts_the_raw_files_the_tutorial_way() -> None:
    chunks = split_raw_files(DEFAULT_CORPUS_DIR)
    files = sorted(DEFAULT_CORPUS_DIR.glob("*.txt"))
    assert {c.source for c in chunks} == {f.name for f in files}
    assert all(0 < len(c.text) <= CHUNK_SIZE for c in chunks)
    raw = {f.name: f.read_text(encoding="utf-8") for f in files}
    assert all(c.text in raw[c.source] for c in chunks)  # raw text, uncleaned
    assert any("本报记者" in c.text for c in chunks if c.source == files[0].name)  # a credit line
    assert len(chunks) == 69  # the seed corpus is 75 k characters


@pytest.mark.slow
def test_baseline_retrieves_raw_pieces_and_never_answers(
    embedder: Any, questions: list[Question], tmp_path: Path
) -> None:
    baseline = TutorialBaseline.build(DEFAULT_CORPUS_DIR, embedder, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("baseline-*.npy"))) == 1
    results = run_questions(baseline, questions)
    assert all(r.answer_text is None and len(r.retrieved) == TOP_K for r in results)
    assert results[0].first_hit_rank is not None
    cached = TutorialBaseline.build(DEFAULT_CORPUS_DIR, embedder, cache_dir=tmp_path)
    assert cached.ask(questions[0].question, 3) == baseline.ask(questions[0].question, 3)
    summary = summarize(results, answers=baseline.gives_answers)["all"]
    assert summary.answer_accuracy is None and summary.abstention_recall is None
    assert summary.hit_at_10 is not None
