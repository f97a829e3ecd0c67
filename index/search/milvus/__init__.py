"""The Milvus backend: passages and sentences with their vectors, and the BM25 text, in Milvus
(`client`, `keys`, `filters`, `collections`, `view`).

`RAGQA_BACKEND=milvus` keeps the index in Milvus instead of the FAISS + bm25s directory; the
ranking pipeline above it is the same code (`index.rank.pipeline` reads a `MilvusView`, an
`IndexView` whose candidate searches and vector reads go to Milvus). `RAGQA_MILVUS_URI`
names the engine: a file path ending in ``.db`` is milvus-lite (embedded, in this process),
``http://host:19530`` a Milvus standalone or cluster, with `RAGQA_MILVUS_TOKEN` if it asks
for one. Every call carries a bounded timeout and any failure to reach Milvus is raised as
`BackendUnavailableError` (the service answers 503), never a hang or a 500.

Two Milvus collections, ``<prefix>_passages`` and ``<prefix>_sentences``:

    passages   key (INT64 primary), doc_id, collection, published (nullable), source,
               char_start, char_end, metadata (JSON), text (the title and passage's BM25
               tokens as opaque words, `bm25_words`, analysed by ``{"tokenizer": "standard"}``),
               sparse (the BM25 vector Milvus computes from text: ``Function(BM25)``),
               vector (the passage embedding, inner product = cosine)
    sentences  key, doc_id, char_start, char_end, vector

A row's key is a hash of its document's content (text, title, date, source, collection,
metadata) and its span, so a replaced document gets new keys and `sync` makes Milvus hold
exactly the live rows of a view: it deletes the keys no live row has and inserts the
missing ones (deletes and replacements are done by Milvus, by primary key). `sync` is
idempotent, so a write that failed half-way is finished by running it again (the library
retries it, the start-up check runs it, `ragqa index verify` runs it). A row Milvus returns
that the view does not know (written by a newer replica, or left by a failed write) is
never served.

Collections and filters become Milvus filter expressions (`filter_expression`); sentence
evidence is read only for the candidate passages, by a filter on their sentences' keys.
"""

from index.search.milvus.client import (
    CALL_ATTEMPTS,
    DEFAULT_PREFIX,
    DEFAULT_TIMEOUT_S,
    MilvusSettings,
    check_uri,
    connect,
)
from index.search.milvus.collections import MilvusIndex, SyncReport
from index.search.milvus.filters import filter_expression, quote
from index.search.milvus.keys import document_version, row_keys
from index.search.milvus.view import MilvusView

__all__ = [
    "CALL_ATTEMPTS",
    "DEFAULT_PREFIX",
    "DEFAULT_TIMEOUT_S",
    "MilvusIndex",
    "MilvusSettings",
    "MilvusView",
    "SyncReport",
    "check_uri",
    "connect",
    "document_version",
    "filter_expression",
    "quote",
    "row_keys",
]
