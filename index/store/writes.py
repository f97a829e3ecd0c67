"""What a write to the library takes and reports: a `NewDocument` as a caller gives it, checked
(`check_document`) and given an id and a source when it has none, and the `WriteReport` of what
was created, replaced, left unchanged or skipped."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from corpus.formats import MAX_ARTICLE_CHARS
from index.errors import InvalidDocumentError
from index.store.docstore import NUL, TEXT_FIELDS, nul_message
from index.store.ingest import locate_passages
from index.store.records import MAX_DOC_ID_CHARS

MAX_TITLE_CHARS = 500


@dataclass(frozen=True)
class NewDocument:
    """A document to store, as a caller gives it."""

    title: str
    text: str
    published: str | None = None
    url: str | None = None
    source: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    passages: tuple[str, ...] | None = None
    """Pre-chunked passages, kept as given (each must occur verbatim in `text`)."""
    doc_id: str | None = None
    """Given by the caller, or derived from the collection and the content."""
    item: str = ""
    """Where it came from, for reports: ``documents[3]``, ``page.html``, ``a.jsonl:4``."""
    origin: str = "api"


@dataclass(frozen=True)
class Skipped:
    item: str
    reason: str


@dataclass(frozen=True)
class Written:
    doc_id: str
    status: str
    """``created``, ``replaced``, ``unchanged`` (same id and content: nothing embedded) or
    ``duplicate`` (a copy of document `doc_id`, stored as its alias `alias_id`)."""
    item: str
    title: str
    alias_id: str | None = None
    """For a duplicate: its own id, under which it is stored as an alias (and deleted)."""
    similarity: float | None = None
    """For a duplicate: the estimated Jaccard similarity to document `doc_id` (0..1)."""


@dataclass(frozen=True)
class WriteReport:
    collection: str
    documents: list[Written]
    skipped: list[Skipped]
    embedded_documents: int


def derived_doc_id(collection: str, sha: str) -> str:
    """Id of a document posted without one: the same content in a collection, the same id."""
    return hashlib.sha256(f"{collection}\n{sha}".encode()).hexdigest()[:20]


def document_fields(doc: NewDocument, source: str) -> dict[str, object]:
    """The stored fields of `doc` (with its `source`)."""
    return {
        "title": doc.title,
        "text": doc.text,
        "published": doc.published,
        "url": doc.url,
        "source": source,
        "metadata": dict(doc.metadata),
        "passages": list(doc.passages) if doc.passages is not None else None,
    }


def default_source(doc: NewDocument, collection: str) -> str:
    """The source of a document that names none: its URL's host, else the collection."""
    if doc.source:
        return doc.source
    if doc.url:
        host = urlparse(doc.url).netloc
        if host:
            return host
    return collection


def check_document(doc: NewDocument) -> None:
    """Raise InvalidDocumentError naming the field of `doc` that cannot be stored."""
    item = doc.item or "document"
    if doc.doc_id is not None and len(doc.doc_id) > MAX_DOC_ID_CHARS:
        raise InvalidDocumentError(
            f"{item}.doc_id", f"must be at most {MAX_DOC_ID_CHARS} characters"
        )
    for name in TEXT_FIELDS:
        value = getattr(doc, name)
        if value is not None and NUL in value:
            raise InvalidDocumentError(f"{item}.{name}", nul_message(value))
    if not doc.title.strip():
        raise InvalidDocumentError(f"{item}.title", "must not be empty")
    if len(doc.title) > MAX_TITLE_CHARS:
        raise InvalidDocumentError(f"{item}.title", f"must be at most {MAX_TITLE_CHARS} characters")
    if not doc.text.strip():
        raise InvalidDocumentError(f"{item}.text", "must not be empty")
    if len(doc.text) > MAX_ARTICLE_CHARS:
        raise InvalidDocumentError(
            f"{item}.text",
            f"{len(doc.text):,} characters long, over the limit of {MAX_ARTICLE_CHARS:,} "
            "(MAX_ARTICLE_CHARS); split it into several articles",
        )
    if doc.passages is not None:
        found = locate_passages(doc.text, doc.passages)
        if isinstance(found, int):
            raise InvalidDocumentError(
                f"{item}.passages[{found}]", "is empty or does not occur verbatim in text"
            )
