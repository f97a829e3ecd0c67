"""Immutable index segments: one directory per written batch (or per merge), never changed.

Layout of a segment directory (format 1)::

    manifest.json          model, dimension, config id, counts, file checksums
    documents.jsonl        the documents of the batch (offsets point into their `text`)
    chunks.npy             int64 (n, 3): document row in this segment, char_start, char_end
    sentences.npy          int64 (m, 3)
    chunk_vectors.npy      float32 (n, dim)
    sentence_vectors.npy   float32 (m, dim)
    tokens.json            the BM25 tokens of each chunk (its `TermStats` are computed on load)
    pinyin.json            pinyin → words of this segment's vocabulary (English questions)
    words.json             the vocabulary words with an encoder vector, and their
    word_vectors.npy       float16 vectors (`index.encode.words`; absent in older segments)

A segment is written into a hidden temporary sibling, fsynced and renamed into place, so a
directory with a segment's name is always complete. Which segments (and which rows of them)
are live is recorded by the document store, not here: a segment no committed store row
points to is debris from an interrupted batch and is removed when the library opens.

On a store replicas share (PostgreSQL) the store also holds each segment's files
(`segment_files`, the bytes of the files above) and the directory is a cache: `materialize`
writes a segment fetched from the store, `segment_files` reads one to store it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from corpus.documents import Document
from corpus.loader import file_sha256
from index.encode.words import WordTable
from index.errors import IndexCorruptError
from index.search import dense
from index.search.bm25 import TermStats

SEGMENT_FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "seg-"


@dataclass(frozen=True)
class SegmentData:
    """What one segment holds, in memory."""

    documents: list[Document]
    chunks: np.ndarray
    sentences: np.ndarray
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    tokens: list[list[str]]
    pinyin: dict[str, list[str]]
    model: str
    config_id: str
    words: WordTable | None = None
    """Encoder vectors of this segment's vocabulary words (English questions)."""

    @property
    def dim(self) -> int:
        return int(self.chunk_vectors.shape[1])

    @cached_property
    def terms(self) -> TermStats:
        """This segment's BM25 statistics, computed once (the segment never changes)."""
        return TermStats.from_tokens(self.tokens)

    @cached_property
    def passage_index(self) -> faiss.Index:
        """This segment's chunk vectors in a flat FAISS index, built once."""
        return dense.build_faiss(self.chunk_vectors, dense.AnnParams())


