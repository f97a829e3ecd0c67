"""The nouns of retrieval: chunks in the index, passages and answers returned to callers, the
citation they share, and the restriction a query runs under."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from corpus.documents import Document
from corpus.newsmeta import NewsMeta


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
class Alias:
    """Another outlet's copy of a stored document (a reprint, `index.dedup`): kept with its
    own id, source, URL, title and date, but not indexed again; citations of the document
    name it as well."""

    alias_id: str
    source: str
    url: str | None
    title: str
    published: str | None
    added_at: str


@dataclass(frozen=True)
class Citation:
    """Where a quoted text comes from: the document, its title, source and date, and the
    half-open character range ``[char_start, char_end)`` of the quote in the document's text;
    the byline, reporters, paper, page and place where the page states them.

    One type for passages, answers and documents (a document cites its whole text)."""

    doc_id: str
    title: str
    source: str
    published: str | None
    char_start: int
    char_end: int
    news: NewsMeta = field(default_factory=NewsMeta)


def cite(doc: Document, start: int, end: int, news: NewsMeta | None = None) -> Citation:
    """The citation of `doc.text[start:end]`; `news` defaults to the document's metadata's."""
    if news is None:
        news = NewsMeta.from_metadata(doc.metadata)
    return Citation(doc.doc_id, doc.title, doc.source, doc.published, start, end, news)


class _Cited:
    """Read access to the citation's fields on the object itself (`passage.doc_id`), which is
    how the HTTP edge and the CLI print them: flat, as in API.md."""

    citation: Citation

    @property
    def doc_id(self) -> str:
        return self.citation.doc_id

    @property
    def title(self) -> str:
        return self.citation.title

    @property
    def source(self) -> str:
        return self.citation.source

    @property
    def published(self) -> str | None:
        return self.citation.published

    @property
    def char_start(self) -> int:
        return self.citation.char_start

    @property
    def byline(self) -> str | None:
        return self.citation.news.byline

    @property
    def reporters(self) -> tuple[str, ...]:
        return self.citation.news.reporters

    @property
    def newspaper(self) -> str | None:
        return self.citation.news.newspaper

    @property
    def paper_page(self) -> str | None:
        return self.citation.news.paper_page

    @property
    def place(self) -> str | None:
        return self.citation.news.place

    @property
    def char_end(self) -> int:
        return self.citation.char_end


@dataclass(frozen=True)
class Passage(_Cited):
    """A retrieved chunk with its citation; `highlight` is the answer span when it lies here."""

    rank: int
    score: float
    text: str
    citation: Citation
    highlight: Span | None = None


@dataclass(frozen=True)
class Answer(_Cited):
    """The shortest verbatim span that answers the question, with its citation."""

    text: str
    citation: Citation
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
class DocumentSummary(_Cited):
    """A document as listed by the API, without its text; its citation spans the whole text."""

    citation: Citation
    n_passages: int
    collection: str = "default"

    @property
    def n_chars(self) -> int:
        return self.citation.char_end - self.citation.char_start


@dataclass(frozen=True)
class Allowed:
    """Which documents a query may see (its collections, filters, minus deleted documents).

    A boolean mask over the document rows of the index being queried. The candidate stage
    applies it before anything is ranked, so a filtered query never sees another document,
    and a mask with no True gives no passages and no answer. None where a restriction is
    expected means every document.
    """

    documents: npt.NDArray[np.bool_]
    where: tuple[tuple[str, ...] | None, Filters | None] | None = None
    """The collections and filters the mask was made from, when it was made from them alone
    (deleted documents aside): a backend that filters by expression (Milvus) uses them."""

    @classmethod
    def only(cls, n_documents: int, rows: Iterable[int]) -> Allowed:
        """Exactly the document `rows` of an index of `n_documents`."""
        mask = np.zeros(n_documents, dtype=np.bool_)
        mask[list(rows)] = True
        return cls(mask)


@dataclass(frozen=True)
class Filters:
    """Which documents a query may return; None/empty fields do not filter."""

    published_from: str | None = None  # ISO date "YYYY-MM-DD", inclusive
    published_to: str | None = None  # ISO date, inclusive
    sources: tuple[str, ...] = ()  # exact source names; any of them
    metadata: tuple[tuple[str, str], ...] = ()  # every (key, value) must equal
    # The news fields (`corpus.newsmeta`): each, any of its values; reporters: any of the
    # document's reporters.
    reporters: tuple[str, ...] = ()
    newspapers: tuple[str, ...] = ()
    paper_pages: tuple[str, ...] = ()  # without leading zeros: "7"
    places: tuple[str, ...] = ()
