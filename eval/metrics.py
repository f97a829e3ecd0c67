"""Retrieval and answer metrics over per-question results: pure functions, standard IR shapes.

Relevance is binary and judged per passage: a retrieved passage is relevant to a question when
it comes from the question's ``source`` file and contains an accepted answer
(:func:`eval.dataset.contains_answer`). Unanswerable questions have no relevant passage.

Conventions (following sentence-transformers' ``InformationRetrievalEvaluator`` where it has one):

- hit@k, MRR@10 and nDCG@10 are averaged over *answerable* questions only; ``None`` when a
  group has none. hit@k is 1 when the first relevant passage is at rank <= k.
- nDCG@10: DCG = sum over relevant ranks r <= 10 of 1/log2(r + 1). The ideal DCG puts the
  relevant passages *found in the top 10* at ranks 1..R (R capped at 10). The evaluator uses the
  number of relevant documents in its qrels instead; we cannot, because relevance is judged on
  retrieved passages and the number of relevant chunks in the whole index is unknown to a
  retriever-agnostic harness. So nDCG here measures ordering of what was found, and a question
  with no relevant passage in the top 10 scores 0.
- Answer accuracy: over answerable questions, the answer span contains an accepted answer.
- Abstention (answer is None): precision = abstentions on unanswerable questions / all
  abstentions; recall = unanswerable questions abstained on / all unanswerable questions. The
  answerable-null rate is the share of answerable questions abstained on.
- A question whose answerer failed (``error`` set, e.g. an HTTP 5xx) counts as a miss and a wrong
  answer, and never as an abstention: a broken service must not look cautious.
- A retriever that gives no answers at all (``answers=False``) has every answer metric ``None``.
- Mean passage length pools every retrieved passage of the group; latency percentiles use
  linear interpolation between closest ranks (numpy's default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eval.dataset import Question, contains_answer

HIT_KS: tuple[int, ...] = (1, 3, 5, 10)
CUTOFF = 10


@dataclass(frozen=True)
class RetrievedRef:
    """What a report needs of one retrieved passage: where it came from and its score."""

    source: str
    score: float | None
    """The retriever's score; None when the caller did not pass scores."""


@dataclass(frozen=True)
class QuestionResult:
    """The outcome of one question in one run; ``dataclasses.asdict`` gives its JSON form.

    ``answer_correct`` means: for an answerable question, the answer contains an accepted
    answer; for an unanswerable one, the system abstained (``answer_text`` is None).
    """

    question_id: str
    tags: tuple[str, ...]
    answerable: bool
    first_hit_rank: int | None
    relevant_ranks: tuple[int, ...]
    answer_text: str | None
    answer_correct: bool
    passage_chars: tuple[int, ...]
    latency_ms: float
    retrieved: tuple[RetrievedRef, ...] = ()
    error: str | None = None
    """Why the answerer gave nothing for this question (e.g. ``HTTP 503: …``); None if it did."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionResult:
        """Rebuild a result from its ``asdict`` / JSON form (lists back to tuples)."""
        return cls(
            question_id=str(data["question_id"]),
            tags=tuple(data["tags"]),
            answerable=bool(data["answerable"]),
            first_hit_rank=data["first_hit_rank"],
            relevant_ranks=tuple(data["relevant_ranks"]),
            answer_text=data["answer_text"],
            answer_correct=bool(data["answer_correct"]),
            passage_chars=tuple(data["passage_chars"]),
            latency_ms=float(data["latency_ms"]),
            retrieved=tuple(RetrievedRef(**r) for r in data.get("retrieved", ())),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class MetricSummary:
    """Aggregate metrics for a group of questions (all, or one tag). ``None`` = undefined."""

    n_questions: int
    n_answerable: int
    n_unanswerable: int
    hit_at_1: float | None
    hit_at_3: float | None
    hit_at_5: float | None
    hit_at_10: float | None
    mrr_at_10: float | None
    ndcg_at_10: float | None
    answer_accuracy: float | None
    abstention_precision: float | None
    abstention_recall: float | None
    mean_passage_chars: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    answerable_null_rate: float | None = None
    n_errors: int = 0


@dataclass(frozen=True)
class QuestionChange:
    """How one question moved between run ``a`` (before) and run ``b`` (after)."""

    question_id: str
    tags: tuple[str, ...]
    change: Literal["worse", "mixed", "better"]
    rank_before: int | None
    rank_after: int | None
    correct_before: bool
    correct_after: bool


def is_relevant(question: Question, source: str, text: str) -> bool:
    """Whether a passage is relevant: from the question's source and containing an answer."""
    return (
        question.answerable
        and source == question.source
        and contains_answer(text, question.answers)
    )


def relevant_ranks(question: Question, passages: Sequence[tuple[str, str]]) -> tuple[int, ...]:
    """1-based ranks of every relevant passage in the ranked ``(source, text)`` list."""
    return tuple(
        rank
        for rank, (source, text) in enumerate(passages, start=1)
        if is_relevant(question, source, text)
    )


def first_hit_rank(question: Question, passages: Sequence[tuple[str, str]]) -> int | None:
    """1-based rank of the first relevant passage, or None when no passage is relevant."""
    ranks = relevant_ranks(question, passages)
    return ranks[0] if ranks else None