def new_segment_name() -> str:
    return f"{PREFIX}{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(segments_dir: Path, data: SegmentData, name: str | None = None) -> str:
    """Write `data` as a new segment under `segments_dir`; returns its directory name."""
    name = name or new_segment_name()
    segments_dir.mkdir(parents=True, exist_ok=True)
    tmp = segments_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as handle:
            for doc in data.documents:
                handle.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")
        np.save(tmp / "chunks.npy", data.chunks.astype(np.int64), allow_pickle=False)
        np.save(tmp / "sentences.npy", data.sentences.astype(np.int64), allow_pickle=False)
        np.save(tmp / "chunk_vectors.npy", data.chunk_vectors.astype(np.float32))
        np.save(tmp / "sentence_vectors.npy", data.sentence_vectors.astype(np.float32))
        (tmp / "tokens.json").write_text(json.dumps(data.tokens, ensure_ascii=False), "utf-8")
        (tmp / "pinyin.json").write_text(json.dumps(data.pinyin, ensure_ascii=False), "utf-8")
        if data.words is not None:
            data.words.save(tmp)
        files = {
            p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(tmp.iterdir())
        }
        manifest: dict[str, Any] = {
            "format_version": SEGMENT_FORMAT,
            "model": data.model,
            "dim": data.dim,
            "config_id": data.config_id,
            "counts": {
                "documents": len(data.documents),
                "chunks": len(data.chunks),
                "sentences": len(data.sentences),
            },
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in tmp.iterdir():
            _fsync(path)
        os.rename(tmp, segments_dir / name)
        _fsync(segments_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name


def read_segment(segments_dir: Path, name: str) -> SegmentData:
    """Load one segment, checking every file against its manifest."""
    path = segments_dir / name
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format_version") != SEGMENT_FORMAT:
            raise IndexCorruptError(f"segment {path} has an unknown format")
        for rel, expected in manifest["files"].items():
            file = path / rel
            if file.stat().st_size != expected["bytes"] or file_sha256(file) != expected["sha256"]:
                raise IndexCorruptError(
                    f"segment file {file} is damaged (its size or sha256 is not the one "
                    f"{path / MANIFEST} records)"
                )
        with (path / "documents.jsonl").open(encoding="utf-8") as handle:
            documents = [Document(**json.loads(line)) for line in handle if line.strip()]
        data = SegmentData(
            documents=documents,
            chunks=np.load(path / "chunks.npy", allow_pickle=False),
            sentences=np.load(path / "sentences.npy", allow_pickle=False),
            chunk_vectors=np.load(path / "chunk_vectors.npy", allow_pickle=False),
            sentence_vectors=np.load(path / "sentence_vectors.npy", allow_pickle=False),
            tokens=json.loads((path / "tokens.json").read_text(encoding="utf-8")),
            pinyin=json.loads((path / "pinyin.json").read_text(encoding="utf-8")),
            model=manifest["model"],
            config_id=manifest["config_id"],
            words=WordTable.load(path, int(manifest["dim"])),
        )
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"cannot read segment {name} in {segments_dir} ({exc})") from exc
    counts = manifest["counts"]
    if (
        len(data.documents) != counts["documents"]
        or len(data.chunks) != counts["chunks"]
        or len(data.tokens) != counts["chunks"]
        or len(data.sentences) != counts["sentences"]
    ):
        raise IndexCorruptError(f"segment {path} does not match its manifest")
    return data


def segment_names(segments_dir: Path) -> list[str]:
    """Complete segment directories present on disk."""
    if not segments_dir.is_dir():
        return []
    return sorted(
        p.name for p in segments_dir.iterdir() if p.is_dir() and p.name.startswith(PREFIX)
    )


def remove_debris(segments_dir: Path, live: set[str], shared_cache: bool = False) -> list[str]:
    """Delete temporary directories and segments no committed batch refers to.

    `shared_cache`: the directory is a cache other processes on this machine may be writing
    into right now; a temporary directory is left alone while the process named in it
    (`temporary_name`) runs, for at most `TMP_MAX_AGE_S`."""
    removed: list[str] = []
    if not segments_dir.is_dir():
        return removed
    now_s = time.time()
    for path in segments_dir.iterdir():
        temporary = path.name.startswith(".tmp-")
        if temporary and shared_cache and _in_use(path, now_s):
            continue
        if temporary or (path.name.startswith(PREFIX) and path.name not in live):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


TMP_MAX_AGE_S = 3600.0
"""A temporary directory in a shared cache older than this is debris, whoever made it."""


def temporary_name(kind: str) -> str:
    """The name of a temporary directory in a shared cache: `.tmp-KIND-PID-RANDOM`."""
    return f".tmp-{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _in_use(path: Path, now_s: float) -> bool:
    """True while the process named in a `temporary_name` runs (and the directory is young)."""
    parts = path.name.split("-")
    if len(parts) < 4 or not parts[2].isdigit():
        return False
    try:
        if now_s - path.stat().st_mtime > TMP_MAX_AGE_S:
            return False
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists (another user's: not ours to judge)
    return True


def segment_files(segments_dir: Path, name: str) -> dict[str, bytes]:
    """The files of segment `name` as bytes (what the store holds of it, when it is shared)."""
    path = segments_dir / name
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def materialize(segments_dir: Path, name: str, files: dict[str, bytes]) -> None:
    """Write segment `name` from its files (as the store holds them) into `segments_dir`, a
    local cache: into a temporary sibling, then renamed into place, so a directory with a
    segment's name is complete. Another process that put it there first wins (same files).
    Not fsynced: a cache lost in a crash is fetched again."""
    if MANIFEST not in files:
        raise IndexCorruptError(
            f"the document store holds no files of segment {name} (written before segments "
            "were kept in the store?): start one replica once with the data directory that "
            "holds it, which uploads it"
        )
    segments_dir.mkdir(parents=True, exist_ok=True)
    tmp = segments_dir / temporary_name("fetch")
    tmp.mkdir()
    try:
        for file, data in files.items():
            (tmp / Path(file).name).write_bytes(data)
        try:
            os.rename(tmp, segments_dir / name)
        except OSError:
            if not (segments_dir / name / MANIFEST).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
