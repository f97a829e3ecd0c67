"""The regression gate: hybrid+rerank on the seed index must stay at eval/thresholds.json,
every question answered with the parameters fitted without its article (held-out figures).

Both question sets run in-process through the session engine. When a metric drops, the failure
lists the questions that got worse than in the run the thresholds were measured from. The
gate is shown to have teeth: without BM25, or with a naive fixed-size chunker, it fails.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from eval.dataset import Question, load_questions
from eval.gate import GateResult, SetThresholds, check_gate, held_out_answerer, load_thresholds
from eval.runner import run_questions
from eval.variants import MAIN

pytestmark = pytest.mark.slow

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"
SETS = ("dev_questions.jsonl", "questions.jsonl")
NAIVE_CACHE = Path(__file__).resolve().parents[2] / "var" / "eval-cache" / "gate-naive-60"


@pytest.fixture(scope="module")
def question_sets() -> dict[str, list[Question]]:
    return {name: load_questions(EVAL_DIR / name) for name in SETS}


@pytest.fixture(scope="module")
def thresholds() -> dict[str, SetThresholds]:
    return load_thresholds()


def gate(
    engine: Any,
    retriever: str,
    question_sets: dict[str, list[Question]],
    thresholds: dict[str, SetThresholds],
) -> list[GateResult]:
    """Every set through `engine` with `retriever`, each question answered with the
    parameters fitted without its article (held out), checked."""
    main = engine.with_config(replace(engine.config, retriever=retriever))
    return [
        check_gate(name, run_questions(held_out_answerer(main, qs), qs), qs, thresholds[name])
        for name, qs in question_sets.items()
    ]


def test_thresholds_cover_both_question_sets(thresholds: dict[str, SetThresholds]) -> None:
    assert set(thresholds) == set(SETS)
    for t in thresholds.values():
        assert set(t.floors) == {
            "hit_at_5",
            "hit_at_5_english",
            "mrr_at_10",
            "answer_accuracy",
            "abstention_recall",
        }
        assert set(t.ceilings) == {"answerable_null_rate"}


def test_hybrid_rerank_meets_the_thresholds_on_both_sets(
    engine: Any, question_sets: dict[str, list[Question]], thresholds: dict[str, SetThresholds]
) -> None:
    results = gate(engine, MAIN, question_sets, thresholds)
    failed = [r for r in results if not r.passed]
    assert not failed, "\n\n".join(r.render() for r in failed)


def test_gate_fails_when_bm25_is_switched_off(
    engine: Any, question_sets: dict[str, list[Question]], thresholds: dict[str, SetThresholds]
) -> None:
    results = gate(engine, "dense", question_sets, thresholds)
    assert any(not r.passed for r in results), "\n\n".join(r.render() for r in results)
    assert all(r.worse for r in results if not r.passed)


def test_gate_fails_with_a_naive_fixed_size_chunker(
    embedder: Any, question_sets: dict[str, list[Question]], thresholds: dict[str, SetThresholds]
) -> None:
    from corpus import DEFAULT_CORPUS_DIR
    from index.engine import Engine
    from index.store.build import build_index
    from index.text.chunking import ChunkingParams

    # Fixed 60-character cuts, blind to sentences; cached, as build_index is incremental.
    naive = ChunkingParams(size=60, overlap=0, separators=("",))
    build_index(
        DEFAULT_CORPUS_DIR,
        NAIVE_CACHE,
        embedder.name,
        chunking=naive,
        progress=False,
        embedder=embedder,
    )
    engine = Engine.load(NAIVE_CACHE, embedder.name, embedder=embedder, defaults=True)
    results = gate(engine, MAIN, question_sets, thresholds)
    assert any(not r.passed for r in results), "\n\n".join(r.render() for r in results)
