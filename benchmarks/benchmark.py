"""Speed and size benchmarks: query latency, indexing throughput, index size, HNSW vs flat.

Prints numbers; asserts nothing (tests never time things). Run with
`python -m benchmarks.benchmark` (or `ragqa eval bench`). Every figure is measured in the same run,
so the comparisons (flat vs HNSW, cold build vs incremental rebuild) share one machine state.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus import DEFAULT_CORPUS_DIR, paths
from eval.dataset import load_questions
from index.encode.embedder import DEFAULT_MODEL, load_embedder
from index.engine import Engine
from index.search import dense
from index.search.dense import AnnParams
from index.store.build import build_index

DEV_SET = paths.EVAL_DIR / "dev_questions.jsonl"


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass(frozen=True)
class LatencyResult:
    p50_ms: float
    p95_ms: float
    encode_p50_ms: float
    n: int


def query_latency(engine: Engine, questions: list[str], rounds: int = 3) -> LatencyResult:
    """Question in, passages and answer out, index warm, in-process."""
    for q in questions[:5]:
        engine.ask(q)
    totals: list[float] = []
    encodes: list[float] = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            engine.embedder.encode_queries([q])
            encodes.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            engine.ask(q, top_k=5)
            totals.append((time.perf_counter() - t0) * 1000)
    return LatencyResult(
        _percentile(totals, 50), _percentile(totals, 95), _percentile(encodes, 50), len(totals)
    )


def synthetic_ann(
    n: int, dim: int, queries: int = 200, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Flat vs HNSW on `n` random unit vectors: build rate, size, search p50, recall@10."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    picks = rng.choice(n, queries, replace=False)
    noisy = vectors[picks] + 0.05 * rng.standard_normal((queries, dim)).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    results: dict[str, dict[str, float]] = {}
    truth: list[np.ndarray] = []
    for kind in ("flat", "hnsw"):
        t0 = time.perf_counter()
        index = dense.build_faiss(vectors, AnnParams(kind=kind))
        build_s = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.faiss"
            dense.save(index, path)
            size = path.stat().st_size
        times, found = [], []
        for q in noisy:
            t0 = time.perf_counter()
            ids, _ = dense.search(index, q, 10)
            times.append((time.perf_counter() - t0) * 1000)
            found.append(ids)
        if kind == "flat":
            truth = found
        recall = float(
            np.mean(
                [
                    len(set(a.tolist()) & set(b.tolist())) / 10
                    for a, b in zip(found, truth, strict=True)
                ]
            )
        )
        results[kind] = {
            "vectors_per_s": n / build_s,
            "build_s": build_s,
            "size_mb": size / 1e6,
            "search_p50_ms": _percentile(times, 50),
            "search_p95_ms": _percentile(times, 95),
            "recall_at_10_vs_flat": recall,
        }
    return results


def seed_build(model: str) -> dict[str, float]:
    """Cold build of the seed corpus, then an incremental rebuild after touching one file."""
    embedder = load_embedder(model)
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(tmp) / "corpus"
        shutil.copytree(DEFAULT_CORPUS_DIR, corpus_dir)
        index_dir = Path(tmp) / "index"
        cold = build_index(corpus_dir, index_dir, model, progress=False, embedder=embedder)
        first = sorted(corpus_dir.iterdir())[0]
        first.write_text(
            first.read_text(encoding="utf-8") + "\n\n新增的一段话。\n", encoding="utf-8"
        )
        warm = build_index(corpus_dir, index_dir, model, progress=False, embedder=embedder)
        size = _dir_size(index_dir)
    return {
        "passages": cold.n_passages,
        "texts_embedded": cold.n_embedded,
        "cold_build_s": cold.seconds,
        "texts_per_s": cold.n_embedded / cold.seconds,
        "passages_per_s": cold.n_passages / cold.seconds,
        "rebuild_one_file_s": warm.seconds,
        "rebuild_texts_embedded": warm.n_embedded,
        "index_size_mb": size / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, default=paths.INDEX_DIR)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--synthetic", type=int, default=100_000, help="synthetic corpus size")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    return run(args.index, args.model, args.synthetic, args.json)


def run(index: Path, model: str, synthetic: int, json_path: Path | None = None) -> int:
    """Every benchmark, printed (and written to `json_path` as JSON when given)."""
    report: dict[str, object] = {}
    print("== seed corpus build ==")
    report["seed_build"] = build = seed_build(model)
    for key, value in build.items():
        print(f"  {key:24s} {value:10.2f}")

    print("== query latency (dev questions, warm, in-process) ==")
    if not index.exists():
        build_index(DEFAULT_CORPUS_DIR, index, model, progress=False)
    engine = Engine.load(index, model)
    questions = [q.question for q in load_questions(DEV_SET)]
    latency = query_latency(engine, questions)
    report["latency"] = latency.__dict__
    print(
        f"  ask p50 {latency.p50_ms:.1f} ms   p95 {latency.p95_ms:.1f} ms   "
        f"(question encoding alone p50 {latency.encode_p50_ms:.1f} ms, n={latency.n})"
    )

    print(f"== synthetic corpus: {synthetic:,} random {engine.manifest.dim}-d vectors ==")
    ann = synthetic_ann(synthetic, engine.manifest.dim)
    report["synthetic"] = ann
    print(
        f"  {'':6s} {'add/s':>10s} {'size MB':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'recall@10':>9s}"
    )
    for kind, row in ann.items():
        print(
            f"  {kind:6s} {row['vectors_per_s']:10.0f} {row['size_mb']:8.1f} "
            f"{row['search_p50_ms']:8.3f} {row['search_p95_ms']:8.3f} "
            f"{row['recall_at_10_vs_flat']:9.3f}"
        )
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
