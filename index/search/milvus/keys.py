"""Row keys: a hash of a document's content and a span, so a replaced document gets new keys
and a sync deletes and inserts by primary key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from corpus.documents import Document
from index.search.milvus.client import _KEY_MASK


def document_version(document: Document, collection: str, metadata: Mapping[str, str]) -> str:
    """A hash of everything about a document that Milvus stores or filters on."""
    payload = json.dumps(
        [
            document.doc_id,
            document.title,
            document.text,
            document.published,
            document.source,
            collection,
            sorted(metadata.items()),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _key(kind: str, version: str, start: int, end: int) -> int:
    digest = hashlib.blake2b(f"{kind}\x1f{version}\x1f{start}\x1f{end}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") & _KEY_MASK


def row_keys(spans: np.ndarray, versions: Sequence[str], kind: str) -> npt.NDArray[np.int64]:
    """The Milvus key of every span (document row, char_start, char_end)."""
    return np.fromiter(
        (_key(kind, versions[r], a, b) for r, a, b in spans.tolist()),
        dtype=np.int64,
        count=len(spans),
    )
