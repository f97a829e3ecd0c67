"""FAISS inner-product search over L2-normalised passage vectors (cosine similarity).

`flat` (exact, `IndexFlatIP`) is the default and right below ~100k passages; `hnsw`
(`IndexHNSWFlat`, M=32, efConstruction=200, efSearch=128) trades a little recall for
sub-linear search on large corpora. Both are written with FAISS's own file format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

ANN_KINDS = ("flat", "hnsw")


@dataclass(frozen=True)
class AnnParams:
    """Which FAISS index to build, and its knobs; recorded in the manifest."""

    kind: str = "flat"
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128

    def __post_init__(self) -> None:
        if self.kind not in ANN_KINDS:
            raise ValueError(f"ann must be one of {', '.join(ANN_KINDS)}, got {self.kind!r}")


def build_faiss(vectors: np.ndarray, params: AnnParams) -> faiss.Index:
    """A FAISS index holding `vectors` (rows already L2-normalised, float32)."""
    dim = int(vectors.shape[1])
    index: faiss.Index
    if params.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        index.hnsw.efSearch = params.ef_search
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search(
    index: faiss.Index, query: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` (ids, cosine scores) for one query vector; ids of -1 are dropped.

    `allowed` (bool per stored vector) restricts the search inside FAISS (an ID selector
    bitmap), so a restriction to a few documents still finds their best `k`."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is not None:
        bitmap = np.packbits(allowed.astype(np.uint8), bitorder="little")
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
        params: faiss.SearchParameters
        if hasattr(index, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector)  # type: ignore[attr-defined]
            params.efSearch = index.hnsw.efSearch  # type: ignore[attr-defined]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = index.search(vector, k, params=params)
    else:
        scores, ids = index.search(vector, k)
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]


def all_vectors(index: faiss.Index) -> np.ndarray:
    """Every stored vector, in id order (reused by incremental rebuilds)."""
    if index.ntotal == 0:
        return np.empty((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def save(index: faiss.Index, path: Path) -> None:
    """Write with FAISS's own format."""
    faiss.write_index(index, str(path))


def load(path: Path, ef_search: int | None = None) -> faiss.Index:
    """Read a FAISS index written by `save`."""
    index = faiss.read_index(str(path))
    if ef_search is not None and hasattr(index, "hnsw"):
        index.hnsw.efSearch = ef_search
    return index
