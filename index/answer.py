"""Extractive answers: the best-supported sentence of the top passages, or None.

A sentence's score is its similarity to the question plus literal evidence (the question's
keywords and numbers in it), plus a small bonus when a "how much / how many" question meets
a sentence that states a number. The answer is None when even the best sentence scores below
a threshold calibrated on unanswerable questions: "the corpus does not say".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.retrieval import QueryTerms, RetrievalConfig, evidence_score

_QUANTITY_QUESTION = re.compile(
    r"多少|几[个家项次倍年名位成]?|多大|多高|多快|比例|比重|占比|增速|增幅|排名|第几|百分之"
    r"|how (many|much|fast|large|big|high)|what (share|percentage|proportion|rate|portion)"
    r"|by what|growth|\brank",
    re.IGNORECASE,
)
_HAS_NUMBER = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千万亿两]+[个家项次倍%％成位名]")


@dataclass(frozen=True)
class SentenceCandidate:
    """A sentence (clipped to its passage) that could answer the question."""

    passage_index: int
    char_start: int
    char_end: int
    text: str
    similarity: float
    passage_score: float


def is_quantity_question(question: str) -> bool:
    """Does the question ask for a number (how much, how many, what share, which rank)?"""
    return bool(_QUANTITY_QUESTION.search(question))


def score_sentence(
    candidate: SentenceCandidate,
    terms: QueryTerms,
    wants_number: bool,
    config: RetrievalConfig,
) -> float:
    """Evidence that this sentence answers the question."""
    score = evidence_score(candidate.similarity, candidate.text, terms, config)
    if wants_number and _HAS_NUMBER.search(candidate.text):
        score += config.w_answer_type
    return score + config.w_passage * candidate.passage_score


def best_sentence(
    candidates: list[SentenceCandidate],
    question: str,
    terms: QueryTerms,
    config: RetrievalConfig,
) -> tuple[SentenceCandidate, float] | None:
    """The highest-scoring candidate and its score, or None when there are none."""
    if not candidates:
        return None
    wants_number = is_quantity_question(question)
    scored = [(score_sentence(c, terms, wants_number, config), c) for c in candidates]
    score, best = max(scored, key=lambda pair: pair[0])
    return best, score