def score_question(
    question: Question,
    passages: Sequence[tuple[str, str]],
    *,
    answer_text: str | None,
    latency_ms: float,
    scores: Sequence[float] | None = None,
    error: str | None = None,
) -> QuestionResult:
    """Judge one question's ranked passages and answer into a :class:`QuestionResult`."""
    if scores is not None and len(scores) != len(passages):
        raise ValueError(f"{len(scores)} scores for {len(passages)} passages")
    ranks = relevant_ranks(question, passages)
    if error is not None:
        correct = False
    elif question.answerable:
        correct = answer_text is not None and contains_answer(answer_text, question.answers)
    else:
        correct = answer_text is None
    score_list: list[float | None] = list(scores) if scores is not None else [None] * len(passages)
    return QuestionResult(
        question_id=question.id,
        tags=question.tags,
        answerable=question.answerable,
        first_hit_rank=ranks[0] if ranks else None,
        relevant_ranks=ranks,
        answer_text=answer_text,
        answer_correct=correct,
        passage_chars=tuple(len(text) for _, text in passages),
        latency_ms=latency_ms,
        retrieved=tuple(
            RetrievedRef(source, score)
            for (source, _), score in zip(passages, score_list, strict=True)
        ),
        error=error,
    )


def ndcg_at_k(ranks: Iterable[int], k: int = CUTOFF) -> float:
    """Binary nDCG@k from the relevant ranks; ideal = the found relevant ones at ranks 1..R."""
    found = sorted(r for r in ranks if 1 <= r <= k)
    if not found:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in found)
    idcg = sum(1.0 / math.log2(r + 1) for r in range(1, len(found) + 1))
    return dcg / idcg


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarize_group(results: Sequence[QuestionResult], answers: bool = True) -> MetricSummary:
    """All metrics for one group of results (see the module docstring for definitions).

    ``answers=False`` marks a retriever without answer extraction: answer metrics are None.
    """
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    abstained = [r for r in results if _abstained(r)]
    hits = {k: _mean([_hit(r, k) for r in answerable]) for k in HIT_KS}
    chars = [c for r in results for c in r.passage_chars]
    latencies = [r.latency_ms for r in results]
    return MetricSummary(
        n_questions=len(results),
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        hit_at_1=hits[1],
        hit_at_3=hits[3],
        hit_at_5=hits[5],
        hit_at_10=hits[10],
        mrr_at_10=_mean([_reciprocal_rank(r.first_hit_rank) for r in answerable]),
        ndcg_at_10=_mean([ndcg_at_k(r.relevant_ranks) for r in answerable]),
        answer_accuracy=_mean([float(r.answer_correct) for r in answerable]) if answers else None,
        abstention_precision=(
            _ratio(sum(not r.answerable for r in abstained), len(abstained)) if answers else None
        ),
        abstention_recall=(
            _ratio(sum(_abstained(r) for r in unanswerable), len(unanswerable)) if answers else None
        ),
        mean_passage_chars=_mean([float(c) for c in chars]),
        latency_p50_ms=percentile(latencies, 50) if latencies else None,
        latency_p95_ms=percentile(latencies, 95) if latencies else None,
        answerable_null_rate=(
            _ratio(sum(_abstained(r) for r in answerable), len(answerable)) if answers else None
        ),
        n_errors=sum(r.error is not None for r in results),
    )


def summarize(
    results: Sequence[QuestionResult], by_tag: bool = True, answers: bool = True
) -> dict[str, MetricSummary]:
    """Metrics for ``"all"`` and, when ``by_tag``, one entry per tag (sorted by tag name)."""
    summaries = {"all": summarize_group(results, answers)}
    if by_tag:
        for tag in sorted({t for r in results for t in r.tags}):
            summaries[tag] = summarize_group([r for r in results if tag in r.tags], answers)
    return summaries


def diff_results(a: Sequence[QuestionResult], b: Sequence[QuestionResult]) -> list[QuestionChange]:
    """Questions whose first-hit rank or answer correctness changed from run ``a`` to run ``b``.

    Ranks compare by reciprocal rank within the top 10 (a miss counts as 0). A question that
    moved one way on one measure and the other way on the other is ``mixed``. Sorted worse
    first, then mixed, then better; within a group the largest change first, then by id.
    Questions present in only one run are not compared.
    """
    before = {r.question_id: r for r in a}
    changes: list[tuple[tuple[int, float, str], QuestionChange]] = []
    for after in b:
        old = before.get(after.question_id)
        if old is None:
            continue
        d_rank = _reciprocal_rank(after.first_hit_rank) - _reciprocal_rank(old.first_hit_rank)
        d_correct = int(after.answer_correct) - int(old.answer_correct)
        if d_rank == 0 and d_correct == 0:
            continue
        if d_rank <= 0 and d_correct <= 0:
            change: Literal["worse", "mixed", "better"] = "worse"
        elif d_rank >= 0 and d_correct >= 0:
            change = "better"
        else:
            change = "mixed"
        order = {"worse": 0, "mixed": 1, "better": 2}[change]
        magnitude = abs(d_rank) + abs(d_correct)
        item = QuestionChange(
            question_id=after.question_id,
            tags=after.tags,
            change=change,
            rank_before=old.first_hit_rank,
            rank_after=after.first_hit_rank,
            correct_before=old.answer_correct,
            correct_after=after.answer_correct,
        )
        changes.append(((order, -magnitude, after.question_id), item))
    return [item for _, item in sorted(changes, key=lambda pair: pair[0])]


def _abstained(result: QuestionResult) -> bool:
    return result.answer_text is None and result.error is None


def _hit(result: QuestionResult, k: int) -> float:
    return float(result.first_hit_rank is not None and result.first_hit_rank <= k)


def _reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank is not None and rank <= CUTOFF else 0.0


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
