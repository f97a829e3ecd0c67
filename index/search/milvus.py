"""The Milvus backend: passages and sentences with their vectors, and the BM25 text, in Milvus.

`RAGQA_BACKEND=milvus` keeps the index in Milvus instead of the FAISS + bm25s directory; the
ranking pipeline above it is the same code (`index.rank.pipeline` reads a `MilvusView`, an
`IndexView` whose candidate searches and vector reads go to Milvus). `RAGQA_MILVUS_URI`
names the engine: a file path ending in ``.db`` is milvus-lite (embedded, in this process),
``http://host:19530`` a Milvus standalone or cluster, with `RAGQA_MILVUS_TOKEN` if it asks
for one. Every call carries a bounded timeout and any failure to reach Milvus is raised as
`BackendUnavailableError` (the service answers 503), never a hang or a 500.

Two Milvus collections, ``<prefix>_passages`` and ``<prefix>_sentences``:

    passages   key (INT64 primary), doc_id, collection, published (nullable), source,
               char_start, char_end, metadata (JSON), text (VARCHAR analysed by
               ``{"tokenizer": "jieba"}``, the title and the passage as BM25 reads them),
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

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from corpus.documents import Document
from index.errors import BackendConfigError, BackendUnavailableError, IndexMismatchError
from index.search.filters import Catalog
from index.search.view import IndexView
from index.store.build import passage_text_for_embedding
from index.store.files import IndexData
from index.text.tokenize import STOPWORDS, normalize
from index.types import Allowed, Filters

DEFAULT_PREFIX = "ragqa"
DEFAULT_TIMEOUT_S = 10.0
BATCH_ROWS = 256
"""Rows per insert call (a passage row with its vector and text is a few KB)."""
MAX_TEXT_BYTES = 65535
"""Milvus' VARCHAR limit; the BM25 text of a passage is cut to it (UTF-8 bytes)."""
MAX_IN_LIST = 16384
"""More keys than this in one `in [...]` filter are sent in several queries."""
_KEY_MASK = (1 << 63) - 1
CALL_ATTEMPTS = 2
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 310_000, "grpc.keepalive_permit_without_calls": 0}
"""Keep-alive pings no more often than a gRPC server accepts by default (every 5 minutes, and
not on an idle channel): pymilvus pings every 10 s, which milvus-lite's server (Python gRPC
defaults) answers with GOAWAY "too_many_pings", dropping the channel. A Milvus server accepts
either; every call has its own timeout, so a dead peer is still noticed at once."""

PUNCTUATION = tuple("，。、；：？！…—·「」『』（）《》〈〉【】“”‘’,.;:?!()[]{}<>\"'-_/\\|%~`")
ANALYZER: dict[str, Any] = {
    "tokenizer": "jieba",
    "filter": [
        "removepunct",
        {"type": "stop", "stop_words": sorted(STOPWORDS | set(PUNCTUATION))},
    ],
}
"""The BM25 analyzer: jieba (search mode in milvus-lite), without the stop words and the
punctuation `index.text.tokenize` drops. milvus-lite ignores the named "removepunct" filter (its
stop list covers punctuation); Milvus applies both."""


@dataclass(frozen=True)
class MilvusSettings:
    """Where the Milvus backend is and how long a call may take."""

    uri: str
    token: str = ""
    prefix: str = DEFAULT_PREFIX
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def is_lite(self) -> bool:
        return not self.uri.startswith(("http://", "https://", "tcp://", "unix:"))


def check_uri(uri: str) -> None:
    """Raise BackendConfigError (naming RAGQA_MILVUS_URI) for a URI Milvus cannot use."""
    if not uri:
        raise BackendConfigError(
            "RAGQA_MILVUS_URI is not set: give a file path ending in .db (milvus-lite) or "
            "http://host:19530 (a Milvus server)"
        )
    if uri.startswith(("http://", "https://")):
        return
    if "://" in uri:
        raise BackendConfigError(
            f"RAGQA_MILVUS_URI={uri!r}: use http://host:port or https://host:port for a Milvus "
            "server, or a file path ending in .db for milvus-lite"
        )
    if not uri.endswith(".db"):
        raise BackendConfigError(
            f"RAGQA_MILVUS_URI={uri!r}: a milvus-lite file path must end in .db"
        )


