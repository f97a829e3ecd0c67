"""The nouns of the corpus: a cleaned article (`Document`), one article as a format reader
found it (`Parsed`) and a reported input problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from corpus.cleaning import Article


@dataclass(frozen=True)
class Document:
    """One article, cleaned. Every offset the API returns points into `text`."""

    doc_id: str
    """Stable id derived from the source file and the article's position in it."""
    title: str
    source: str
    """The file name the article came from, e.g. ``000_0ad1dae646fc90f2.txt``."""
    published: str | None
    """ISO date ``YYYY-MM-DD`` when the article states one, else None."""
    text: str
    url: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    """What the format adds (a PDF's ``page`` and ``layout``: see `corpus.pdf`)."""


@dataclass(frozen=True)
class Parsed:
    """One article read from a file, with its position there (used in the document id)."""

    position: int
    article: Article
    url: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Format-specific fields kept with the document (strings, as store metadata is)."""


@dataclass(frozen=True)
class LoadProblem:
    """A file (or one line of it) that could not be loaded; reported and skipped."""

    source: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"
