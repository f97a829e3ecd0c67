"""The ranking pipeline in one place: what happens to a question, stage by stage.

    0. query              encode the question once (an English one's content words and word
                          pairs too, in a second call, cached); read it for BM25 (as written, or
                          an English question through the pinyin/glossary bridge); its
                          keywords, focus words and numbers              -> Query    (query.py)
    1. candidates         each source proposes passages, only from the allowed
                          documents: dense (FAISS, re-ordered by each passage's best
                          sentence) and lexical (BM25)             -> Candidates (candidates.py)
    2. fusion             one ranking from the candidates: weighted or RRF for the hybrids,
                          a single source as it is                      -> Ranking  (fusion.py)
    3. sentence evidence  (hybrid+rerank) the top passages re-scored by their best sentence
                          and by the question's words and numbers in them
                                                                       -> Rescored (evidence.py)
    4. answer choice      every sentence of the top passages scored (an English question's
                          words bridged to the Chinese words of those passages first); the
                          best one, with the evidence the abstention model reads
                                                                  -> AnswerChoice (answer.py)
    5. abstention         the logistic model says whether the corpus answers at all
                                                           -> AnswerChoice | None (abstain.py)

`Pipeline.run` runs every stage once, in order, and returns a `Trace` holding each stage's
output; `Pipeline.resume` goes on from a trace (streaming sends the passages after stage 3,
then resumes; fitting reads stage 3's features from the trace). Stages 1-3 differ between the
retrievers, so a retriever is a list of stages (`ranking_stages`), not a branch in the code;
stages 4-5 are the same for all, and stage 4 is one replaceable function (`AnswerStage`).
Every number a stage uses is a field of `RankingParams` (stages 0-3) or `AnswerParams`
(stage 4); the abstention model is its own object (`index.rank.abstain`). Each stage is a
plain function of dataclasses (`index.rank.types`), reading the index only through
`IndexView`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import numpy as np

from index.encode.words import QueryEncoder
from index.rank import answer, candidates, evidence, fusion, query
from index.rank.abstain import AbstentionModel, abstain
from index.rank.candidates import CandidateStage
from index.rank.evidence import RescoringStage
from index.rank.fusion import FusionStage
from index.rank.glossary import Glossary
from index.rank.params import AnswerParams, RankingParams
from index.rank.types import AnswerChoice, Candidates, Query, Ranking, Rescored
from index.rank.wordbridge import PhraseCache
from index.search.view import IndexView
from index.text.searchable import has_searchable_content
from index.types import Allowed

QUERY, CANDIDATES, FUSION, EVIDENCE, ANSWER, ABSTENTION = range(6)
"""The stages by number, for `Pipeline.run(stop_after=...)` and `Trace.stage`."""

RETRIEVERS = ("bm25", "dense", "hybrid", "hybrid+rerank")
FUSIONS = ("weighted", "rrf")


@dataclass(frozen=True)
class RetrievalConfig:
    """Which ranking pipeline runs (`ranking_stages`): the retriever and, for the
    hybrid ones, the fusion. Every weight lives in `index.rank.params`, not here."""

    retriever: str = "hybrid+rerank"
    fusion: str = "weighted"

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {', '.join(RETRIEVERS)}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")


@dataclass(frozen=True)
class RankingStages:
    """Stages 1-3 of one retriever."""

    candidates: tuple[CandidateStage, ...]
    fusion: FusionStage
    rescoring: tuple[RescoringStage, ...] = ()


FUSION_STAGES: dict[str, FusionStage] = {
    "weighted": fusion.weighted_fusion,
    "rrf": fusion.rrf_fusion,
}


def ranking_stages(config: RetrievalConfig) -> RankingStages:
    """The stage list of `config.retriever` (hybrids fuse with `config.fusion`)."""
    fuse = FUSION_STAGES[config.fusion]
    both = (candidates.dense_candidates, candidates.lexical_candidates)
    return {
        "bm25": RankingStages((candidates.lexical_candidates,), fusion.lexical_only),
        "dense": RankingStages((candidates.dense_candidates,), fusion.dense_only),
        "hybrid": RankingStages(both, fuse),
        "hybrid+rerank": RankingStages(both, fuse, (evidence.sentence_evidence,)),
    }[config.retriever]


AnswerStage = Callable[[IndexView, Query, Ranking, AnswerParams], AnswerChoice | None]
"""Stage 4: the answer sentence of the ranked passages, with its evidence (None: none).
`index.rank.answer.choose_answer` scores every sentence of the top passages; another answer
stage (a reader) takes its place by being passed to `Pipeline`."""


@dataclass(frozen=True)
class Trace:
    """What each stage produced for one question, as far as the pipeline has run."""

    question: str
    stage: int = -1
    """The last stage that ran (-1: none yet)."""
    query: Query | None = None
    """Stage 0 (with the bridge phrases' vectors once stage 3 has run)."""
    candidates: Candidates | None = None
    """Stage 1 (None for a question with nothing searchable: stages 1-3 rank nothing)."""
    fused: Ranking | None = None
    """Stage 2."""
    rescored: Rescored | None = None
    """Stage 3 (None for a retriever without re-scoring)."""
    ranking: Ranking | None = None
    """The passages best first after stage 3: re-scored, else fused."""
    choice: AnswerChoice | None = None
    """Stage 4."""
    answer: AnswerChoice | None = None
    """Stage 5: the choice, unless the corpus does not answer."""
    pending: Future[np.ndarray] | None = field(default=None, compare=False, repr=False)
    """The bridge phrases' vectors, being encoded beside stages 1-3."""

    @classmethod
    def at_query(cls, query: Query) -> Trace:
        """A trace whose stage 0 is `query` (a question read elsewhere, e.g. from a stored
        vector), for `Pipeline.resume`."""
        return cls(query.question, QUERY, query=query)


class Pipeline:
    """The stages of one engine, run once each, in order (`run`, `resume`)."""

    def __init__(
        self,
        index: IndexView,
        encoder: QueryEncoder,
        config: RetrievalConfig,
        ranking: RankingParams,
        answering: AnswerParams,
        abstention: AbstentionModel | None,
        *,
        phrases: PhraseCache | None = None,
        glossary: Glossary | None = None,
        answer_stage: AnswerStage = answer.choose_answer,
        fitting: bool = False,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.config = config
        self.stages = ranking_stages(config)
        self.ranking = ranking
        self.answering = answering
        self.abstention = abstention
        self.phrases = phrases if phrases is not None else PhraseCache()
        """Vectors of English questions' words and word pairs (the word bridge)."""
        self.glossary = glossary
        self.answer_stage = answer_stage
        self.fitting = fitting
        """Encode the bridge phrases whatever the bridge's weight (`ragqa eval tune`)."""

    def run(
        self, question: str, scope: Allowed | None = None, stop_after: int | None = None
    ) -> Trace:
        """Stages 0 to `stop_after` (default: all) for `question`, restricted to the
        documents `scope` allows (None: all). A question with nothing searchable in it
        (`has_searchable_content`) ranks nothing, without running the model."""
        if not has_searchable_content(question):
            nothing = query.unsearchable_query(self.index, question)
            trace = Trace(question, EVIDENCE, query=nothing, ranking=Ranking(()))
        else:
            read, pending = query.read(
                self.index,
                question,
                self.encoder,
                self.phrases,
                self.ranking,
                self.answering,
                scope,
                self.glossary,
                fitting=self.fitting,
            )
            trace = Trace(question, QUERY, query=read, pending=pending)
        return self.resume(trace, stop_after)

    def resume(self, trace: Trace, stop_after: int | None = None) -> Trace:
        """The stages after `trace.stage`, up to `stop_after` (default: all)."""
        last = ABSTENTION if stop_after is None else stop_after
        t, read = trace, trace.query
        assert read is not None, "a trace starts at stage 0"
        if t.stage < CANDIDATES <= last:
            found = candidates.propose(self.index, read, self.ranking, self.stages.candidates)
            t = replace(t, stage=CANDIDATES, candidates=found)
        if t.stage < FUSION <= last:
            assert t.candidates is not None
            t = replace(t, stage=FUSION, fused=self.stages.fusion(read, t.candidates, self.ranking))
        if t.stage < EVIDENCE <= last:
            assert t.fused is not None
            rescored = evidence.rescore(
                self.index, read, self.ranking, t.fused, self.stages.rescoring
            )
            ranking = t.fused if rescored is None else rescored.ranking
            if t.pending is not None:  # stage 4 reads the bridge phrases: wait for them now
                read = replace(read, phrase_vectors=t.pending.result())
            t = replace(
                t, stage=EVIDENCE, query=read, pending=None, rescored=rescored, ranking=ranking
            )
        if t.stage < ANSWER <= last:
            assert t.ranking is not None
            choice = self.answer_stage(self.index, read, t.ranking, self.answering)
            t = replace(t, stage=ANSWER, choice=choice)
        if t.stage < ABSTENTION <= last:
            t = replace(t, stage=ABSTENTION, answer=abstain(t.choice, self.abstention))
        return t
