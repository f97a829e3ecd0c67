"""English question words to the corpus's own Chinese words, through the encoder's vectors.

An English question over Chinese text reaches BM25 and the keyword features only through the
words it shares with the text, and it shares none. The multilingual encoder does know that
"body length" and 体长 mean the same thing, and the index keeps the encoder's vector of every
word of its vocabulary (the word table, `index.encode.words`).

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

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise

import numpy as np

from index.encode.words import QueryEncoder, Words

_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
STOPWORDS = frozenset(
    "a an the of in on at to for by with from and or is are was were be been being what which "
    "who whom whose when where why how did does do done many much long after before into as "
    "that this these those it its his her their they them he she you your about than has have "
    "had there one first can could would should will may might also other than any some such "
    "not no yes if then so".split()
)
"""English function words that carry nothing to bridge."""


def english_phrases(question: str, pairs: bool = True) -> list[str]:
    """The question's content words in order, then (with `pairs`) each adjacent pair of them.

    "What is the body length of the fish?" → body, length, fish, body length, length fish."""
    words = [w for w in _EN_WORD.findall(question) if w.lower() not in STOPWORDS and len(w) > 1]
    found = list(dict.fromkeys(words))
    if pairs:
        found += list(dict.fromkeys(f"{a} {b}" for a, b in pairwise(words)))
    return found


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