T = TypeVar("T")


def _call(
    what: str, settings: MilvusSettings, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run one Milvus call; any failure to reach or use Milvus becomes BackendUnavailableError.

    Every call made here is idempotent (searches, reads, upserts and deletes by key), so a
    failed one is tried once more: a gRPC channel that the server reset (a GOAWAY) is
    reconnected by then. The worst case is two timeouts."""
    for attempt in range(CALL_ATTEMPTS):
        try:
            return fn(*args, **kwargs)
        except (BackendUnavailableError, BackendConfigError, IndexMismatchError):
            raise
        except Exception as exc:  # pymilvus raises MilvusException and grpc errors alike
            if attempt + 1 < CALL_ATTEMPTS:
                time.sleep(0.1)
                continue
            raise BackendUnavailableError(
                f"Milvus at {settings.uri} failed to {what}: {_short(exc)}"
            ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


def connect(settings: MilvusSettings) -> Any:
    """A `pymilvus.MilvusClient` for `settings` (milvus-lite for a .db path)."""
    check_uri(settings.uri)
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # pragma: no cover - installed by scripts/setup
        raise BackendConfigError(
            "RAGQA_BACKEND=milvus needs pymilvus and milvus-lite: pip install 'ragqa[milvus]'"
        ) from exc
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    uri = settings.uri
    if settings.is_lite:
        Path(uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        uri = str(Path(uri).expanduser().resolve())
    try:
        return MilvusClient(
            uri=uri, token=settings.token, timeout=settings.timeout_s, grpc_options=GRPC_OPTIONS
        )
    except Exception as exc:
        raise BackendUnavailableError(
            f"cannot reach Milvus at RAGQA_MILVUS_URI={settings.uri!r}: {_short(exc)}"
        ) from exc


# -- keys ------------------------------------------------------------------------------------


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


# -- filters ---------------------------------------------------------------------------------


def quote(value: str) -> str:
    """A Milvus string literal."""
    return json.dumps(value, ensure_ascii=False)


def filter_expression(collections: Sequence[str] | None, filters: Filters | None) -> str:
    """The Milvus filter expression of a query's collections and filters ("" = no filter).

    The same rows as `index.search.filters.allowed_documents`: a document without a date never
    matches a date filter (a comparison with null is false in Milvus)."""
    parts: list[str] = []
    if collections is not None:
        parts.append(f"collection in [{', '.join(quote(c) for c in collections)}]")
    if filters is not None:
        if filters.published_from is not None:
            parts.append(f"published >= {quote(filters.published_from)}")
        if filters.published_to is not None:
            parts.append(f"published <= {quote(filters.published_to)}")
        if filters.sources:
            parts.append(f"source in [{', '.join(quote(s) for s in filters.sources)}]")
        for key, value in filters.metadata:
            parts.append(f"metadata[{quote(key)}] == {quote(value)}")
    return " and ".join(f"({p})" for p in parts)


def _in_list(field: str, values: Iterable[str | int], negate: bool = False) -> str:
    items = ", ".join(quote(v) if isinstance(v, str) else str(int(v)) for v in values)
    return f"{field} {'not in' if negate else 'in'} [{items}]"


# -- the engine's two collections -----------------------------------------------------------


@dataclass(frozen=True)
class SyncReport:
    """What `sync` changed (or, for `check`, would change) in Milvus."""

    passages_added: int
    passages_removed: int
    sentences_added: int
    sentences_removed: int

    @property
    def agreed(self) -> bool:
        return not (
            self.passages_added
            or self.passages_removed
            or self.sentences_added
            or self.sentences_removed
        )

    def describe(self) -> str:
        if self.agreed:
            return "Milvus agrees with the store"
        return (
            f"passages +{self.passages_added} -{self.passages_removed}, "
            f"sentences +{self.sentences_added} -{self.sentences_removed}"
        )


class MilvusIndex:
    """The two Milvus collections of one ragqa index, and the calls the view makes."""

    def __init__(self, settings: MilvusSettings, dim: int, client: Any | None = None) -> None:
        self.settings = settings
        self.dim = dim
        self.client = client if client is not None else connect(settings)
        self.passages = f"{settings.prefix}_passages"
        self.sentences = f"{settings.prefix}_sentences"
        self._write_lock = threading.Lock()
        self.ensure()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a client whose server is gone closes anyway
            self.client.close()

    # -- schema ------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the collections if missing; refuse ones made with another dimension."""
        for name in (self.passages, self.sentences):
            exists = _call("list collections", self.settings, self.client.has_collection, name)
            if exists:
                self._check_dim(name)
            else:
                _call("create a collection", self.settings, self._create, name)
            _call("load a collection", self.settings, self.client.load_collection, name)

    def _check_dim(self, name: str) -> None:
        info = _call(
            "describe a collection",
            self.settings,
            lambda: self.client.describe_collection(name, timeout=self.settings.timeout_s),
        )
        for field in info.get("fields", []):
            if field.get("name") == "vector":
                dim = int(field.get("params", {}).get("dim", 0))
                if dim != self.dim:
                    raise IndexMismatchError(
                        f"the Milvus collection {name!r} at RAGQA_MILVUS_URI={self.settings.uri!r} "
                        f"holds {dim}-dimensional vectors, the model gives {self.dim}: drop it, "
                        "or set RAGQA_MILVUS_PREFIX to another name"
                    )

    def _create(self, name: str) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("char_start", DataType.INT64)
        schema.add_field("char_end", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        if name == self.passages:
            schema.add_field("collection", DataType.VARCHAR, max_length=256)
            schema.add_field("published", DataType.VARCHAR, max_length=32, nullable=True)
            schema.add_field("source", DataType.VARCHAR, max_length=1024)
            schema.add_field("metadata", DataType.JSON)
            schema.add_field(
                "text",
                DataType.VARCHAR,
                max_length=MAX_TEXT_BYTES,
                enable_analyzer=True,
                analyzer_params=ANALYZER,
            )
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["text"],
                    output_field_names=["sparse"],
                )
            )
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(
            name, schema=schema, index_params=index, timeout=self.settings.timeout_s
        )

    def drop(self) -> None:
        for name in (self.passages, self.sentences):
            _call("drop a collection", self.settings, self.client.drop_collection, name)

    # -- writing -----------------------------------------------------------------------------

    def stored_keys(self, name: str) -> set[int]:
        """Every key of collection `name` (paged)."""

        def read() -> set[int]:
            keys: set[int] = set()
            iterator = self.client.query_iterator(
                name,
                batch_size=4096,
                filter="",
                output_fields=["key"],
                timeout=self.settings.timeout_s,
            )
            try:
                while True:
                    page = iterator.next()
                    if not page:
                        break
                    keys.update(int(row["key"]) for row in page)
            finally:
                iterator.close()
            return keys

        return _call("read keys", self.settings, read)

    def check(self, view: MilvusView) -> SyncReport:
        """How Milvus differs from the live rows of `view` (nothing is changed)."""
        p_want, s_want = view.live_keys()
        p_have, s_have = self.stored_keys(self.passages), self.stored_keys(self.sentences)
        return SyncReport(
            len(p_want - p_have), len(p_have - p_want), len(s_want - s_have), len(s_have - s_want)
        )

    def sync(self, view: MilvusView) -> SyncReport:
        """Make Milvus hold exactly the live rows of `view`: insert what is missing, delete
        what no live row has. Idempotent: run again after a failure, it finishes the job."""
        with self._write_lock:
            p_want, s_want = view.live_keys()
            p_have, s_have = self.stored_keys(self.passages), self.stored_keys(self.sentences)
            p_add, s_add = p_want - p_have, s_want - s_have
            p_del, s_del = p_have - p_want, s_have - s_want
            self._insert(self.passages, view.passage_rows_for(p_add))
            self._insert(self.sentences, view.sentence_rows_for(s_add))
            self._delete(self.passages, p_del)
            self._delete(self.sentences, s_del)
            if p_add or s_add or p_del or s_del:
                _call("flush", self.settings, lambda: self.client.flush(self.passages))
                _call("flush", self.settings, lambda: self.client.flush(self.sentences))
            return SyncReport(len(p_add), len(p_del), len(s_add), len(s_del))

    def _insert(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                self._insert_batch(name, batch)
                batch = []
        if batch:
            self._insert_batch(name, batch)

    def _insert_batch(self, name: str, batch: list[dict[str, Any]]) -> None:
        _call(
            "insert rows",
            self.settings,
            lambda: self.client.upsert(name, batch, timeout=self.settings.timeout_s),
        )

    def _delete(self, name: str, keys: set[int]) -> None:
        ordered = sorted(keys)
        for i in range(0, len(ordered), MAX_IN_LIST):
            part = ordered[i : i + MAX_IN_LIST]
            _call(
                "delete rows",
                self.settings,
                self.client.delete,
                name,
                ids=part,
                timeout=self.settings.timeout_s,
            )

    # -- reading -----------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, k: int, where: str) -> list[tuple[int, float, np.ndarray]]:
        """The `k` nearest passages (inner product) matching `where`, best first: key, score
        and the passage's vector (read in the same call, for the re-ordering that follows)."""
        hits = _call(
            "search passages",
            self.settings,
            lambda: self.client.search(
                self.passages,
                data=[np.asarray(vector, dtype=np.float32).tolist()],
                anns_field="vector",
                limit=k,
                filter=where,
                output_fields=["key", "vector"],
                search_params={"metric_type": "IP"},
                timeout=self.settings.timeout_s,
            ),
        )
        return [
            (
                int(h["entity"]["key"]),
                float(h["distance"]),
                np.asarray(h["entity"]["vector"], dtype=np.float32),
            )
            for h in hits[0]
        ]

    def lexical(self, text: str, k: int, where: str) -> list[tuple[int, float]]:
        """The `k` best BM25 passages for `text` matching `where`: (key, score) best first.

        milvus-lite reports BM25 as a negated distance, Milvus as a positive score: the
        magnitude is the BM25 score either way."""
        hits = _call(
            "search passages by BM25",
            self.settings,
            lambda: self.client.search(
                self.passages,
                data=[text],
                anns_field="sparse",
                limit=k,
                filter=where,
                output_fields=["key"],
                search_params={"metric_type": "BM25"},
                timeout=self.settings.timeout_s,
            ),
        )
        return [(int(h["entity"]["key"]), abs(float(h["distance"]))) for h in hits[0]]

    def vectors(self, name: str, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of `keys` in collection `name` (those it holds)."""
        found: dict[int, np.ndarray] = {}
        for i in range(0, len(keys), MAX_IN_LIST):
            part = list(keys[i : i + MAX_IN_LIST])
            rows = _call(
                "read vectors",
                self.settings,
                self.client.query,
                name,
                filter=_in_list("key", part),
                output_fields=["key", "vector"],
                limit=len(part),
                timeout=self.settings.timeout_s,
            )
            for row in rows:
                found[int(row["key"])] = np.asarray(row["vector"], dtype=np.float32)
        return found

    def similarities(self, name: str, keys: Sequence[int], vector: np.ndarray) -> dict[int, float]:
        """Inner product of `vector` with the rows `keys` of collection `name`, computed by
        Milvus (a search restricted to those keys: no vector leaves the server)."""
        found: dict[int, float] = {}
        query = [np.asarray(vector, dtype=np.float32).tolist()]
        for i in range(0, len(keys), MAX_IN_LIST):
            part = list(keys[i : i + MAX_IN_LIST])
            hits = _call(
                "score sentences",
                self.settings,
                self.client.search,
                name,
                data=query,
                anns_field="vector",
                filter=_in_list("key", part),
                limit=len(part),
                output_fields=["key"],
                search_params={"metric_type": "IP"},
                timeout=self.settings.timeout_s,
            )
            for hit in hits[0]:
                found[int(hit["entity"]["key"])] = float(hit["distance"])
        return found

    def count(self, name: str, where: str = "") -> int:
        rows = _call(
            "count rows",
            self.settings,
            lambda: self.client.query(
                name, filter=where, output_fields=["count(*)"], timeout=self.settings.timeout_s
            ),
        )
        return int(rows[0]["count(*)"]) if rows else 0

    def ping(self) -> None:
        """Raise BackendUnavailableError unless Milvus answers now."""
        _call("answer", self.settings, lambda: self.client.has_collection(self.passages))


# -- the view ------------------------------------------------------------------------------


class MilvusView(IndexView):
    """An `IndexView` whose candidates, vectors and BM25 scores come from Milvus.

    Spans, documents and the BM25 vocabulary statistics the query reader uses (`idf`,
    `vocabulary_hit`, the pinyin bridge) are read from the view's `IndexData` as before;
    the dense search, the passage and sentence vectors and the BM25 ranking are Milvus'.
    """

    def __init__(
        self,
        data: IndexData,
        milvus: MilvusIndex,
        catalog: Catalog | None = None,
        *,
        lexical_limit: int = 100,
    ) -> None:
        super().__init__(data)
        self.milvus = milvus
        self.catalog = catalog if catalog is not None else Catalog.single(len(data.documents))
        self.lexical_limit = lexical_limit
        self.versions = [
            document_version(d, c, m)
            for d, c, m in zip(
                data.documents, self.catalog.collections, self.catalog.metadata, strict=True
            )
        ]
        self.passage_keys = row_keys(data.chunks, self.versions, "p")
        self.sentence_keys = row_keys(data.sentences, self.versions, "s")
        self._passage_row = {int(k): i for i, k in enumerate(self.passage_keys.tolist())}
        self._doc_ids = [d.doc_id for d in data.documents]
        self._recent = threading.local()
        """The vectors the last dense search of this thread returned (read once, used next)."""

    # -- what Milvus should hold -------------------------------------------------------------

    def live_keys(self) -> tuple[set[int], set[int]]:
        alive = self.catalog.alive
        p = self.passage_keys[alive[self.chunks[:, 0]]] if len(self.chunks) else self.passage_keys
        s = (
            self.sentence_keys[alive[self.sentences[:, 0]]]
            if len(self.sentences)
            else self.sentence_keys
        )
        return set(p.tolist()), set(s.tolist())

    def passage_rows_for(self, keys: set[int]) -> Iterable[dict[str, Any]]:
        rows = [i for i, k in enumerate(self.passage_keys.tolist()) if k in keys]
        for start in range(0, len(rows), BATCH_ROWS):
            part = rows[start : start + BATCH_ROWS]
            vectors = IndexView.passage_vectors(self, np.asarray(part, dtype=np.int64))
            for i, vector in zip(part, vectors, strict=True):
                r, a, b = self.chunks[i].tolist()
                doc = self.documents[r]
                text = normalize(passage_text_for_embedding(doc, a, b, True))
                yield {
                    "key": int(self.passage_keys[i]),
                    "doc_id": doc.doc_id,
                    "char_start": a,
                    "char_end": b,
                    "vector": vector.tolist(),
                    "collection": self.catalog.collections[r],
                    "published": doc.published,
                    "source": doc.source or "",
                    "metadata": dict(self.catalog.metadata[r]),
                    "text": _cut_utf8(text, MAX_TEXT_BYTES),
                }

    def sentence_rows_for(self, keys: set[int]) -> Iterable[dict[str, Any]]:
        for i, k in enumerate(self.sentence_keys.tolist()):
            if k in keys:
                r, a, b = self.sentences[i].tolist()
                yield {
                    "key": int(k),
                    "doc_id": self.documents[r].doc_id,
                    "char_start": a,
                    "char_end": b,
                    "vector": self.data.sentence_rows(np.array([i]))[0].tolist(),
                }

    # -- the restriction as a filter ---------------------------------------------------------

    def where(self, allowed: Allowed | None) -> str | None:
        """The Milvus filter of `allowed` ("" = none), or None when nothing is allowed.

        A restriction made from collections and filters becomes their expression
        (`filter_expression`); any other mask becomes the smaller of ``doc_id in [...]`` and
        ``doc_id not in [...]``. Deleted documents are not in Milvus once the view is synced,
        and hits of rows the view does not allow are dropped all the same."""
        if allowed is None:
            return ""
        mask = self.passage_mask(allowed)
        assert mask is not None
        documents = np.asarray(allowed.documents, dtype=bool)
        if not documents.any():
            return None
        if allowed.where is not None:
            return filter_expression(*allowed.where)
        allowed_rows = np.flatnonzero(documents)
        denied_rows = np.flatnonzero(~documents)
        if len(allowed_rows) <= len(denied_rows):
            return _in_list("doc_id", sorted({self._doc_ids[r] for r in allowed_rows.tolist()}))
        return _in_list(
            "doc_id", sorted({self._doc_ids[r] for r in denied_rows.tolist()}), negate=True
        )

    def _rows(
        self, hits: list[tuple[int, float]], allowed: Allowed | None
    ) -> list[tuple[int, float]]:
        """Hits as (passage row, score) for the rows this view knows and allows."""
        mask = self.passage_mask(allowed)
        found = []
        for key, score in hits:
            row = self._passage_row.get(key)
            if row is None:
                continue
            if mask is not None and not mask[row]:
                continue
            if not self.catalog.alive[self.chunks[row, 0]]:
                continue
            found.append((row, score))
        return found

    # -- what the pipeline calls -------------------------------------------------------------

    def dense_search(
        self, vector: np.ndarray, k: int, allowed: Allowed | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        where = self.where(allowed)
        k = min(k, self.n_passages)
        if where is None or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        hits = self.milvus.dense(vector, k, where)
        self._recent.vectors = {key: v for key, _, v in hits}
        found = self._rows([(key, score) for key, score, _ in hits], allowed)
        return (
            np.array([r for r, _ in found], dtype=np.int64),
            np.array([s for _, s in found], dtype=np.float32),
        )

    def passage_vectors(self, chunks: np.ndarray) -> npt.NDArray[np.float32]:
        if not len(chunks):
            return np.empty((0, self.dim), dtype=np.float32)
        keys = [int(self.passage_keys[c]) for c in np.asarray(chunks).tolist()]
        recent: dict[int, np.ndarray] = getattr(self._recent, "vectors", {})
        found = {k: recent[k] for k in keys if k in recent}
        missing = [k for k in keys if k not in found]
        if missing:
            found.update(self.milvus.vectors(self.milvus.passages, missing))
        return _stack(keys, found, self.dim)

    def sentence_similarity(
        self, rows: npt.NDArray[np.int64], vector: np.ndarray
    ) -> npt.NDArray[np.float32]:
        """Cosine of `vector` with the sentences `rows`, computed by Milvus over a filter on
        their keys (the sentences of the candidate passages, nothing else); a sentence Milvus
        lacks scores 0."""
        if not len(rows):
            return np.empty(0, dtype=np.float32)
        keys = [int(self.sentence_keys[r]) for r in rows.tolist()]
        found = self.milvus.similarities(self.milvus.sentences, keys, vector)
        return np.array([found.get(k, 0.0) for k in keys], dtype=np.float32)

    def lexical_scores(self, query: str, allowed: Allowed | None) -> npt.NDArray[np.float32]:
        """Milvus' BM25 scores of its `lexical_limit` best allowed passages (0 elsewhere):
        fusion reads only the top `depth` of them."""
        scores = np.zeros(self.n_passages, dtype=np.float32)
        text = normalize(query).strip()
        where = self.where(allowed)
        if not text or where is None:
            return scores
        for row, score in self._rows(self.milvus.lexical(text, self.lexical_limit, where), allowed):
            scores[row] = score
        return scores


def _stack(keys: Sequence[int], found: Mapping[int, np.ndarray], dim: int) -> np.ndarray:
    """Vectors in the order of `keys`; a key Milvus lacks gets a zero vector (similarity 0)."""
    out = np.zeros((len(keys), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        vector = found.get(key)
        if vector is not None:
            out[i] = vector
    return out


def _cut_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")
