"""The tutorial pipeline, as a baseline: what each stage of ours adds is measured against it.

It does what most "RAG in ten lines" tutorials do: read the raw files as plain text (no
cleaning, no splitting into articles), cut them with langchain's
`RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)` and its default separators,
embed the pieces with the same model as the index (passage prompt for pieces, query prompt for
questions), and return the nearest pieces from a FAISS `IndexFlatIP`. There is no answer
extraction, so its answer metrics are "n/a".

The vectors can be cached as one `.npy` file keyed by the files' hashes, the model and the
splitter settings, so repeated runs do not re-embed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.runner import Reply, RetrievedText

if TYPE_CHECKING:
    import faiss

    from index.encode.embedder import Embedder

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50


@dataclass(frozen=True)
class RawChunk:
    """One splitter piece of a raw corpus file."""

    source: str
    text: str


def split_raw_files(corpus_dir: Path) -> list[RawChunk]:
    """Every ``*.txt`` of `corpus_dir` (or its ``articles/``), read raw and cut the tutorial way."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    chunks: list[RawChunk] = []
    for path in raw_files(corpus_dir):
        text = path.read_text(encoding="utf-8", errors="replace")
        chunks += [RawChunk(path.name, piece) for piece in splitter.split_text(text)]
    return chunks


def raw_files(corpus_dir: Path) -> list[Path]:
    """The corpus's text files, sorted; a corpus root with an ``articles/`` folder works too."""
    folder = corpus_dir / "articles" if (corpus_dir / "articles").is_dir() else corpus_dir
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus directory {corpus_dir} does not exist")
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no .txt files in {folder} for the baseline")
    return files


class TutorialBaseline:
    """Raw files → 500-character splitter pieces → same embedder → flat inner-product search."""

    gives_answers = False

    def __init__(self, chunks: list[RawChunk], vectors: np.ndarray, embedder: Embedder) -> None:
        from index.search import dense
        from index.search.dense import AnnParams

        self.chunks = chunks
        self.embedder = embedder
        self.index: faiss.Index = dense.build_faiss(vectors, AnnParams(kind="flat"))

    @classmethod
    def build(
        cls, corpus_dir: Path, embedder: Embedder, *, cache_dir: Path | None = None
    ) -> TutorialBaseline:
        """Split and embed the corpus (or load the vectors from `cache_dir` when current)."""
        chunks = split_raw_files(corpus_dir)
        cache = (
            cache_dir / f"baseline-{_cache_key(corpus_dir, embedder.name)}.npy"
            if cache_dir
            else None
        )
        if cache is not None and cache.is_file():
            vectors = np.load(cache, allow_pickle=False)
            if vectors.shape == (len(chunks), embedder.dim):
                return cls(chunks, vectors, embedder)
        vectors = embedder.encode_passages([c.text for c in chunks])
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".part.npy")
            np.save(tmp, vectors, allow_pickle=False)
            tmp.replace(cache)
        return cls(chunks, vectors, embedder)

    def ask(self, question: str, top_k: int) -> Reply:
        from index.search import dense

        qvec = self.embedder.encode_queries([question])[0]
        ids, scores = dense.search(self.index, qvec, top_k)
        passages = tuple(
            RetrievedText(self.chunks[i].source, self.chunks[i].text, round(float(s), 4))
            for i, s in zip(ids.tolist(), scores.tolist(), strict=True)
        )
        return Reply(passages, answer_text=None)


def _cache_key(corpus_dir: Path, model: str) -> str:
    """Hash of the raw files' contents, the model and the splitter settings."""
    digest = hashlib.sha256()
    settings = {"model": model, "size": CHUNK_SIZE, "overlap": CHUNK_OVERLAP, "v": 1}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for path in raw_files(corpus_dir):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
