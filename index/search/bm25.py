"""BM25 over jieba tokens: one bm25s index (the plain build), or per-segment statistics
combined at query time (the document library).

`BM25Index` is bm25s, stored with its own plain-file format (JSON + .npy, no pickle). It
precomputes every (passage, term) score, so its corpus statistics are frozen at build time.

`SegmentedBM25` is what the library's views use, as Lucene does: each immutable segment
carries its own `TermStats` (postings with term frequencies, passage lengths), computed once
when the segment is made or first loaded; a view adds them up into the global statistics (N,
df per query term, average length) and scores only the postings of the query's terms. A
write therefore costs the new segment's statistics, never a rebuild over the archive, and the
scores are bm25s' own for the same passages, to the bit: same "lucene" method, k1, b, idf and
float32 accumulation in query-token order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import bm25s
import numpy as np
import numpy.typing as npt

from index.text.tokenize import tokenize

K1 = 1.5
B = 0.75
"""bm25s' defaults, which `BM25Index` uses (method "lucene"): `SegmentedBM25` scores with them."""


class LexicalIndex(Protocol):
    """What the pipeline reads of a BM25 index (`IndexView.bm25`)."""

    n_docs: int

    def scores(self, query: str) -> np.ndarray: ...

    def idf(self, tokens: list[str]) -> dict[str, float]: ...

    @property
    def vocabulary(self) -> list[str]: ...

    def vocabulary_hit(self, query: str) -> float: ...


class BM25Index:
    """Lexical scores for every passage; a query with no known token scores all zeros."""

    def __init__(self, model: bm25s.BM25, n_docs: int) -> None:
        self._model = model
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: list[str]) -> BM25Index:
        """Index `texts` (one per passage, in passage order)."""
        corpus_tokens = [tokenize(t) or [""] for t in texts]
        model = bm25s.BM25()
        model.index(corpus_tokens, show_progress=False)
        return cls(model, len(texts))

    @classmethod
    def from_tokens(cls, corpus_tokens: list[list[str]]) -> BM25Index:
        """Index passages already tokenized (as `build` would: `tokenize(text) or [""]`)."""
        model = bm25s.BM25()
        # An empty view still needs a vocabulary (of the empty token) for idf and hit rates.
        model.index(corpus_tokens or [[""]], show_progress=False)
        return cls(model, len(corpus_tokens))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (float32, shape (n_docs,))."""
        ids = self._model.get_tokens_ids(tokenize(query))
        ids = [i for i in ids if i != self._model.vocab_dict.get("")]
        if not ids or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(ids), dtype=np.float32)

    def save(self, directory: Path) -> None:
        """Write bm25s' files into `directory`."""
        self._model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, n_docs: int, *, mmap: bool = False) -> BM25Index:
        """Read an index written by `save` (`mmap`: map its score arrays from the files)."""
        model = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False, verbosity=0)
        return cls(model, n_docs)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse passage frequency of each token (unknown tokens get the highest value)."""
        df = np.diff(self._model.scores["indptr"])
        n = max(self.n_docs, 1)
        top = float(np.log(1 + n))
        weights: dict[str, float] = {}
        for token in tokens:
            tid = self._model.vocab_dict.get(token)
            weights[token] = top if tid is None else float(np.log(1 + n / max(df[tid], 1)))
        return weights

    @property
    def vocabulary(self) -> list[str]:
        """Every token the index knows."""
        return [t for t in self._model.vocab_dict if t]

    def vocabulary_hit(self, query: str) -> float:
        """Share of the query's tokens that occur in the indexed passages (0..1)."""
        tokens = tokenize(query)
        if not tokens:
            return 0.0
        return sum(1 for t in tokens if t in self._model.vocab_dict) / len(tokens)


def lucene_idf(df: int, n: int) -> np.float32:
    """bm25s' "lucene" idf, stored as float32 as bm25s stores its idf array."""
    return np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))


def lucene_term_scores(
    idf: np.float32, tf: npt.NDArray[np.float32], lengths: npt.NDArray[np.int64], avgdl: float
) -> npt.NDArray[np.float32]:
    """Score of one term in the passages of its postings: idf × tf / (tf + k1 × (1 - b + b ×
    length / avgdl)), in float64 and then float32, the operations in bm25s' order."""
    tfc = tf / (K1 * ((1 - B) + B * lengths / np.float64(avgdl)) + tf)
    return np.asarray(idf * tfc, dtype=np.float32)


