"""Reaching Milvus: the settings, the URI check, the client and the one way every call is made
(bounded by the timeout, retried once, any failure a BackendUnavailableError)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from index.errors import BackendConfigError, BackendUnavailableError, IndexMismatchError
from index.text.tokenize import tokenize

DEFAULT_PREFIX = "ragqa"
DEFAULT_TIMEOUT_S = 10.0
BATCH_ROWS = 256
"""Rows per insert call (a passage row with its vector and text is a few KB)."""
MAX_TEXT_BYTES = 65535
"""Milvus' VARCHAR limit; the BM25 words of a passage are cut to it (whole words)."""
MAX_IN_LIST = 16384
"""More keys than this in one `in [...]` filter are sent in several queries."""
_KEY_MASK = (1 << 63) - 1
CALL_ATTEMPTS = 2
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 310_000, "grpc.keepalive_permit_without_calls": 0}
"""Keep-alive pings no more often than a gRPC server accepts by default (every 5 minutes, and
not on an idle channel): pymilvus pings every 10 s, which milvus-lite's server (Python gRPC
defaults) answers with GOAWAY "too_many_pings", dropping the channel. A Milvus server accepts
either; every call has its own timeout, so a dead peer is still noticed at once."""

ANALYZER: dict[str, Any] = {"tokenizer": "standard"}
"""The BM25 analyzer of the passages' `text` field. That field holds `bm25_words`: the passage's
own BM25 tokens (`index.text.tokenize`), each written as one opaque ASCII word, which the
standard tokenizer keeps whole. So Milvus scores exactly the words bm25s scores, with the same
document lengths. Its jieba analyzer (used before December 2026) cut, normalised and filtered
differently: a `+` between words, for one, was a word to it and not to bm25s, and passages near
a tie swapped places between the backends."""
WORD_KEY_BYTES = 6
"""Bytes of blake2b per word key: 48 bits, no collision to expect within a vocabulary."""


def word_key(token: str) -> str:
    """One BM25 token as a word the standard tokenizer keeps whole (``w`` + 12 hex digits)."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=WORD_KEY_BYTES)
    return "w" + digest.hexdigest()


def bm25_words(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """`text`'s BM25 tokens as word keys separated by spaces, at most `limit` bytes (whole
    words; what a passage row's `text` holds and what a BM25 search sends)."""
    words = [word_key(t) for t in tokenize(text)]
    keep = (limit + 1) // (2 + 2 * WORD_KEY_BYTES)
    return " ".join(words[:keep])


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
