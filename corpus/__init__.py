"""The corpus: source files and the code that turns them into clean, citable documents."""

from corpus.documents import Document, LoadProblem

__all__ = ["Document", "LoadProblem"]
