"""The nouns the ranking stages pass to each other, from the question read (stage 0) to the
answer choice (stage 4): small frozen dataclasses, and the per-request cache of sentence
similarities the stages share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.rank.matching import QueryTerms
from index.search.view import IndexView
from index.types import Allowed


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
class Rescored:
    """What the sentence-evidence stage saw and made of it (stage 3)."""

    passages: Ranking
    """The fused passages it re-scored (the top `rerank_depth`), in fused order."""
    features: npt.NDArray[np.float64]
    """(n, 4) per passage, in `passages` order: its fused score relative to the best, its
    best sentence's similarity, the question's keywords in it (times the lexical share) and
    its numbers in it; the re-scoring weights (`RankingParams.rerank_*`) weigh these."""
    ranking: Ranking
    """The passages re-scored, best first."""


@dataclass(frozen=True)
class SentenceCandidate:
    """A sentence (clipped to its passage) that could answer the question."""

    passage_index: int
    char_start: int
    char_end: int
    text: str
    passage_text: str
    similarity: float
    passage_prior: float
    title: str
    """The title of the sentence's document: what the whole article is about."""


FEATURES: tuple[str, ...] = (
    "score",
    "similarity",
    "support",
    "focus_support",
    "margin",
    "lexical_share",
    "english",
    "has_focus",
    "answer_type",
    "name_support",
    "has_names",
)
"""Every input an abstention model may use; a model records the ones it was fitted on."""


@dataclass(frozen=True)
class Evidence:
    """What the answer step knows about its best candidate (the model's inputs)."""

    score: float
    similarity: float
    support: float
    """IDF-weighted share of the question's keywords in the best sentence's passage."""
    focus_support: float
    """The same for the words next to the question word."""
    margin: float
    """Best sentence score minus the runner-up's."""
    lexical_share: float
    english: float
    has_focus: float
    answer_type: float = 1.0
    """1 when the best sentence holds the kind of thing asked for (a number for 多少, a date
    for 哪一年: `index.rank.answer.answer_type_match`). Added 2026-12-02: held out by article
    (`ragqa eval tune`), it took the seed unanswerable recall from 15% to 25% at the same 3%
    answerable-null budget."""
    name_support: float = 1.0
    """IDF-weighted share of the names an English question romanises (Jiayuguan → 嘉峪关,
    `index.rank.glossary.PinyinBridge`) in the best sentence's title and passage: an answer
    about another city is not an answer. 1 when the question names nothing."""
    has_names: float = 0.0
    """1 when the question romanises a name of the corpus."""

    def vector(self, names: tuple[str, ...] = FEATURES) -> list[float]:
        return [float(getattr(self, name)) for name in names]


@dataclass(frozen=True)
class AnswerChoice:
    """The best answer sentence, its score and the evidence about it (stage 4)."""

    sentence: SentenceCandidate
    chunk: int
    """The passage row the sentence was quoted from."""
    score: float
    evidence: Evidence
    threshold: float | None = None
    """Set by a chooser with its own "does not answer" line (the reader): stage 5 then
    compares `score` with it instead of asking the abstention model."""
