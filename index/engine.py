"""The question-answering engine: a loaded index plus the model, answering `ask` and `search`.

This is the one object the service holds. It is immutable once loaded, so a reload builds a
new engine and swaps the reference; in-flight requests finish on the old one.
"""

from __future__ import annotations

from pathlib import Path

from corpus.documents import Document
from index.types import AskResult, DocumentSummary, Passage


class Retrieved:
    """The first half of `Engine.ask`: ranked passages (no highlight yet) plus what the answer
    step needs. Lets the streaming route send passages before the answer."""

    question: str
    passages: list[Passage]
    took_ms: float


class Engine:
    """Answers questions from one index directory. Load with `Engine.load`."""

    @classmethod
    def load(cls, index_dir: Path, model: str | None = None, embedder: object | None = None) -> Engine:
        """Load the index at `index_dir`; refuse (IndexMismatchError) if `model` differs from
        the model that built it. Raises IndexNotFoundError / IndexCorruptError /
        ModelUnavailableError with a message saying what to do. Pass the `embedder` of a live
        engine to reuse its loaded model on reload."""
        raise NotImplementedError

    def retrieve(self, question: str, top_k: int = 5) -> Retrieved:
        """Hybrid retrieval + re-scoring: the heavy half of `ask` (one encoder pass)."""
        raise NotImplementedError

    def answer(self, retrieved: Retrieved) -> AskResult:
        """Extract the answer span from retrieved passages (cheap, no model call)."""
        raise NotImplementedError

    def ask(self, question: str, top_k: int = 5) -> AskResult:
        """Ranked passages and an extractive answer (None when the corpus does not say)."""
        raise NotImplementedError

    def search(self, query: str, top_k: int = 5) -> list[Passage]:
        """Ranked passages only (no answer extraction)."""
        raise NotImplementedError

    def documents(self) -> list[DocumentSummary]:
        """Every indexed document, in corpus order."""
        raise NotImplementedError

    def document(self, doc_id: str) -> Document:
        """One document with its text; raises DocumentNotFoundError."""
        raise NotImplementedError

    @property
    def n_passages(self) -> int:
        """Number of chunks in the index (for /metrics)."""
        raise NotImplementedError

    @property
    def model_name(self) -> str:
        """The model that built the index (from the manifest)."""
        raise NotImplementedError
