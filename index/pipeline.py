"""The ranking pipeline in one place: what happens to a question, stage by stage.

    0. query              encode the question once (an English one's content words and word
                          pairs too, in a second call, cached); read it for BM25 (as written, or
                          an English question through the pinyin/glossary bridge); its
                          keywords, focus words and numbers                        -> Query
    1. candidates         each source proposes passages, only from the allowed
                          documents: dense (FAISS, re-ordered by each passage's best
                          sentence) and lexical (BM25)                         -> Candidates
    2. fusion             one ranking from the candidates: weighted or RRF for the hybrids,
                          a single source as it is                                -> Ranking
    3. sentence evidence  (hybrid+rerank) the top passages re-scored by their best sentence
                          and by the question's words and numbers in them          -> Ranking
    4. answer choice      every sentence of the top passages scored (an English question's
                          words bridged to the Chinese words of those passages first); the
                          best one, with the evidence the abstention model reads -> AnswerChoice
    5. abstention         the logistic model says whether the corpus answers at all
                                                                       -> AnswerChoice | None

Stages 1-3 differ between the retrievers, so a retriever is a list of stages (`ranking_stages`),
not a branch in the code; stages 4-5 are the same for all. Every number a stage uses is a
field of `RankingParams` (stages 0-3) or `AnswerParams` (stage 4); the abstention model is its
own object (`index.abstain`). Each stage is a plain function of dataclasses, reading the index
only through `IndexView`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from index.abstain import AbstentionModel, Evidence
from index.answer import SentenceCandidate, features, score
from index.crosslingual import Glossary, glossary_terms
from index.matching import QueryTerms, coverage, query_terms
from index.params import AnswerParams, RankingParams
from index.retrieval import (
    RetrievalConfig,
    evidence_score,
    fuse_rrf,
    fuse_weighted,
    top_positive,
)
from index.tokenize import has_cjk, tokenize
from index.types import Allowed
from index.view import IndexView
from index.wordbridge import bridge, english_phrases

# -- the nouns passed between stages ------------------------------------------------------


class SentenceScores:
    """Cosine of the question with the sentences of the passages the stages look at,
    computed on first use and kept for the request; never a scan of every sentence."""

    def __init__(self, index: IndexView, vector: np.ndarray) -> None:
        self._index = index
        self._vector = vector
        self._of: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]] = {}
        self._best: dict[int, float] = {}

    @property
    def passages_scored(self) -> int:
        """How many passages' sentences have been scored so far in this request."""
        return len(self._of)

    def of_passage(self, chunk: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The rows of the sentences of passage `chunk` and their similarities."""
        found = self._of.get(chunk)
        if found is None:
            self.prefetch([chunk])
            found = self._of[chunk]
        return found

    def prefetch(self, chunks: list[int]) -> None:
        """Compute the similarities of the sentences of `chunks` in one matrix product."""
        todo = [c for c in dict.fromkeys(chunks) if c not in self._of]
        if not todo:
            return
        runs = [self._index.sentence_rows(c) for c in todo]
        rows = np.concatenate(runs) if runs else np.empty(0, dtype=np.int64)
        sims = self._index.sentence_similarity(rows, self._vector)
        sizes = np.array([len(run) for run in runs], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        filled = sizes > 0
        maxima = np.full(len(todo), -1.0, dtype=np.float32)
        if filled.any():  # one reduction for every passage, not one call each
            maxima[filled] = np.maximum.reduceat(sims, starts[filled])
        for chunk, run, start, top in zip(
            todo, runs, starts.tolist(), maxima.tolist(), strict=True
        ):
            self._of[chunk] = (run, sims[start : start + len(run)])
            self._best[chunk] = top

    def best(self, chunks: list[int]) -> npt.NDArray[np.float32]:
        """Each passage's best sentence similarity (-1 for a passage without sentences)."""
        self.prefetch(chunks)
        return np.array([self._best[c] for c in chunks], dtype=np.float32)


@dataclass(frozen=True)
class Query:
    """A question as every stage reads it (stage 0)."""

    question: str
    vector: np.ndarray
    """The question's embedding: the one encoder pass of a request."""
    lexical: str
    """What BM25 reads ("" when nothing of the question is readable)."""
    terms: QueryTerms
    allowed: Allowed | None
    """The documents the query may see; None = every document."""
    sentences: SentenceScores
    phrase_vectors: np.ndarray | None = None
    """An English question's `encoder_texts` phrases, encoded (None: nothing to bridge)."""


@dataclass(frozen=True)
class Scored:
    """Passage rows with their scores, best first."""

    chunks: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Candidates:
    """What the candidate sources proposed (stage 1)."""

    dense: Scored | None = None
    lexical: npt.NDArray[np.float32] | None = None
    """BM25 score of every passage (0 = no match, or not allowed)."""


@dataclass(frozen=True)
class Ranking:
    """Passages best first: (passage row, score) pairs (stages 2 and 3)."""

    passages: tuple[tuple[int, float], ...]

    def top(self, n: int) -> list[int]:
        return [chunk for chunk, _ in self.passages[:n]]


@dataclass(frozen=True)
class AnswerChoice:
    """The best answer sentence, its score and the evidence about it (stage 4)."""

    sentence: SentenceCandidate
    chunk: int
    """The passage row the sentence was quoted from."""
    score: float
    evidence: Evidence


# -- 0. query -------------------------------------------------------------------------------


def encoder_texts(
    index: IndexView, question: str, params: AnswerParams, *, fitting: bool = False
) -> list[str]:
    """What a request encodes: the question, and for an English question over an index with
    word vectors its content words and word pairs (the bridge), when the bridge's answer
    weight is not 0 (or for `fitting` it)."""
    if has_cjk(question) or not len(index.words) or not (params.w_bridge or fitting):
        return [question]
    return [question, *english_phrases(question, params.bridge_pairs)]


def read_query(
    index: IndexView,
    question: str,
    vector: np.ndarray,
    params: RankingParams,
    allowed: Allowed | None = None,
    phrase_vectors: np.ndarray | None = None,
    glossary: Glossary | None = None,
) -> Query:
    """The question read for every stage (`phrase_vectors`: the rest of `encoder_texts`;
    `glossary`: the English→Chinese glossary, None for the shipped one).

    A Chinese question is read by BM25 as is, trusted as far as its words occur in the corpus.
    An English question is read through the bridge: the place and company names it romanises
    and the glossary terms it uses, trusted `bridge_share` as much (a partial reading).
    """
    names: list[str] = []
    if has_cjk(question):
        lexical, share = question, index.vocabulary_hit(question)
    else:
        names = index.bridge.expand(question)
        words = names + glossary_terms(question, glossary)
        lexical = " ".join(words)
        share = params.bridge_share * index.vocabulary_hit(lexical) if words else 0.0
    terms = query_terms(lexical, share, question, index.idf, params.focus_window, names)
    phrases = phrase_vectors if phrase_vectors is not None and len(phrase_vectors) else None
    sentences = SentenceScores(index, vector)
    return Query(question, vector, lexical, terms, allowed, sentences, phrases)


def unsearchable_query(index: IndexView, question: str) -> Query:
    """A question with nothing to search for: no vector, no terms; it ranks nothing."""
    vector = np.zeros(index.dim, dtype=np.float32)
    terms = QueryTerms(frozenset(), {}, frozenset(), frozenset(), 0.0)
    return Query(question, vector, "", terms, None, SentenceScores(index, vector))


# -- 1. candidates --------------------------------------------------------------------------


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


# -- 2. fusion ------------------------------------------------------------------------------


def dense_only(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """The dense ranking as it is."""
    assert found.dense is not None
    pairs = zip(found.dense.chunks.tolist(), found.dense.scores.tolist(), strict=True)
    return Ranking(tuple(pairs))


def lexical_only(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """The `depth` best BM25 passages with a non-zero score."""
    assert found.lexical is not None
    scores = found.lexical
    order = top_positive(scores, params.depth)
    return Ranking(tuple((int(i), float(scores[i])) for i in order))


def weighted_fusion(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """Dense and BM25 scores combined, BM25's share scaled by how much of the question it
    can read (`fuse_weighted`)."""
    assert found.dense is not None and found.lexical is not None
    fused = fuse_weighted(
        found.dense.chunks, found.dense.scores, found.lexical, params, query.terms.lexical_share
    )
    return Ranking(tuple(sorted(fused.items(), key=lambda kv: -kv[1])))


def rrf_fusion(query: Query, found: Candidates, params: RankingParams) -> Ranking:
    """Reciprocal rank fusion of the dense and BM25 rankings (`fuse_rrf`)."""
    assert found.dense is not None and found.lexical is not None
    fused = fuse_rrf(found.dense.chunks, found.lexical, params)
    return Ranking(tuple(sorted(fused.items(), key=lambda kv: -kv[1])))


# -- 3. sentence evidence -------------------------------------------------------------------


def sentence_evidence(
    index: IndexView, query: Query, params: RankingParams, ranking: Ranking
) -> Ranking:
    """The top `rerank_depth` passages re-scored: their fused score (relative to the best)
    plus their best sentence's similarity and the question's keywords and numbers in them."""
    ranked = ranking.passages[: params.rerank_depth]
    if not ranked:
        return Ranking(())
    query.sentences.prefetch([chunk for chunk, _ in ranked])
    top = max(s for _, s in ranked)
    rescored = []
    for chunk, fused in ranked:
        doc, start, end = index.passage(chunk)
        rows, sims = query.sentences.of_passage(chunk)
        best = float(sims.max()) if rows.size else 0.0
        text = f"{doc.title}\n{doc.text[start:end]}"
        base = params.rerank_fused * (fused / top if top > 0 else 0.0)
        rescored.append((chunk, base + evidence_score(best, text, query.terms, params)))
    return Ranking(tuple(sorted(rescored, key=lambda kv: -kv[1])))


# -- the retrievers as stage lists ----------------------------------------------------------

CandidateStage = Callable[[IndexView, Query, RankingParams, Candidates], Candidates]
FusionStage = Callable[[Query, Candidates, RankingParams], Ranking]
RescoringStage = Callable[[IndexView, Query, RankingParams, Ranking], Ranking]


@dataclass(frozen=True)
class RankingStages:
    """Stages 1-3 of one retriever."""

    candidates: tuple[CandidateStage, ...]
    fusion: FusionStage
    rescoring: tuple[RescoringStage, ...] = ()


FUSIONS: dict[str, FusionStage] = {"weighted": weighted_fusion, "rrf": rrf_fusion}


def ranking_stages(config: RetrievalConfig) -> RankingStages:
    """The stage list of `config.retriever` (hybrids fuse with `config.fusion`)."""
    fuse = FUSIONS[config.fusion]
    both = (dense_candidates, lexical_candidates)
    return {
        "bm25": RankingStages((lexical_candidates,), lexical_only),
        "dense": RankingStages((dense_candidates,), dense_only),
        "hybrid": RankingStages(both, fuse),
        "hybrid+rerank": RankingStages(both, fuse, (sentence_evidence,)),
    }[config.retriever]


def rank(index: IndexView, query: Query, stages: RankingStages, params: RankingParams) -> Ranking:
    """Stages 1-3: candidates, fusion, re-scoring."""
    found = Candidates()
    for propose in stages.candidates:
        found = propose(index, query, params, found)
    ranking = stages.fusion(query, found, params)
    for rescore in stages.rescoring:
        ranking = rescore(index, query, params, ranking)
    return ranking


# -- 4. answer choice -----------------------------------------------------------------------


def answer_candidates(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> list[SentenceCandidate]:
    """Every sentence of the top `passages` passages, clipped to its passage."""
    candidates: list[SentenceCandidate] = []
    chunk_ids = ranking.top(params.passages)
    query.sentences.prefetch(chunk_ids)
    for position, chunk in enumerate(chunk_ids):
        doc, start, end = index.passage(chunk)
        rows, sims = query.sentences.of_passage(chunk)
        if not rows.size:
            continue
        prior = 1.0 - position / max(len(chunk_ids), 1)
        context = f"{doc.title}\n{doc.text[start:end]}"
        for row, sim in zip(rows.tolist(), sims.tolist(), strict=True):
            _, s_start, s_end = index.sentences[row].tolist()
            a, b = max(s_start, start), min(s_end, end)
            if b > a:
                candidates.append(
                    SentenceCandidate(
                        position, a, b, doc.text[a:b], context, float(sim), prior, doc.title
                    )
                )
    return candidates


def bridged_words(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> frozenset[str]:
    """The Chinese words of the top `bridge_passages` passages that an English question's
    words and word pairs name (`index.wordbridge.bridge`); empty for a Chinese question."""
    if query.phrase_vectors is None:
        return frozenset()
    words: set[str] = set()
    for chunk in ranking.top(params.bridge_passages):
        doc, start, end = index.passage(chunk)
        words.update(passage_words(f"{doc.title}\n{doc.text[start:end]}"))
    return bridge(query.phrase_vectors, index.words, words, params.bridge_threshold)


@lru_cache(maxsize=4096)
def passage_words(text: str) -> frozenset[str]:
    """The jieba words of a passage (title + text), cached: the same top passages come back
    for many questions, and tokenizing three of them cost about 4 ms of an English ask."""
    return frozenset(tokenize(text))


def choose_answer(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> AnswerChoice | None:
    """The best-scoring candidate sentence and the evidence about it (None: no sentences)."""
    candidates = answer_candidates(index, query, ranking, params)
    if not candidates:
        return None
    terms, question = query.terms, query.question
    bridged = bridged_words(index, query, ranking, params)
    evidence_of = [features(c, question, terms, params, bridged) for c in candidates]
    scored = sorted(
        ((score(f, params), i) for i, f in enumerate(evidence_of)), key=lambda pair: -pair[0]
    )
    best_score, best_at = scored[0]
    best = candidates[best_at]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    evidence = Evidence(
        score=best_score,
        similarity=best.similarity,
        support=coverage(terms.tokens, best.passage_text, terms.weights),
        focus_support=coverage(terms.focus, best.passage_text, terms.weights),
        margin=best_score - runner_up,
        lexical_share=terms.lexical_share,
        english=0.0 if has_cjk(question) else 1.0,
        has_focus=1.0 if terms.focus else 0.0,
        answer_type=evidence_of[best_at].answer_type,
        name_support=coverage(terms.names, best.passage_text, terms.weights)
        if terms.names
        else 1.0,
        has_names=1.0 if terms.names else 0.0,
    )
    chunk = ranking.passages[best.passage_index][0]
    return AnswerChoice(best, chunk, best_score, evidence)


# -- 5. abstention --------------------------------------------------------------------------


def abstain(choice: AnswerChoice | None, model: AbstentionModel | None) -> AnswerChoice | None:
    """The choice, unless the abstention model says the corpus does not answer (None)."""
    if choice is None or (model is not None and model.abstains(choice.evidence)):
        return None
    return choice
