"""FAISS inner-product search over L2-normalised passage vectors (cosine similarity).

`flat` (exact, `IndexFlatIP`) is the default and right below ~100k passages; `hnsw`
(`IndexHNSWFlat`, M=32, efConstruction=200, efSearch=128) trades a little recall for
sub-linear search on large corpora; `ivf` (`IndexIVFScalarQuantizer`, 8-bit codes, about
4·sqrt(n) lists, `nprobe` of them searched) is the archive-scale choice: a quarter of the
memory of the float vectors, and it trains and fills in minutes on 2 cores where HNSW takes
far longer at a million passages. All are written with FAISS's own file format; an IVF index
keeps its direct map, so a passage's stored vector can be read back by row.

The document library's views do not refill one index per write: each immutable segment keeps
its own flat index, built once, and `SegmentedFlat` searches them as one (same scores, the
rows of one after another); `RowBlocks` reads the segments' sentence vectors by global row
the same way. A write costs its own segment, never a copy of the archive's vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

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


def all_vectors(index: faiss.Index | SegmentedFlat) -> np.ndarray:
    """Every stored vector, in id order (reused by incremental rebuilds)."""
    if isinstance(index, SegmentedFlat):
        return index.reconstruct_batch(np.arange(index.ntotal, dtype=np.int64))
    if index.ntotal == 0:
        return np.empty((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def save(index: faiss.Index | SegmentedFlat, path: Path) -> None:
    """Write with FAISS's own format (a built index: a library view is never written)."""
    if isinstance(index, SegmentedFlat):
        raise TypeError("only a built index (one FAISS index) is written as an index directory")
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


class SegmentedFlat:
    """Exact inner-product search over one flat index per segment, as one index whose rows
    are those of the segments in order (a row's id is its segment's offset plus its row)."""

    def __init__(self, parts: Sequence[faiss.Index], dim: int) -> None:
        self.parts = tuple(parts)
        self.d = dim
        sizes = [int(p.ntotal) for p in self.parts]
        self.offsets = np.cumsum([0, *sizes])[:-1].astype(np.int64)
        self.ntotal = int(sum(sizes))

    def search_masked(
        self, query: np.ndarray, k: int, mask: npt.NDArray[np.bool_] | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Top-`k` (ids, scores) among the rows `mask` allows (None: all), best first."""
        ids: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for part, offset in zip(self.parts, self.offsets.tolist(), strict=True):
            n = int(part.ntotal)
            sub = None if mask is None else mask[offset : offset + n]
            if n == 0 or (sub is not None and not sub.any()):
                continue
            found, score = masked_search(part, query, min(k, n), sub)
            ids.append(found + offset)
            scores.append(score)
        if not ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if len(ids) == 1:
            return ids[0], scores[0]
        all_ids, all_scores = np.concatenate(ids), np.concatenate(scores)
        order = np.lexsort((all_ids, -all_scores))[:k]  # best first, ties by row
        return all_ids[order], all_scores[order]

    def reconstruct_batch(self, ids: np.ndarray) -> npt.NDArray[np.float32]:
        """The stored vectors of rows `ids`."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.d), dtype=np.float32)
        which = np.searchsorted(self.offsets, ids, side="right") - 1
        for s in np.unique(which).tolist():
            at = which == s
            local = ids[at] - self.offsets[s]
            out[at] = self.parts[s].reconstruct_batch(local)
        return out


class RowBlocks:
    """Read-only rows of several arrays (one per segment) as one array: `blocks[rows]`."""

    def __init__(self, blocks: Sequence[np.ndarray], dim: int) -> None:
        self.blocks = tuple(blocks)
        sizes = [len(b) for b in self.blocks]
        self.offsets = np.cumsum([0, *sizes])[:-1].astype(np.int64)
        self.shape = (int(sum(sizes)), dim)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Any) -> npt.NDArray[np.float32]:
        if isinstance(rows, slice):
            picked = np.arange(*rows.indices(self.shape[0]), dtype=np.int64)
        else:
            picked = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(picked), self.shape[1]), dtype=np.float32)
        which = np.searchsorted(self.offsets, picked, side="right") - 1
        for s in np.unique(which).tolist():
            at = which == s
            out[at] = self.blocks[s][picked[at] - self.offsets[s]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = (
            np.concatenate(self.blocks) if self.blocks else np.empty(self.shape, dtype=np.float32)
        )
        return whole if dtype is None else whole.astype(dtype)


def masked_search(
    index: faiss.Index | SegmentedFlat,
    query: np.ndarray,
    k: int,
    mask: npt.NDArray[np.bool_] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Top-`k` (ids, cosine scores) for one query vector among the rows `mask` allows (None:
    all), best first; FAISS applies the mask inside the search (an ID-selector bitmap)."""
    if isinstance(index, SegmentedFlat):
        return index.search_masked(query, k, mask)
    k = min(k, index.ntotal)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if mask is None:
        scores, ids = index.search(vector, k)
    else:
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        params = _search_params(index)
        params.sel = selector
        scores, ids = index.search(vector, k, params=params)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def _search_params(index: faiss.Index) -> Any:
    """Search parameters of the index's kind (HNSW keeps its efSearch, IVF its nprobe)."""
    if hasattr(index, "hnsw"):
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = index.hnsw.efSearch
        return params
    if hasattr(index, "nprobe"):
        ivf = faiss.SearchParametersIVF()
        ivf.nprobe = index.nprobe
        return ivf
    return faiss.SearchParameters()
