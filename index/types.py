"""The nouns of retrieval: chunks in the index, passages and answers returned to callers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """A contiguous slice ``[char_start, char_end)`` of one document's cleaned text."""

    doc_id: str
    char_start: int
    char_end: int
    text: str


@dataclass(frozen=True)
class Span:
    """A half-open character range inside a document's text."""

    char_start: int
    char_end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its citation; `highlight` is the answer span when it lies here."""

    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int
    char_end: int
    highlight: Span | None = None


@dataclass(frozen=True)
class Answer:
    """The shortest verbatim span that answers the question, with its citation."""

    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int
    char_end: int
    passage_rank: int
    score: float


@dataclass(frozen=True)
class AskResult:
    """What one question yields: an answer (or None when the corpus does not say) and passages."""

    question: str
    answer: Answer | None
    passages: list[Passage]
    took_ms: float


@dataclass(frozen=True)
class Filters:
    """Which documents a query may return; None/empty fields do not filter."""

    published_from: str | None = None  # ISO date "YYYY-MM-DD", inclusive
    published_to: str | None = None  # ISO date, inclusive
    sources: tuple[str, ...] = ()  # exact source names; any of them
    metadata: tuple[tuple[str, str], ...] = ()  # every (key, value) must equal


@dataclass(frozen=True)
class DocumentSummary:
    """A document as listed by the API, without its text."""

    doc_id: str
    title: str
    source: str
    published: str | None
    n_chars: int
    n_passages: int
    collection: str = "default"
