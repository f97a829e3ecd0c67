"""Stage 1, candidates: each source proposes passages, only from the allowed documents: dense
(FAISS, re-ordered by each passage's best sentence) and lexical (BM25)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from index.rank.params import RankingParams
from index.rank.types import Candidates, Query, Scored
from index.search.view import IndexView

CandidateStage = Callable[[IndexView, Query, RankingParams, Candidates], Candidates]


def propose(
    index: IndexView,
    query: Query,
    params: RankingParams,
    sources: tuple[CandidateStage, ...],
) -> Candidates:
    """Stage 1: what every source of the retriever proposes."""
    found = Candidates()
    for source in sources:
        found = source(index, query, params, found)
    return found


def dense_candidates(
    index: IndexView, query: Query, params: RankingParams, found: Candidates
) -> Candidates:
    """Dense ranking at two granularities: a passage scores by its own vector and by its
    best sentence, so one sharp sentence inside a long passage is not averaged away.

    The `dense_pool` nearest passages (FAISS) are re-ordered by the mixed score and the best
    `depth` kept. Only their sentences are scored, so the cost does not grow with the corpus.
    """
    chunks, _ = index.dense_search(query.vector, params.dense_pool, query.allowed)
    if not chunks.size:
        return replace(found, dense=Scored(chunks, np.empty(0, dtype=np.float32)))
    passage_sim = index.passage_vectors(chunks) @ query.vector
    sentence_sim = query.sentences.best(chunks.tolist())
    a = params.passage_vs_sentence
    floor = passage_sim - params.sentence_floor_gap
    scores = a * passage_sim + (1 - a) * np.maximum(sentence_sim, floor)
    order = np.argsort(-scores, kind="stable")[: params.depth]
    return replace(found, dense=Scored(chunks[order], scores[order].astype(np.float32)))


def lexical_candidates(
    index: IndexView, query: Query, params: RankingParams, found: Candidates
) -> Candidates:
    """BM25 over the allowed passages (every score; fusion takes the top `depth`)."""
    return replace(found, lexical=index.lexical_scores(query.lexical, query.allowed))
