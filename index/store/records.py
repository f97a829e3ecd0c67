"""What the document store holds, apart from SQL: its rows as values and the rules they follow.

`StoredDocument` (one document's row), `CollectionInfo`, `LiveRow` (where a live document sits
in the index) and `SegmentInfo`; the collection-name rule (`check_collection_name`, stated as
one regex in `COLLECTION_PATTERN`), `content_sha256` (equal hashes need no re-embedding) and
`now` (the store's timestamps). The SQL tables and `DocStore` are `index.store.docstore`.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from corpus.documents import Document

MAX_COLLECTION_CHARS = 64
MAX_DOC_ID_CHARS = 200
"""The longest document id, in characters (the width of the store's key column)."""
NOT_IN_NAMES = (
    r"/\\,\x00-\x1f\x7f-\xa0\xad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f"
    r"\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ue000-\uf8ff\ufdd0-\ufdef"
    r"\ufe00-\ufe0f\ufeff\uffa0\ufff0-\uffff"
    "\U000e0000-\U000e0fff"  # tag characters and variation selectors: as characters
)
"""What a collection name never holds (a regex class body): '/', '\\' and ',' (a name is a
path segment and `collections=a,b` splits on commas), control characters, every space but
U+0020, and the invisible or direction-changing characters that make two different names
look alike (zero-width and joiner characters, bidi controls, fillers, variation selectors,
private use)."""
COLLECTION_PATTERN = (
    rf"^(?! )(?!.* $)(?!\.$)(?!.*\.\.)[^{NOT_IN_NAMES}]{{1,{MAX_COLLECTION_CHARS}}}$"
)
"""The whole rule as one regex, stated as such in the OpenAPI schema: 1 to 64 characters of
any script (letters, digits, punctuation, symbols, U+0020 spaces inside), none of
NOT_IN_NAMES, not '.', no '..'."""
_BAD_NAME = re.compile(f"[{NOT_IN_NAMES}]")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def check_collection_name(name: str) -> str:
    """The name, or ValueError saying what is wrong with it."""
    if not name or not name.strip():
        raise ValueError("must not be empty")
    if len(name) > MAX_COLLECTION_CHARS:
        raise ValueError(f"must be at most {MAX_COLLECTION_CHARS} characters")
    bad = _BAD_NAME.search(name)
    if bad is not None:
        char = bad.group()
        shown = repr(char) if char.isprintable() and char != " " else ""
        what = f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"
        raise ValueError(
            f"must not contain {shown or what} (at character {bad.start()}): names may not "
            "hold '/', '\\\\', ',', control characters, spaces other than U+0020, or "
            "invisible and bidi-control characters"
        )
    if ".." in name or name.startswith(" ") or name.endswith(" ") or name == ".":
        raise ValueError("must not be '.' or contain '..' or start or end with a space")
    return name


def content_sha256(fields: Mapping[str, Any]) -> str:
    """sha256 of a document's content (canonical JSON): equal hashes need no re-embedding."""
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredDocument:
    """One row of the store."""

    doc_id: str
    collection: str
    title: str
    text: str
    published: str | None
    url: str | None
    source: str
    sha256: str
    metadata: dict[str, str] = field(default_factory=dict)
    passages: tuple[tuple[int, int], ...] | None = None
    """Pre-chunked passage spans, kept as given (None: chunked by the index)."""
    origin: str = "api"
    """"corpus" for the bundled articles imported at first start, "api" for the rest."""
    segment: str = ""
    segment_row: int = 0
    added_at: str = ""
    updated_at: str = ""

    @classmethod
    def of(
        cls,
        doc: Document,
        *,
        collection: str,
        sha256: str,
        segment: str,
        segment_row: int,
        stamp: str,
        **stored: Any,
    ) -> StoredDocument:
        """The row of a document written at `stamp` as row `segment_row` of `segment`
        (`stored`: the other fields, e.g. metadata, origin, an earlier added_at)."""
        return cls(
            doc_id=doc.doc_id,
            collection=collection,
            title=doc.title,
            text=doc.text,
            published=doc.published,
            url=doc.url,
            source=doc.source,
            sha256=sha256,
            segment=segment,
            segment_row=segment_row,
            **{"added_at": stamp, "updated_at": stamp, **stored},
        )


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    documents: int
    created_at: str


@dataclass(frozen=True)
class LiveRow:
    """Where one live document sits in the index."""

    segment: str
    segment_row: int
    doc_id: str
    collection: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class SegmentInfo:
    name: str
    position: int
    n_documents: int
    n_chunks: int
