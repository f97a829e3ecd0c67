"""8-bit storage of unit vectors: one int8 code per component and one float32 scale per row.

A row ``v`` is stored as ``codes = round(v / s)`` with ``s = max|v| / 127``, so the inner
product with a float query is ``(codes @ q) * s``: a quarter of float32's bytes, and for the
unit vectors of this index a cosine error of about 1e-3 (measured by `scripts/bench_engine`).
Archive-scale indexes store their sentence vectors this way: seven million 384-d sentence
vectors take 2.7 GB instead of 10.7 GB.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

STORAGES = ("float32", "int8")
"""How an index stores its sentence vectors (recorded in the manifest)."""


def quantize_rows(
    vectors: np.ndarray,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """(codes, scales) of `vectors` (n, dim): ``vectors ≈ codes * scales[:, None]``."""
    rows = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(rows).max(axis=1) if rows.size else np.zeros(len(rows), dtype=np.float32)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(rows / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def dequantize_rows(codes: np.ndarray, scales: np.ndarray) -> npt.NDArray[np.float32]:
    """The float32 rows the codes stand for."""
    return np.asarray(codes, dtype=np.float32) * np.asarray(scales, dtype=np.float32)[:, None]
