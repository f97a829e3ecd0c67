"""The index directory: plain files described by `manifest.json`, written atomically.

Layout (format 1)::

    manifest.json          what built it, parameters, corpus file hashes, counts, file checksums
    documents.jsonl        the cleaned documents (offsets point into their `text`)
    chunks.npy             int64 (n, 3): document row, char_start, char_end
    sentences.npy          int64 (m, 3): document row, char_start, char_end
    passages.faiss         FAISS index of passage vectors (row i = chunk i)
    sentence_vectors.npy   float32 (m, dim): sentence vectors for re-scoring and answers, or
                           int8 codes with
    sentence_scales.npy    float32 (m,): one scale per row (``sentence_storage: int8``, the
                           archive-scale storage; see `index.encode.quantize`)
    bm25/                  bm25s files (JSON + .npy)
    pinyin.json            pinyin → vocabulary words, for English questions naming places
    words.json             the vocabulary words with an encoder vector (`encode.words`), and
    word_vectors.npy       float16 (w, dim): their vectors (absent in indexes made before them)

The directory is written to a temporary sibling and renamed into place, so a crash never
leaves a half index; loading verifies every file against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import mmap as mmap_module
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from corpus.documents import Document
from corpus.loader import file_sha256
from index.encode.quantize import dequantize_rows
from index.encode.words import Words, WordTable
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from index.search import dense
from index.search.bm25 import BM25Index, LexicalIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SourceFile:
    """One corpus file as indexed."""

    sha256: str
    documents: int
    chunks: int
    sentences: int
    problems: tuple[str, ...] = ()
    """What was skipped in it (a file with no documents is listed too, so it counts as seen)."""


@dataclass(frozen=True)
class IndexManifest:
    """Self-description of an index directory."""

    model: str
    dim: int
    chunking: dict[str, Any]
    ann: dict[str, Any]
    embed_titles: bool
    sources: dict[str, SourceFile]
    counts: dict[str, int]
    built_at: str
    versions: dict[str, str]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    encoder: str = "fp32"
    """Encoder variant that made the vectors (``int8`` or ``fp32``; manifests without the field
    predate the int8 encoder and were fp32)."""
    sentence_vectors: str = "separate"
    """How sentence vectors were made: ``late`` (pooled from their passage's encoder pass) or
    ``separate`` (each sentence embedded alone; manifests without the field)."""
    sentence_storage: str = "float32"
    """How sentence vectors are stored: ``float32``, or ``int8`` codes with a scale per row."""

    @property
    def config_id(self) -> str:
        """Hash of what decides the vectors: equal ids mean vectors can be reused."""
        config = {
            "format": self.format_version,
            "model": self.model,
            "chunking": self.chunking,
            "embed_titles": self.embed_titles,
        }
        if self.encoder != "fp32":  # so fp32 indexes keep the ids they had before the field
            config["encoder"] = self.encoder
        if self.sentence_vectors != "separate":  # likewise for indexes made before late chunking
            config["sentence_vectors"] = self.sentence_vectors
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["config_id"] = self.config_id
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexManifest:
        data = dict(data)
        data.pop("config_id", None)
        data["sources"] = {
            k: SourceFile(**{**v, "problems": tuple(v.get("problems", ()))})
            for k, v in data["sources"].items()
        }
        return cls(**data)


@dataclass
class IndexData:
    """Everything an index directory holds, in memory."""

    manifest: IndexManifest
    documents: list[Document]
    chunks: np.ndarray
    sentences: np.ndarray
    passages: faiss.Index | dense.SegmentedFlat
    """One FAISS index for a built index; one flat index per segment for a library view."""
    sentence_vectors: np.ndarray | dense.RowBlocks
    bm25: LexicalIndex
    """bm25s (`BM25Index`) for a built index; per-segment statistics for a library view."""
    pinyin: dict[str, list[str]]
    sentence_scales: np.ndarray | None = None
    """With int8 `sentence_vectors`: the float32 scale of each row (`index.encode.quantize`)."""
    words: Words | None = None
    """Encoder vectors of the vocabulary words, for English questions (`index.encode.words`)."""

    def sentence_rows(self, rows: np.ndarray) -> np.ndarray:
        """The float32 sentence vectors of `rows` (only those rows are read)."""
        stored = np.asarray(self.sentence_vectors[rows], dtype=np.float32)
        if self.sentence_scales is None:
            return stored
        return stored * np.asarray(self.sentence_scales[rows], dtype=np.float32)[:, None]

    def all_sentence_vectors(self) -> np.ndarray:
        """Every sentence vector as float32 (incremental rebuilds reuse them)."""
        if self.sentence_scales is None:
            return np.asarray(self.sentence_vectors, dtype=np.float32)
        return dequantize_rows(np.asarray(self.sentence_vectors), self.sentence_scales)


def _write_documents(path: Path, documents: list[Document]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for doc in documents:
            fields = asdict(doc)
            if not fields["metadata"]:  # only a PDF's articles carry any (page, layout)
                del fields["metadata"]
            handle.write(json.dumps(fields, ensure_ascii=False) + "\n")


def _read_documents(path: Path) -> list[Document]:
    with path.open(encoding="utf-8") as handle:
        return [Document(**json.loads(line)) for line in handle if line.strip()]


def _file_table(directory: Path) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            rel = path.relative_to(directory).as_posix()
            table[rel] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    return table


def write_index(index_dir: Path, data: IndexData) -> IndexManifest:
    """Write `data` to `index_dir` atomically (temporary sibling, then rename)."""
    index_dir = index_dir.resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_dir.parent / f".{index_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_documents(tmp / "documents.jsonl", data.documents)
        np.save(tmp / "chunks.npy", data.chunks.astype(np.int64), allow_pickle=False)
        np.save(tmp / "sentences.npy", data.sentences.astype(np.int64), allow_pickle=False)
        quantized = data.sentence_scales is not None
        np.save(
            tmp / "sentence_vectors.npy",
            np.asarray(data.sentence_vectors, dtype=np.int8 if quantized else np.float32),
            allow_pickle=False,
        )
        if data.sentence_scales is not None:
            scales = np.asarray(data.sentence_scales, dtype=np.float32)
            np.save(tmp / "sentence_scales.npy", scales, allow_pickle=False)
        dense.save(data.passages, tmp / "passages.faiss")
        if not isinstance(data.bm25, BM25Index):
            raise TypeError("only a built index (bm25s) is written as an index directory")
        (tmp / "bm25").mkdir()
        data.bm25.save(tmp / "bm25")
        (tmp / "pinyin.json").write_text(
            json.dumps(data.pinyin, ensure_ascii=False), encoding="utf-8"
        )
        if data.words is not None:
            data.words.save(tmp)
        storage = "int8" if quantized else "float32"
        manifest = IndexManifest.from_json(
            {**data.manifest.to_json(), "files": _file_table(tmp), "sentence_storage": storage}
        )
        (tmp / MANIFEST).write_text(
            json.dumps(manifest.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        _swap_into_place(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_into_place(tmp: Path, index_dir: Path) -> None:
    old = index_dir.parent / f".{index_dir.name}.old-{uuid.uuid4().hex[:8]}"
    if index_dir.exists():
        os.rename(index_dir, old)
    os.rename(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(index_dir: Path) -> IndexManifest:
    """The manifest of `index_dir`, or a clear error saying what to do."""
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(f"no index at {index_dir}: build one with `ragqa build`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(
            f"{path} is not valid JSON ({exc}); rebuild with `ragqa build`"
        ) from exc
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has format {version!r}, this version reads format "
            f"{FORMAT_VERSION}; rebuild with `ragqa build`"
        )
    try:
        return IndexManifest.from_json(raw)
    except (TypeError, KeyError, AttributeError) as exc:
        raise IndexCorruptError(
            f"{path} is incomplete ({exc}); rebuild with `ragqa build`"
        ) from exc


def verify_files(index_dir: Path, manifest: IndexManifest) -> None:
    """Check every file the manifest lists is present with its recorded size and checksum."""
    for rel, expected in manifest.files.items():
        path = index_dir / rel
        if not path.is_file():
            raise IndexCorruptError(f"index file {rel} is missing from {index_dir}; rebuild")
        if path.stat().st_size != expected["bytes"] or file_sha256(path) != expected["sha256"]:
            raise IndexCorruptError(f"index file {rel} in {index_dir} is damaged; rebuild")


def _random_access(array: np.ndarray) -> None:
    """Tell the kernel a memory-mapped array is read by scattered rows (no read-ahead): a
    query reads the sentences of ~100 passages, and read-ahead would page in whole runs."""
    mapping = getattr(array, "_mmap", None)
    if isinstance(mapping, mmap_module.mmap) and hasattr(mmap_module, "MADV_RANDOM"):
        mapping.madvise(mmap_module.MADV_RANDOM)


def read_index(index_dir: Path, *, verify: bool = True, mmap: bool = False) -> IndexData:
    """Load `index_dir`, checking it against its manifest.

    With `mmap` the vectors (FAISS passages, sentence vectors) and the BM25 arrays are mapped
    from the files rather than read into memory: worker processes on one machine then share
    one copy through the page cache, and only the pages a query touches are ever read.
    """
    mode: Literal["r"] | None = "r" if mmap else None
    manifest = read_manifest(index_dir)
    if verify:
        verify_files(index_dir, manifest)
    try:
        documents = _read_documents(index_dir / "documents.jsonl")
        chunks = np.load(index_dir / "chunks.npy", allow_pickle=False)
        sentences = np.load(index_dir / "sentences.npy", allow_pickle=False)
        sentence_vectors = np.load(
            index_dir / "sentence_vectors.npy", allow_pickle=False, mmap_mode=mode
        )
        scales = None
        if manifest.sentence_storage == "int8":
            scales = np.load(index_dir / "sentence_scales.npy", allow_pickle=False, mmap_mode=mode)
        if mmap:
            _random_access(sentence_vectors)
        passages = dense.load(
            index_dir / "passages.faiss",
            manifest.ann.get("ef_search"),
            mmap=mmap,
            nprobe=manifest.ann.get("nprobe"),
        )
        bm25 = BM25Index.load(index_dir / "bm25", len(chunks), mmap=mmap)
        pinyin = json.loads((index_dir / "pinyin.json").read_text(encoding="utf-8"))
        words = WordTable.load(index_dir, manifest.dim)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorruptError(f"cannot read index at {index_dir} ({exc}); rebuild it") from exc
    counts = manifest.counts
    if (
        len(documents) != counts["documents"]
        or len(chunks) != counts["chunks"]
        or passages.ntotal != counts["chunks"]
        or len(sentences) != counts["sentences"]
        or sentence_vectors.shape != (counts["sentences"], manifest.dim)
        or (scales is not None and scales.shape != (counts["sentences"],))
    ):
        raise IndexCorruptError(f"index at {index_dir} does not match its manifest; rebuild")
    return IndexData(
        manifest,
        documents,
        chunks,
        sentences,
        passages,
        sentence_vectors,
        bm25,
        pinyin,
        scales,
        words,
    )
