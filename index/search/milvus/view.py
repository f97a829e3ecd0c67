"""`MilvusView`: an `IndexView` whose candidate searches and vector reads go to Milvus; it
knows the live rows a sync makes Milvus hold, and never serves a row it does not know."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from index.search.filters import Catalog
from index.search.milvus.client import BATCH_ROWS, bm25_words
from index.search.milvus.collections import MilvusIndex
from index.search.milvus.filters import _in_list, filter_expression
from index.search.milvus.keys import document_version, row_keys
from index.search.view import IndexView
from index.store.build import passage_text_for_embedding
from index.store.files import IndexData
from index.types import Allowed


class MilvusView(IndexView):
    """An `IndexView` whose candidates, vectors and BM25 scores come from Milvus.

    Spans, documents and the BM25 vocabulary statistics the query reader uses (`idf`,
    `vocabulary_hit`, the pinyin bridge) are read from the view's `IndexData` as before;
    the dense search, the passage and sentence vectors and the BM25 ranking are Milvus'.
    """

    def __init__(
        self,
        data: IndexData,
        milvus: MilvusIndex,
        catalog: Catalog | None = None,
        *,
        lexical_limit: int = 100,
    ) -> None:
        super().__init__(data)
        self.milvus = milvus
        self.catalog = catalog if catalog is not None else Catalog.single(len(data.documents))
        self.lexical_limit = lexical_limit
        self.versions = [
            document_version(d, c, m)
            for d, c, m in zip(
                data.documents, self.catalog.collections, self.catalog.metadata, strict=True
            )
        ]
        self.passage_keys = row_keys(data.chunks, self.versions, "p")
        self.sentence_keys = row_keys(data.sentences, self.versions, "s")
        self._passage_row = {int(k): i for i, k in enumerate(self.passage_keys.tolist())}
        self._doc_ids = [d.doc_id for d in data.documents]
        self._recent = threading.local()
        """The vectors the last dense search of this thread returned (read once, used next)."""

    # -- what Milvus should hold -------------------------------------------------------------

    def live_keys(self) -> tuple[set[int], set[int]]:
        alive = self.catalog.alive
        p = self.passage_keys[alive[self.chunks[:, 0]]] if len(self.chunks) else self.passage_keys
        s = (
            self.sentence_keys[alive[self.sentences[:, 0]]]
            if len(self.sentences)
            else self.sentence_keys
        )
        return set(p.tolist()), set(s.tolist())

    def passage_rows_for(self, keys: set[int]) -> Iterable[dict[str, Any]]:
        rows = [i for i, k in enumerate(self.passage_keys.tolist()) if k in keys]
        for start in range(0, len(rows), BATCH_ROWS):
            part = rows[start : start + BATCH_ROWS]
            vectors = IndexView.passage_vectors(self, np.asarray(part, dtype=np.int64))
            for i, vector in zip(part, vectors, strict=True):
                r, a, b = self.chunks[i].tolist()
                doc = self.documents[r]
                text = passage_text_for_embedding(doc, a, b, True)
                yield {
                    "key": int(self.passage_keys[i]),
                    "doc_id": doc.doc_id,
                    "char_start": a,
                    "char_end": b,
                    "vector": vector.tolist(),
                    "collection": self.catalog.collections[r],
                    "published": doc.published,
                    "source": doc.source or "",
                    "metadata": dict(self.catalog.metadata[r]),
                    "text": bm25_words(text),
                }

    def sentence_rows_for(self, keys: set[int]) -> Iterable[dict[str, Any]]:
        for i, k in enumerate(self.sentence_keys.tolist()):
            if k in keys:
                r, a, b = self.sentences[i].tolist()
                yield {
                    "key": int(k),
                    "doc_id": self.documents[r].doc_id,
                    "char_start": a,
                    "char_end": b,
                    "vector": self.data.sentence_rows(np.array([i]))[0].tolist(),
                }

    # -- the restriction as a filter ---------------------------------------------------------

    def where(self, allowed: Allowed | None) -> str | None:
        """The Milvus filter of `allowed` ("" = none), or None when nothing is allowed.

        A restriction made from collections and filters becomes their expression
        (`filter_expression`); any other mask becomes the smaller of ``doc_id in [...]`` and
        ``doc_id not in [...]``. Deleted documents are not in Milvus once the view is synced,
        and hits of rows the view does not allow are dropped all the same."""
        if allowed is None:
            return ""
        mask = self.passage_mask(allowed)
        assert mask is not None
        documents = np.asarray(allowed.documents, dtype=bool)
        if not documents.any():
            return None
        if allowed.where is not None:
            return filter_expression(*allowed.where)
        allowed_rows = np.flatnonzero(documents)
        denied_rows = np.flatnonzero(~documents)
        if len(allowed_rows) <= len(denied_rows):
            return _in_list("doc_id", sorted({self._doc_ids[r] for r in allowed_rows.tolist()}))
        return _in_list(
            "doc_id", sorted({self._doc_ids[r] for r in denied_rows.tolist()}), negate=True
        )

    def _rows(
        self, hits: list[tuple[int, float]], allowed: Allowed | None
    ) -> list[tuple[int, float]]:
        """Hits as (passage row, score) for the rows this view knows and allows."""
        mask = self.passage_mask(allowed)
        found = []
        for key, score in hits:
            row = self._passage_row.get(key)
            if row is None:
                continue
            if mask is not None and not mask[row]:
                continue
            if not self.catalog.alive[self.chunks[row, 0]]:
                continue
            found.append((row, score))
        return found

    # -- what the pipeline calls -------------------------------------------------------------

    def dense_search(
        self, vector: np.ndarray, k: int, allowed: Allowed | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        where = self.where(allowed)
        k = min(k, self.n_passages)
        if where is None or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        hits = self.milvus.dense(vector, k, where)
        self._recent.vectors = {key: v for key, _, v in hits}
        found = self._rows([(key, score) for key, score, _ in hits], allowed)
        return (
            np.array([r for r, _ in found], dtype=np.int64),
            np.array([s for _, s in found], dtype=np.float32),
        )

    def passage_vectors(self, chunks: np.ndarray) -> npt.NDArray[np.float32]:
        if not len(chunks):
            return np.empty((0, self.dim), dtype=np.float32)
        keys = [int(self.passage_keys[c]) for c in np.asarray(chunks).tolist()]
        recent: dict[int, np.ndarray] = getattr(self._recent, "vectors", {})
        found = {k: recent[k] for k in keys if k in recent}
        missing = [k for k in keys if k not in found]
        if missing:
            found.update(self.milvus.vectors(self.milvus.passages, missing))
        return _stack(keys, found, self.dim)

    def sentence_similarity(
        self, rows: npt.NDArray[np.int64], vector: np.ndarray
    ) -> npt.NDArray[np.float32]:
        """Cosine of `vector` with the sentences `rows`, computed by Milvus over a filter on
        their keys (the sentences of the candidate passages, nothing else); a sentence Milvus
        lacks scores 0."""
        if not len(rows):
            return np.empty(0, dtype=np.float32)
        keys = [int(self.sentence_keys[r]) for r in rows.tolist()]
        found = self.milvus.similarities(self.milvus.sentences, keys, vector)
        return np.array([found.get(k, 0.0) for k in keys], dtype=np.float32)

    def lexical_scores(self, query: str, allowed: Allowed | None) -> npt.NDArray[np.float32]:
        """Milvus' BM25 scores of its `lexical_limit` best allowed passages (0 elsewhere):
        fusion reads only the top `depth` of them."""
        scores = np.zeros(self.n_passages, dtype=np.float32)
        text = bm25_words(query)
        where = self.where(allowed)
        if not text or where is None:
            return scores
        for row, score in self._rows(self.milvus.lexical(text, self.lexical_limit, where), allowed):
            scores[row] = score
        return scores


def _stack(keys: Sequence[int], found: Mapping[int, np.ndarray], dim: int) -> np.ndarray:
    """Vectors in the order of `keys`; a key Milvus lacks gets a zero vector (similarity 0)."""
    out = np.zeros((len(keys), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        vector = found.get(key)
        if vector is not None:
            out[i] = vector
    return out
