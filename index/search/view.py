"""What the ranking pipeline reads from a loaded index, behind a few small methods.

The stages in `index.rank.pipeline` never touch FAISS, bm25s or the arrays directly: they ask this
view for candidates, vectors and spans. A segmented index, or a vector database, can stand in
by offering the same methods.

Passages and sentences are both sorted by (document row, char_start), and ends increase with
starts inside a document, so the sentences that overlap a passage are one contiguous run of
rows, and so are the passages that overlap a sentence: two integer arrays each, however large
the index. The query path reads only the rows it needs, so the arrays may be memory-mapped.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from corpus.documents import Document
from index.encode.words import Words, WordTable
from index.rank.pinyin import PinyinBridge
from index.search import dense
from index.store.files import IndexData
from index.types import Allowed

_SHIFT = np.int64(1 << 32)


def _keys(spans: np.ndarray, column: int) -> npt.NDArray[np.int64]:
    """(document row, offset) as one sortable int64 per span."""
    return spans[:, 0].astype(np.int64) * _SHIFT + spans[:, column].astype(np.int64)


def overlap_runs(
    outer: np.ndarray, inner: np.ndarray
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each `outer` span, the rows ``[lo, hi)`` of the `inner` spans that overlap it.

    Both arrays are (n, 3): document row, char_start, char_end, sorted, ends increasing with
    starts within a document. An inner span overlaps when it starts before the outer span ends
    and ends after it starts, in the same document.
    """
    if not len(outer) or not len(inner):
        empty = np.zeros(len(outer), dtype=np.int64)
        return empty, empty.copy()
    lo = np.searchsorted(_keys(inner, 2), _keys(outer, 1), side="right")
    hi = np.searchsorted(_keys(inner, 1), _keys(outer, 2), side="left")
    return lo.astype(np.int64), np.maximum(hi, lo).astype(np.int64)


class IndexView:
    """Read access to one loaded index for the pipeline's stages."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        self.documents: list[Document] = data.documents
        self.chunks: np.ndarray = data.chunks
        self.sentences: np.ndarray = data.sentences
        self.bm25 = data.bm25
        self.bridge = PinyinBridge(data.pinyin)
        self.words: Words = data.words or WordTable.empty(int(data.passages.d))
        """Encoder vectors of the vocabulary words, for English questions."""
        self._sentence_lo, self._sentence_hi = overlap_runs(data.chunks, data.sentences)

    @property
    def n_passages(self) -> int:
        return len(self.chunks)

    @property
    def dim(self) -> int:
        return int(self.data.passages.d)

    # -- spans ----------------------------------------------------------------------------

    def passage(self, chunk: int) -> tuple[Document, int, int]:
        """The document a passage comes from and its ``[start, end)`` in that document."""
        row, start, end = self.chunks[chunk].tolist()
        return self.documents[row], start, end

    def sentence_rows(self, chunk: int) -> npt.NDArray[np.int64]:
        """Rows of the sentences that overlap passage `chunk`, in document order."""
        return np.arange(self._sentence_lo[chunk], self._sentence_hi[chunk], dtype=np.int64)

    # -- vectors ------------------------------------------------------------------------

    def dense_search(
        self, vector: np.ndarray, k: int, allowed: Allowed | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The `k` passages nearest to `vector` (cosine) among the allowed ones, best first."""
        return dense.masked_search(self.data.passages, vector, k, self.passage_mask(allowed))

    def passage_vectors(self, chunks: np.ndarray) -> npt.NDArray[np.float32]:
        """The stored vectors of `chunks` (read from the FAISS index: there is no other copy)."""
        if not len(chunks):
            return np.empty((0, self.dim), dtype=np.float32)
        return np.asarray(
            self.data.passages.reconstruct_batch(np.asarray(chunks, dtype=np.int64)),
            dtype=np.float32,
        )

    def sentence_similarity(
        self, rows: npt.NDArray[np.int64], vector: np.ndarray
    ) -> npt.NDArray[np.float32]:
        """Cosine of `vector` with the sentences `rows` (only those rows are read)."""
        if not len(rows):
            return np.empty(0, dtype=np.float32)
        return np.asarray(self.data.sentence_rows(rows) @ vector, dtype=np.float32)

    # -- lexical --------------------------------------------------------------------------

    def lexical_scores(self, query: str, allowed: Allowed | None) -> npt.NDArray[np.float32]:
        """BM25 score of every passage for `query`; 0 for passages the query may not see."""
        if not query:
            return np.zeros(self.n_passages, dtype=np.float32)
        scores = self.bm25.scores(query)
        mask = self.passage_mask(allowed)
        return scores if mask is None else np.where(mask, scores, np.float32(0.0))

    def vocabulary_hit(self, text: str) -> float:
        """Share of the tokens of `text` the BM25 vocabulary knows (0..1)."""
        return self.bm25.vocabulary_hit(text)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        return self.bm25.idf(tokens)

    # -- restriction ----------------------------------------------------------------------

    def passage_mask(self, allowed: Allowed | None) -> npt.NDArray[np.bool_] | None:
        """One bool per passage (its document is allowed), or None for no restriction."""
        if allowed is None:
            return None
        if len(allowed.documents) != len(self.documents):
            raise ValueError(
                f"restriction covers {len(allowed.documents)} documents, "
                f"the index has {len(self.documents)}"
            )
        return np.asarray(allowed.documents, dtype=np.bool_)[self.chunks[:, 0]]
