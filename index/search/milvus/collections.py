"""The engine's two Milvus collections (passages, sentences): made, checked against the
model's dimension, kept in step with a view (`sync`, idempotent) and searched."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from index.errors import IndexMismatchError
from index.search.milvus.client import (
    ANALYZER,
    BATCH_ROWS,
    MAX_IN_LIST,
    MAX_TEXT_BYTES,
    MilvusSettings,
    _call,
    connect,
)
from index.search.milvus.filters import _in_list

log = logging.getLogger(__name__)

CONSISTENCY = "Strong"
"""Every read sees every write acknowledged before it, whichever client wrote it. Replicas
share one Milvus and each writes through its own client: with Milvus' default ("Bounded", a
few seconds of staleness) a document another replica just wrote would be missing from
searches for that long, and a sync could miss rows to delete (`index.store.library`)."""


class Syncable(Protocol):
    """What `MilvusIndex.sync` reads of a view (`index.search.milvus.view.MilvusView`)."""

    def live_keys(self) -> tuple[set[int], set[int]]: ...

    def passage_rows_for(self, keys: set[int]) -> Iterable[dict[str, Any]]: ...

    def sentence_rows_for(self, keys: set[int]) -> Iterable[dict[str, Any]]: ...


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
            if exists and self._old_analyzer(name):
                # Milvus holds what the store derives: a collection an older ragqa made (BM25
                # over jieba words) is made again, and the sync that follows fills it.
                log.warning(
                    "the Milvus collection %r was made with another BM25 analyzer: "
                    "re-creating it (the next sync re-inserts its rows)",
                    name,
                )
                _call("drop a collection", self.settings, self.client.drop_collection, name)
                exists = False
            if exists:
                self._check_dim(name)
            else:
                _call("create a collection", self.settings, self._create, name)
            _call("load a collection", self.settings, self.client.load_collection, name)

    def _describe(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = _call(
            "describe a collection",
            self.settings,
            lambda: self.client.describe_collection(name, timeout=self.settings.timeout_s),
        )
        return info

    def _old_analyzer(self, name: str) -> bool:
        """Whether `name` has a BM25 text field analysed otherwise than `ANALYZER`."""
        for field in self._describe(name).get("fields", []):
            if field.get("name") == "text":
                raw = field.get("params", {}).get("analyzer_params")
                try:
                    params = json.loads(raw) if isinstance(raw, str) else raw
                except ValueError:
                    return True
                return bool(params != ANALYZER)
        return False

    def _check_dim(self, name: str) -> None:
        for field in self._describe(name).get("fields", []):
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
            name,
            schema=schema,
            index_params=index,
            consistency_level=CONSISTENCY,
            timeout=self.settings.timeout_s,
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
                consistency_level=CONSISTENCY,
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

    def check(self, view: Syncable) -> SyncReport:
        """How Milvus differs from the live rows of `view` (nothing is changed)."""
        p_want, s_want = view.live_keys()
        p_have, s_have = self.stored_keys(self.passages), self.stored_keys(self.sentences)
        return SyncReport(
            len(p_want - p_have), len(p_have - p_want), len(s_want - s_have), len(s_have - s_want)
        )

    def sync(self, view: Syncable) -> SyncReport:
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
                consistency_level=CONSISTENCY,
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
                consistency_level=CONSISTENCY,
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
                consistency_level=CONSISTENCY,
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
                consistency_level=CONSISTENCY,
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
                name,
                filter=where,
                output_fields=["count(*)"],
                consistency_level=CONSISTENCY,
                timeout=self.settings.timeout_s,
            ),
        )
        return int(rows[0]["count(*)"]) if rows else 0

    def ping(self) -> None:
        """Raise BackendUnavailableError unless Milvus answers now."""
        _call("answer", self.settings, lambda: self.client.has_collection(self.passages))
