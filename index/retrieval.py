"""Hybrid retrieval: dense and BM25 candidates, fused, then re-scored with sentence evidence.

All functions here are pure over arrays so they test without a model. The engine feeds them
the question vector (the one encoder pass of a request) and precomputed index arrays.

Fusion must not punish a passage that only dense retrieval found: an English question has no
BM25 match at all, so the lexical share of the fused score is scaled by how much of the
question BM25 could actually read (the fraction of its tokens in the vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.tokenize import normalize, numbers, tokenize

RETRIEVERS = ("bm25", "dense", "hybrid", "hybrid+rerank")
FUSIONS = ("weighted", "rrf")


@dataclass(frozen=True)
class RetrievalConfig:
    """Which stages run and how they are weighted."""

    retriever: str = "hybrid+rerank"
    fusion: str = "weighted"
    depth: int = 50
    """Candidates taken from each of dense and BM25."""
    dense_weight: float = 0.5
    passage_vs_sentence: float = 0.5
    """Dense score = this × passage similarity + the rest × best-sentence similarity."""
    bridge_share: float = 0.3
    """Lexical trust for an English question whose names the pinyin bridge found."""
    rrf_k: int = 60
    rerank_depth: int = 30
    w_fused: float = 0.4
    w_sentence: float = 1.0
    w_lexical: float = 0.4
    w_numbers: float = 0.2
    answer_passages: int = 3
    """Answers are sought in this many top passages."""
    w_answer_type: float = 0.05
    w_passage: float = 0.1
    abstain_below: float = 0.0
    """Answer evidence under this is "the corpus does not say" (calibrated, see README)."""

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {', '.join(RETRIEVERS)}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")


@dataclass(frozen=True)
class QueryTerms:
    """What of the question can be matched literally."""

    tokens: frozenset[str]
    numbers: frozenset[str]
    lexical_share: float
    """How much BM25 can read this question, 0..1 (0 for an English question on Chinese text)."""


def query_terms(lexical_query: str, lexical_share: float, question: str) -> QueryTerms:
    """Keywords of the lexical query and numbers of the question, with the lexical trust."""
    return QueryTerms(
        tokens=frozenset(t for t in tokenize(lexical_query) if len(t) > 1 or not t.isascii()),
        numbers=frozenset(numbers(question)),
        lexical_share=lexical_share,
    )


def _minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def fuse_weighted(
    dense_ids: np.ndarray,
    dense_scores: np.ndarray,
    bm25_scores: np.ndarray,
    config: RetrievalConfig,
    lexical_share: float,
) -> dict[int, float]:
    """Convex combination of min-max-normalised dense and max-normalised BM25 scores."""
    bm25_top = np.argsort(-bm25_scores)[: config.depth]
    bm25_top = bm25_top[bm25_scores[bm25_top] > 0]
    ids = np.unique(np.concatenate([dense_ids, bm25_top]).astype(np.int64))
    if ids.size == 0:
        return {}
    dense_map = dict(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
    floor = float(dense_scores.min()) if dense_scores.size else 0.0
    dense_all = np.array([dense_map.get(i, floor) for i in ids.tolist()], dtype=np.float32)
    top_bm25 = float(bm25_scores.max()) if bm25_scores.size else 0.0
    lexical = bm25_scores[ids] / top_bm25 if top_bm25 > 0 else np.zeros(ids.size)
    w_lex = (1.0 - config.dense_weight) * lexical_share
    fused = (1.0 - w_lex) * _minmax(dense_all) + w_lex * lexical
    return dict(zip(ids.tolist(), fused.tolist(), strict=True))


def fuse_rrf(
    dense_ids: np.ndarray, bm25_scores: np.ndarray, config: RetrievalConfig
) -> dict[int, float]:
    """Reciprocal rank fusion; BM25 ranks count only for passages with a non-zero score."""
    fused: dict[int, float] = {}
    for rank, idx in enumerate(dense_ids.tolist()):
        fused[idx] = fused.get(idx, 0.0) + 1.0 / (config.rrf_k + rank + 1)
    bm25_top = np.argsort(-bm25_scores)[: config.depth]
    for rank, idx in enumerate(bm25_top.tolist()):
        if bm25_scores[idx] > 0:
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (config.rrf_k + rank + 1)
    return fused


def coverage(terms: frozenset[str], text: str) -> float:
    """Share of `terms` found in `text` (after NFKC and lower-casing), 0 when no terms."""
    if not terms:
        return 0.0
    haystack = normalize(text)
    return sum(1 for t in terms if t in haystack) / len(terms)


def evidence_score(
    sentence_similarity: float, text: str, terms: QueryTerms, config: RetrievalConfig
) -> float:
    """Sentence-level evidence for a text: best sentence similarity plus literal matches."""
    score = config.w_sentence * sentence_similarity
    score += config.w_lexical * terms.lexical_share * coverage(terms.tokens, text)
    if terms.numbers:
        score += config.w_numbers * coverage(terms.numbers, text)
    return score