@dataclass(frozen=True)
class TermStats:
    """The BM25 statistics of one immutable segment (its chunks, in row order).

    Postings are stored term by term (CSC): the passages of term `t` are
    ``rows[indptr[t]:indptr[t + 1]]`` with their term frequencies in `tf`.
    """

    vocab: dict[str, int]
    indptr: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    tf: npt.NDArray[np.float32]
    lengths: npt.NDArray[np.int64]
    """Tokens per passage (a passage without tokens counts its one empty token, as in bm25s)."""

    @classmethod
    def from_tokens(cls, corpus_tokens: Sequence[Sequence[str]]) -> TermStats:
        """Statistics of passages already tokenized (`tokenize(text) or [""]`)."""
        vocab: dict[str, int] = {}
        terms: list[int] = []
        rows: list[int] = []
        tfs: list[int] = []
        for row, tokens in enumerate(corpus_tokens):
            for token, count in Counter(tokens).items():
                terms.append(vocab.setdefault(token, len(vocab)))
                rows.append(row)
                tfs.append(count)
        term_ids = np.asarray(terms, dtype=np.int64)
        order = np.argsort(term_ids, kind="stable")  # rows stay ascending within a term
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(vocab)), out=indptr[1:])
        return cls(
            vocab=vocab,
            indptr=indptr,
            rows=np.asarray(rows, dtype=np.int64)[order],
            tf=np.asarray(tfs, dtype=np.float32)[order],
            lengths=np.asarray([len(t) for t in corpus_tokens], dtype=np.int64),
        )

    @property
    def n_rows(self) -> int:
        return len(self.lengths)

    @property
    def total_length(self) -> int:
        return int(self.lengths.sum())

    def df(self, token: str) -> int:
        """Passages of this segment that contain `token`."""
        tid = self.vocab.get(token)
        return 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid])

    def postings(self, token: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows that contain `token` and its frequency in each."""
        tid = self.vocab.get(token)
        if tid is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        lo, hi = int(self.indptr[tid]), int(self.indptr[tid + 1])
        return self.rows[lo:hi], self.tf[lo:hi]


class SegmentedBM25:
    """BM25 over several segments' `TermStats`, with global statistics (as one index over all
    their passages would have), computed per query term. Building one costs O(segments)."""

    def __init__(self, segments: Sequence[TermStats]) -> None:
        self.segments = tuple(segments)
        offsets = np.cumsum([0] + [s.n_rows for s in self.segments])
        self.offsets = tuple(int(o) for o in offsets[:-1])
        self.n_docs = int(offsets[-1])
        total = sum(s.total_length for s in self.segments)
        self.avgdl = total / self.n_docs if self.n_docs else 0.0
        """Mean passage length over all segments (bm25s' `np.mean` of the lengths, exactly)."""

    def known(self, token: str) -> bool:
        return any(token in s.vocab for s in self.segments)

    def df(self, token: str) -> int:
        """Passages of all segments that contain `token`."""
        return sum(s.df(token) for s in self.segments)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (float32, shape (n_docs,))."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        cache: dict[str, list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]] = {}
        for token in tokenize(query):
            if not token or not self.known(token):
                continue
            if token not in cache:
                idf = lucene_idf(self.df(token), self.n_docs)
                parts = []
                for stats, offset in zip(self.segments, self.offsets, strict=True):
                    rows, tf = stats.postings(token)
                    if len(rows):
                        term = lucene_term_scores(idf, tf, stats.lengths[rows], self.avgdl)
                        parts.append((rows + offset, term))
                cache[token] = parts
            for rows, term in cache[token]:
                np.add.at(out, rows, term)  # float32 sums in query-token order, as bm25s
        return out

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse passage frequency of each token (unknown tokens get the highest value), as
        `BM25Index.idf`."""
        n = max(self.n_docs, 1)
        top = float(np.log(1 + n))
        weights: dict[str, float] = {}
        for token in tokens:
            df = self.df(token)
            weights[token] = top if df == 0 else float(np.log(1 + n / np.int64(df)))
        return weights

    @property
    def vocabulary(self) -> list[str]:
        """Every token the segments know (in segment order, first occurrence)."""
        words: dict[str, None] = {}
        for stats in self.segments:
            words.update(dict.fromkeys(stats.vocab))
        return [t for t in words if t]

    def vocabulary_hit(self, query: str) -> float:
        """Share of the query's tokens that occur in the passages (0..1)."""
        tokens = tokenize(query)
        if not tokens:
            return 0.0
        return sum(1 for t in tokens if self.known(t)) / len(tokens)
