"""A content-addressed cache of passage vectors beside the index: builds resume, re-posts are free.

Every vector a build computes is committed to a small SQLite file, keyed by the encoder's
fingerprint (model name, encoder variant, prompt, dimension, sequence length) and the sha256 of
the exact text the encoder saw. Embedding runs in checkpoint groups of a few batches, each
committed before the next starts, so a build killed at any point (``kill -9`` included) loses
at most one group: the next build looks every text up first and embeds only what is missing.
After a successful build the cache is trimmed to the texts the new index holds
(`EmbeddingCache.retain`), so it stays about the size of the index's vectors.

The API is three calls, usable by anything that embeds passages (builds, document uploads)::

    with EmbeddingCache.open(cache_path(index_dir), embedder) as cache:
        result = embed_passages(embedder, texts, cache)   # vectors, n_embedded, n_cached
        cache.retain(texts_in_the_new_index)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeVar

import numpy as np

T = TypeVar("T")

CACHE_SUFFIX = ".embeddings.sqlite"
MIN_GROUP = 32
"""Smallest checkpoint group: one encoder batch."""
MAX_GROUP = 512
"""Largest checkpoint group (16 batches): the most a kill can lose on a large build."""
GROUPS_PER_BUILD = 40
"""A build is cut into at least this many groups, so a kill loses at most ~2.5% of it."""


class PassageEncoder(Protocol):
    """What the cache needs of an embedder (`index.encode.embedder.Embedder` is one)."""

    name: str
    dim: int

    def encode_passages(
        self, texts: list[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray: ...


def cache_path(index_dir: Path) -> Path:
    """Where the cache of `index_dir` lives: beside it (``var/index.embeddings.sqlite``)."""
    index_dir = index_dir.resolve()
    return index_dir.parent / f"{index_dir.name}{CACHE_SUFFIX}"


def encoder_fingerprint(embedder: PassageEncoder) -> str:
    """A short hash of everything that decides a passage vector besides the text."""
    model = getattr(embedder, "model", None)
    config = {
        "model": embedder.name,
        "encoder": str(getattr(embedder, "encoder", None) or type(embedder).__name__),
        "prompt": str(getattr(embedder, "_passage_prompt", None)),
        "dim": int(embedder.dim),
        "max_seq_length": str(getattr(model, "max_seq_length", None)),
        "normalized": True,
        "weights": getattr(embedder, "weights", None),
    }
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def text_key(text: str) -> bytes:
    """The cache key of one text: sha256 of its UTF-8 bytes (surrogates escaped, never lost)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Vectors by (encoder fingerprint, text sha256), committed as they are stored."""

    def __init__(self, connection: sqlite3.Connection, namespace: str, dim: int) -> None:
        self._db = connection
        self.namespace = namespace
        self.dim = dim

    @classmethod
    def open(cls, path: Path, embedder: PassageEncoder) -> EmbeddingCache:
        """Open (creating if needed) the cache file for `embedder`'s vectors."""
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        # WAL: a committed group survives the process being killed; readers never block.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (namespace TEXT NOT NULL, key BLOB NOT NULL, "
            "vector BLOB NOT NULL, PRIMARY KEY (namespace, key)) WITHOUT ROWID"
        )
        return cls(db, encoder_fingerprint(embedder), int(embedder.dim))

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM vectors WHERE namespace = ?", (self.namespace,)
        ).fetchone()
        return int(row[0])

    def lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """Vectors for `texts` (rows of misses are zero) and the indices of the misses."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = list(set(keys[start : start + 500]))
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE namespace = ? AND key IN ({marks})",
                (self.namespace, *chunk),
            )
            found.update((bytes(k), bytes(v)) for k, v in rows)
        misses: list[int] = []
        for i, key in enumerate(keys):
            blob = found.get(key)
            if blob is None or len(blob) != 4 * self.dim:
                misses.append(i)
            else:
                out[i] = np.frombuffer(blob, dtype=np.float32)
        return out, misses

    def store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors for `texts`, in one committed transaction."""
        rows = [
            (self.namespace, text_key(t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def retain(self, texts: Iterable[str]) -> int:
        """Delete this encoder's vectors for every text not in `texts`; the number deleted."""
        keep = {text_key(t) for t in texts}
        stored = [
            bytes(k)
            for (k,) in self._db.execute(
                "SELECT key FROM vectors WHERE namespace = ?", (self.namespace,)
            )
        ]
        drop = [(self.namespace, k) for k in stored if k not in keep]
        with self._transaction():
            self._db.executemany("DELETE FROM vectors WHERE namespace = ? AND key = ?", drop)
        return len(drop)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


@dataclass(frozen=True)
class EmbedResult:
    """Vectors for every text asked for, and where they came from."""

    vectors: np.ndarray
    n_embedded: int
    """Texts run through the encoder now."""
    n_cached: int
    """Texts whose vector came from the cache (embedded by an earlier, maybe killed, build)."""


def checkpoint_group(n_texts: int) -> int:
    """Texts embedded between two commits: small enough that a kill loses little."""
    return max(MIN_GROUP, min(MAX_GROUP, -(-n_texts // GROUPS_PER_BUILD)))


def embed_passages(
    embedder: PassageEncoder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    progress: bool = False,
    label: str = "embedding",
) -> EmbedResult:
    """Vectors for `texts` in order: cached ones looked up, the rest embedded and committed
    group by group (duplicates are embedded once); `label` names the progress bar."""
    if cache is None:
        vectors = embedder.encode_passages(list(texts), progress=progress)
        return EmbedResult(vectors, len(texts), 0)
    vectors, misses = cache.lookup(texts)
    unique: dict[str, list[int]] = {}
    for i in misses:
        unique.setdefault(texts[i], []).append(i)
    # Similar lengths together (the encoder pads each batch to its longest text).
    todo = sorted(unique, key=len)
    group = checkpoint_group(len(todo))
    for batch in progress_batches(todo, group, progress, label=label):
        encoded = embedder.encode_passages(batch)
        cache.store(batch, encoded)
        for text, vector in zip(batch, encoded, strict=True):
            vectors[unique[text]] = vector
    return EmbedResult(vectors, len(todo), len(texts) - len(misses))


def progress_batches(
    items: list[T], size: int, progress: bool, unit: str = "text", label: str = "embedding"
) -> Iterator[list[T]]:
    """`items` in consecutive batches of `size` (at least 1), with a progress bar on stderr
    named `label`, counting `unit`s, when `progress` is set."""
    bar = None
    if progress and items:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc=label, unit=unit, file=sys.stderr)
    try:
        for start in range(0, len(items), max(size, 1)):
            batch = items[start : start + size]
            yield batch
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
