"""The word table: the encoder's vector of every word of an index's vocabulary.

The multilingual encoder knows that "body length" and 体长 mean the same thing, so the index
keeps the vector of every word of its vocabulary (jieba words of 2 to 6 Chinese characters,
`vocabulary_words`), made at build time ("query: " prompt, the way a question is encoded)
through the content-addressed embedding cache, so a rebuild or a new segment encodes only words
it has not seen (`encode_words`). That is a `WordTable`, stored in the index directory
(``words.json`` and ``word_vectors.npy``, float16, listed and checksummed in the manifest) and
in each document Library segment. The query-time bridge that reads it is
`index.rank.wordbridge`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.encode.embedcache import EmbeddingCache, embed_passages

WORDS_FILE = "words.json"
VECTORS_FILE = "word_vectors.npy"

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")


def vocabulary_words(tokens: Iterable[str]) -> list[str]:
    """The words worth a vector: distinct jieba tokens of 2 to 6 Chinese characters, sorted."""
    return sorted({t for t in tokens if _CJK_WORD.fullmatch(t)})


@dataclass(frozen=True)
class WordTable:
    """Vocabulary words and the encoder's (L2-normalised) vector of each, row for row."""

    words: tuple[str, ...]
    vectors: npt.NDArray[np.float16]
    """(len(words), dim), float16: cosines need three digits, not seven."""
    row: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.words) != len(self.vectors):
            raise ValueError(f"{len(self.words)} words but {len(self.vectors)} vectors")
        object.__setattr__(self, "row", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def empty(cls, dim: int) -> WordTable:
        return cls((), np.empty((0, dim), dtype=np.float16))

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def restricted(self, words: Iterable[str]) -> WordTable:
        """The rows of `words` this table has, in sorted order."""
        kept = sorted({w for w in words if w in self.row})
        rows = np.asarray([self.row[w] for w in kept], dtype=np.int64)
        return WordTable(tuple(kept), self.vectors[rows] if kept else self.vectors[:0])

    @classmethod
    def merged(cls, tables: Sequence[WordTable], dim: int) -> WordTable:
        """One table of every word of `tables` (a word's first vector wins: same encoder)."""
        words: list[str] = []
        parts: list[np.ndarray] = []
        seen: set[str] = set()
        for table in tables:
            new = [i for i, w in enumerate(table.words) if w not in seen]
            if len(new) == len(table):
                words += table.words
                parts.append(table.vectors)
            elif new:
                words += [table.words[i] for i in new]
                parts.append(table.vectors[np.asarray(new, dtype=np.int64)])
            seen.update(table.words)
        if not words:
            return cls.empty(dim)
        return cls(tuple(words), np.concatenate(parts).astype(np.float16, copy=False))

    def save(self, directory: Path) -> None:
        """Write ``words.json`` and ``word_vectors.npy`` into `directory`."""
        (directory / WORDS_FILE).write_text(
            json.dumps(list(self.words), ensure_ascii=False), encoding="utf-8"
        )
        np.save(directory / VECTORS_FILE, self.vectors.astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, dim: int) -> WordTable:
        """The table saved in `directory`; empty when it has none (an index from before it)."""
        if not (directory / WORDS_FILE).is_file():
            return cls.empty(dim)
        words = json.loads((directory / WORDS_FILE).read_text(encoding="utf-8"))
        vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
        if vectors.ndim != 2 or vectors.shape[1] != dim:
            raise ValueError(f"word vectors have shape {vectors.shape}, expected (n, {dim})")
        return cls(tuple(words), vectors.astype(np.float16, copy=False))


class StackedWords:
    """Several tables seen as one without copying them (a Library view over its segments:
    a write publishes a new view, and the view must not copy every segment's vectors). A
    word's first table wins, as in `WordTable.merged`."""

    def __init__(self, tables: Sequence[WordTable], dim: int) -> None:
        self.tables = tuple(t for t in tables if len(t))
        self._dim = dim

    def __len__(self) -> int:
        """Rows over all tables (a word in two segments counts twice)."""
        return sum(len(t) for t in self.tables)

    @property
    def dim(self) -> int:
        return self._dim

    def restricted(self, words: Iterable[str]) -> WordTable:
        """The rows of `words` any table has, in sorted order."""
        left = set(words)
        parts = []
        for table in self.tables:
            if not left:
                break
            part = table.restricted(left)
            parts.append(part)
            left.difference_update(part.words)
        return WordTable.merged(parts, self._dim).restricted(
            w for part in parts for w in part.words
        )

    def materialized(self) -> WordTable:
        return WordTable.merged(self.tables, self._dim)

    def save(self, directory: Path) -> None:
        self.materialized().save(directory)


Words = WordTable | StackedWords
"""What an index reads word vectors from: one table, or a view's segments' tables."""


class QueryEncoder(Protocol):
    """What word encoding needs of an embedder (`index.encode.embedder.Embedder` is one)."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class _AsQueries:
    """An embedder seen by the embedding cache as encoding words the way questions are: the
    "query" prompt is part of the cache's encoder fingerprint, so word vectors never mix with
    passage vectors of the same text."""

    def __init__(self, embedder: QueryEncoder) -> None:
        self._embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.encoder = getattr(embedder, "encoder", None)
        self.weights = getattr(embedder, "weights", None)
        self.model = getattr(embedder, "model", None)
        self._passage_prompt = "query-word"

    def encode_passages(
        self, texts: list[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        return self._embedder.encode_queries(texts)


def word_cache(path: Path, embedder: QueryEncoder) -> EmbeddingCache:
    """The embedding cache at `path`, in the namespace of word vectors."""
    return EmbeddingCache.open(path, _AsQueries(embedder))


def encode_words(
    embedder: QueryEncoder,
    words: Sequence[str],
    cache: EmbeddingCache | None = None,
    *,
    progress: bool = False,
) -> WordTable:
    """The table of `words` (already `vocabulary_words`); with a `word_cache`, only words it
    does not hold are encoded."""
    if not words:
        return WordTable.empty(embedder.dim)
    result = embed_passages(
        _AsQueries(embedder), list(words), cache, progress=progress, label="embedding words"
    )
    return WordTable(tuple(words), np.asarray(result.vectors, dtype=np.float16))


def table_with(
    embedder: QueryEncoder,
    words: Sequence[str],
    known: Sequence[WordTable] = (),
    cache: EmbeddingCache | None = None,
    *,
    progress: bool = False,
) -> WordTable:
    """The table of `words` (sorted `vocabulary_words`): vectors the `known` tables hold are
    copied, the rest encoded (`encode_words`, looking in `cache` first)."""
    have = WordTable.merged([t.restricted(words) for t in known], embedder.dim)
    new = [w for w in words if w not in have.row]
    fresh = encode_words(embedder, new, cache, progress=progress)
    return WordTable.merged([have, fresh], embedder.dim).restricted(words)
