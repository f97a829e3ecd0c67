"""The corpus: source files and the code that turns them into clean, citable documents."""

from pathlib import Path

from corpus import paths
from corpus.documents import Document, LoadProblem
from corpus.loader import Corpus, load_corpus

DEFAULT_CORPUS_DIR: Path = paths.CORPUS_DIR
"""The bundled seed articles (``corpus/articles``; defined in `corpus.paths`)."""

__all__ = ["DEFAULT_CORPUS_DIR", "Corpus", "Document", "LoadProblem", "load_corpus"]
