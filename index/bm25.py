"""BM25 over jieba tokens, stored with bm25s' own plain-file format (JSON + .npy, no pickle)."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from index.tokenize import tokenize


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
    def load(cls, directory: Path, n_docs: int) -> BM25Index:
        """Read an index written by `save`."""
        model = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
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
