"""Stage 3, sentence evidence (hybrid+rerank): the top passages re-scored by their best
sentence and by the question's words and numbers in them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index.rank.matching import QueryTerms, coverage
from index.rank.params import RankingParams
from index.rank.types import Query, Ranking, Rescored
from index.search.view import IndexView

RescoringStage = Callable[[IndexView, Query, RankingParams, Ranking], Rescored]


def rescore(
    index: IndexView,
    query: Query,
    params: RankingParams,
    ranking: Ranking,
    stages: tuple[RescoringStage, ...],
) -> Rescored | None:
    """Stage 3: the fused ranking re-scored by each of the retriever's re-scoring stages
    (None: it has none, and the fused ranking stands)."""
    rescored = None
    for stage in stages:
        rescored = stage(index, query, params, ranking if rescored is None else rescored.ranking)
    return rescored


def sentence_evidence(
    index: IndexView, query: Query, params: RankingParams, ranking: Ranking
) -> Rescored:
    """The top `rerank_depth` passages re-scored: their fused score (relative to the best)
    plus their best sentence's similarity and the question's keywords and numbers in them.
    The four inputs of each passage are kept (`Rescored.features`: what `ragqa eval tune`
    fits the weights on)."""
    ranked = ranking.passages[: params.rerank_depth]
    if not ranked:
        return Rescored(Ranking(()), np.empty((0, 4), dtype=np.float64), Ranking(()))
    query.sentences.prefetch([chunk for chunk, _ in ranked])
    top = max(s for _, s in ranked)
    rescored = []
    features = []
    for chunk, fused in ranked:
        doc, start, end = index.passage(chunk)
        rows, sims = query.sentences.of_passage(chunk)
        best = float(sims.max()) if rows.size else 0.0
        text = f"{doc.title}\n{doc.text[start:end]}"
        relative = fused / top if top > 0 else 0.0
        base = params.rerank_fused * relative
        score, keywords, numbers = _evidence(best, text, query.terms, params)
        rescored.append((chunk, base + score))
        features.append([relative, best, keywords, numbers])
    return Rescored(
        Ranking(tuple(ranked)),
        np.asarray(features, dtype=np.float64).reshape(-1, 4),
        Ranking(tuple(sorted(rescored, key=lambda kv: -kv[1]))),
    )


def evidence_score(
    sentence_similarity: float, text: str, terms: QueryTerms, params: RankingParams
) -> float:
    """Sentence-level evidence for a text: best sentence similarity plus literal matches."""
    return _evidence(sentence_similarity, text, terms, params)[0]


def _evidence(
    sentence_similarity: float, text: str, terms: QueryTerms, params: RankingParams
) -> tuple[float, float, float]:
    """(evidence score, keywords feature, numbers feature) of a text."""
    keywords = coverage(terms.tokens, text, terms.weights)
    score = params.rerank_sentence * sentence_similarity
    score += params.rerank_keywords * terms.lexical_share * keywords
    numbers = 0.0
    if terms.numbers:
        numbers = coverage(terms.numbers, text)
        score += params.rerank_numbers * numbers
    return score, terms.lexical_share * keywords, numbers
