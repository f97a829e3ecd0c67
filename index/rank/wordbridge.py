"""English question words to the corpus's own Chinese words, through the encoder's vectors.

An English question over Chinese text reaches BM25 and the keyword features only through the
words it shares with the text, and it shares none. The multilingual encoder does know that
"body length" and 体长 mean the same thing, so the index keeps the encoder's vector of every
word of its vocabulary (jieba words of 2 to 6 Chinese characters, `vocabulary_words`), made at
build time ("query: " prompt, the way a question is encoded) through the content-addressed
embedding cache, so a rebuild or a new segment encodes only words it has not seen
(`encode_words`). That is a `WordTable`, stored in the index directory (``words.json`` and
``word_vectors.npy``, float16, listed and checksummed in the manifest) and in each document
Library segment.

At query time an English question's content words and adjacent word pairs
(`english_phrases`) are encoded (one call beside the question's, cached: `PhraseCache`), and
each is matched
against the words of the top candidate passages only (`bridge`): over the whole vocabulary
e5-small's single-word vectors are too close together to be a dictionary (2026-12-02, 16,211
CMRC words at cosine ≥ 0.88: 197 right words against 741 wrong), but among the few hundred
words of three passages the best match above `AnswerParams.bridge_threshold` is mostly right.
The bridged words are an answer feature (`index.rank.answer`, ``w_bridge``).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.encode.embedcache import EmbeddingCache, embed_passages

WORDS_FILE = "words.json"
VECTORS_FILE = "word_vectors.npy"

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
STOPWORDS = frozenset(
    "a an the of in on at to for by with from and or is are was were be been being what which "
    "who whom whose when where why how did does do done many much long after before into as "
    "that this these those it its his her their they them he she you your about than has have "
    "had there one first can could would should will may might also other than any some such "
    "not no yes if then so".split()
)
"""English function words that carry nothing to bridge."""


def vocabulary_words(tokens: Iterable[str]) -> list[str]:
    """The words worth a vector: distinct jieba tokens of 2 to 6 Chinese characters, sorted."""
    return sorted({t for t in tokens if _CJK_WORD.fullmatch(t)})


def english_phrases(question: str, pairs: bool = True) -> list[str]:
    """The question's content words in order, then (with `pairs`) each adjacent pair of them.

    "What is the body length of the fish?" → body, length, fish, body length, length fish."""
    words = [w for w in _EN_WORD.findall(question) if w.lower() not in STOPWORDS and len(w) > 1]
    found = list(dict.fromkeys(words))
    if pairs:
        found += list(dict.fromkeys(f"{a} {b}" for a, b in pairwise(words)))
    return found


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
    result = embed_passages(_AsQueries(embedder), list(words), cache, progress=progress)
    return WordTable(tuple(words), np.asarray(result.vectors, dtype=np.float16))


PHRASE_CACHE = 4096
"""English phrases whose vectors an engine keeps (about 6 MB): the words of users' questions
repeat, and a phrase's vector never changes for a model."""


PHRASE_WORKERS = 2
"""Threads that encode English phrases beside the requests that asked for them (one per core
of the 2-core machine the service is sized for: each encoder call runs on its own thread)."""

_workers: ThreadPoolExecutor | None = None
_workers_lock = threading.Lock()


def _phrase_workers() -> ThreadPoolExecutor:
    global _workers
    with _workers_lock:
        if _workers is None:
            _workers = ThreadPoolExecutor(PHRASE_WORKERS, thread_name_prefix="ragqa-phrases")
        return _workers


class PhraseCache:
    """Vectors of English phrases, most recently used kept; safe across request threads.

    Measured (2026-12-02, seed English questions, int8, in-process): the question's ~13
    phrases cost ~18 ms encoded on their own but ~34 ms in the question's call, which pads
    them to the question's length; so they get their own call, and only the phrases not
    cached are encoded. `encoding` runs that call in a worker thread, so that it overlaps the
    question's own encoding and retrieval (onnxruntime and numpy release the GIL)."""

    def __init__(self, size: int = PHRASE_CACHE) -> None:
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self, encoder: QueryEncoder, phrases: Sequence[str]) -> np.ndarray:
        """(len(phrases), dim) vectors, encoding the phrases not cached in one call."""
        with self._lock:
            found = {p: self._vectors[p] for p in phrases if p in self._vectors}
            for phrase in found:
                self._vectors.move_to_end(phrase)
        missing = [p for p in dict.fromkeys(phrases) if p not in found]
        if missing:
            encoded = np.asarray(encoder.encode_queries(missing), dtype=np.float32)
            fresh = dict(zip(missing, encoded, strict=True))
            found.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        if not phrases:
            return np.empty((0, encoder.dim), dtype=np.float32)
        return np.stack([found[p] for p in phrases])

    def encoding(self, encoder: QueryEncoder, phrases: Sequence[str]) -> Future[np.ndarray]:
        """`vectors(encoder, phrases)` as a future: computed in a worker thread when some
        phrase is not cached, already done when every one is."""
        with self._lock:
            cached = all(p in self._vectors for p in phrases)
        if not cached:
            return _phrase_workers().submit(self.vectors, encoder, list(phrases))
        done: Future[np.ndarray] = Future()
        done.set_result(self.vectors(encoder, phrases))
        return done


def bridge(
    phrase_vectors: np.ndarray, table: Words, candidates: Iterable[str], threshold: float
) -> frozenset[str]:
    """The Chinese words the phrases name: for each phrase, the `candidates` word (of those
    the table has) with the highest cosine, kept when it reaches `threshold`."""
    words = table.restricted(candidates)
    if not len(words) or not len(phrase_vectors):
        return frozenset()
    sims = np.asarray(phrase_vectors, dtype=np.float32) @ words.vectors.astype(np.float32).T
    best = sims.argmax(axis=1)
    keep = sims[np.arange(len(best)), best] >= threshold
    return frozenset(words.words[j] for j in best[keep].tolist())
