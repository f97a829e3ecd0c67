"""FAISS inner-product search over L2-normalised passage vectors (cosine similarity).

`flat` (exact, `IndexFlatIP`) is the default and right below ~100k passages; `hnsw`
(`IndexHNSWFlat`, M=32, efConstruction=200, efSearch=128) trades a little recall for
sub-linear search on large corpora; `ivf` (`IndexIVFScalarQuantizer`, 8-bit codes, about
4·sqrt(n) lists, `nprobe` of them searched) is the archive-scale choice: a quarter of the
memory of the float vectors, and it trains and fills in minutes on 2 cores where HNSW takes
far longer at a million passages. All are written with FAISS's own file format; an IVF index
keeps its direct map, so a passage's stored vector can be read back by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

ANN_KINDS = ("flat", "hnsw", "ivf")


@dataclass(frozen=True)
class AnnParams:
    """Which FAISS index to build, and its knobs; recorded in the manifest."""

    kind: str = "flat"
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128
    nlist: int = 0
    """IVF lists; 0 = about 4·sqrt(n), at most n / 39 (FAISS's training floor per list)."""
    nprobe: int = 32
    """IVF lists searched per query (recall against speed)."""
    train_size: int = 131_072
    """IVF: vectors sampled to train the coarse quantiser and the 8-bit codes."""

    def __post_init__(self) -> None:
        if self.kind not in ANN_KINDS:
            raise ValueError(f"ann must be one of {', '.join(ANN_KINDS)}, got {self.kind!r}")


IVF_TRAIN_ITERATIONS = 10
"""k-means iterations of the coarse quantiser (FAISS's default of 25 gains little for IVF)."""


def ivf_lists(n: int, requested: int = 0) -> int:
    """The number of IVF lists for `n` vectors (`requested`, or about 4·sqrt(n))."""
    wanted = requested or int(4 * np.sqrt(max(n, 1)))
    return max(1, min(wanted, n // 39 or 1))


def build_faiss(vectors: np.ndarray, params: AnnParams) -> faiss.Index:
    """A FAISS index holding `vectors` (rows already L2-normalised, float32)."""
    dim = int(vectors.shape[1])
    index: faiss.Index
    if params.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        index.hnsw.efSearch = params.ef_search
    elif params.kind == "ivf":
        return build_ivf(vectors, params)
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def build_ivf(vectors: np.ndarray, params: AnnParams, *, seed: int = 0) -> faiss.Index:
    """IVF with 8-bit scalar-quantised vectors, trained on a sample, direct map kept."""
    n, dim = int(vectors.shape[0]), int(vectors.shape[1])
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer,
        dim,
        ivf_lists(n, params.nlist),
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    index.cp.seed = seed
    index.cp.niter = IVF_TRAIN_ITERATIONS
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, min(n, params.train_size), replace=False) if n else np.empty(0, int)
    if n:
        index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        step = 65_536
        for start in range(0, n, step):
            index.add(np.ascontiguousarray(vectors[start : start + step], dtype=np.float32))
    index.make_direct_map()
    index.nprobe = params.nprobe
    return index


def search(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` (ids, cosine scores) for one query vector; ids of -1 are dropped."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
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


def load(
    path: Path, ef_search: int | None = None, *, mmap: bool = False, nprobe: int | None = None
) -> faiss.Index:
    """Read a FAISS index written by `save`; `mmap` maps its vectors from the file instead of
    copying them into memory, so processes that load the same file share one copy."""
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mmap else 0)
    if ef_search is not None and hasattr(index, "hnsw"):
        index.hnsw.efSearch = ef_search
    if nprobe is not None and hasattr(index, "nprobe"):
        index.nprobe = nprobe
    return index
