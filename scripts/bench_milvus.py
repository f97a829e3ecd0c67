"""FAISS against Milvus (milvus-lite, in this process), side by side, in one run.

For the seed index (dev and own sets) and the CMRC trial index (its 1,002 questions):

- quality: hit@5 and answer accuracy of the same engine over each backend (the pipeline is
  the same code; only the candidate searches and vector reads differ);
- ingest: passages per second from stored vectors to a searchable index, embedding excluded
  (the same model runs for both): FAISS = the flat index plus bm25s from the stored tokens
  (what a segmented view builds), Milvus = the passage and sentence rows written into fresh
  collections, BM25 computed by Milvus from the jieba-analysed text;
- query latency p50/p95 of a full ask (encode, rank, answer) over the questions of the sets,
  the two backends asked in turn, question by question, so both see the same machine load;
- memory: this process' resident set after loading the FAISS engine, and its growth when the
  milvus-lite engine and its collections are added (milvus-lite runs in-process, so its copy
  of the vectors and postings is counted here; pymilvus and milvus-lite are imported before
  the first figure, so the growth is data, not code).

Usage: OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_milvus.py [--sets dev,own,cmrc]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="dev,own,cmrc")
    parser.add_argument("--index", type=Path, default=None, help="seed index (default var/index)")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]

    import milvus_lite.adapter.grpc.server  # noqa: F401 - code loaded before any RSS figure
    import pymilvus  # noqa: F401

    from corpus import paths
    from eval.metrics import QuestionResult, percentile, summarize_group
    from eval.opening import _cmrc_engine
    from eval.runner import EngineAnswerer, ask_one
    from eval.sets import named_set
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.engine import Engine
    from index.search import dense
    from index.search.bm25 import BM25Index
    from index.search.dense import AnnParams
    from index.search.milvus import MilvusIndex, MilvusSettings, MilvusView
    from index.store.ingest import from_index

    embedder = load_embedder(DEFAULT_MODEL)
    corpora: dict[str, list[str]] = {}
    for name in wanted:
        corpora.setdefault(named_set(name).corpus, []).append(name)
    rows: list[str] = []
    speed: list[str] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    for corpus, set_names in corpora.items():
        if corpus == "seed":
            engine = Engine.load(args.index or paths.INDEX_DIR, embedder=embedder)
        else:
            _, _, engine = _cmrc_engine(paths.EVAL_CACHE_DIR, embedder, quiet=False)
        data = engine.data
        rss_faiss = rss_mib()
        n_chunks, n_sentences = len(data.chunks), len(data.sentences)

        segment = from_index(data)  # the tokens and vectors a segment holds
        vectors = segment.chunk_vectors
        started = time.perf_counter()
        dense.build_faiss(vectors, AnnParams())
        BM25Index.from_tokens(segment.tokens)
        faiss_s = time.perf_counter() - started

        uri = str(scratch / f"{corpus}.db")
        milvus = MilvusIndex(MilvusSettings(uri, timeout_s=60), data.manifest.dim)
        view = MilvusView(data, milvus, engine.catalog, lexical_limit=engine.ranking.depth)
        started = time.perf_counter()
        milvus.sync(view)
        milvus_s = time.perf_counter() - started
        on_milvus = Engine(
            data,
            engine.embedder,
            engine.config,
            engine.abstention,
            ranking=engine.ranking,
            answering=engine.answering,
            view=view,
            catalog=engine.catalog,
        )
        rss_both = rss_mib()

        latencies: dict[str, list[float]] = {"faiss": [], "milvus": []}
        for set_name in set_names:
            questions = named_set(set_name).load()
            line = [f"{set_name} ({len(questions)})"]
            answerers = {"faiss": EngineAnswerer(engine), "milvus": EngineAnswerer(on_milvus)}
            results: dict[str, list[QuestionResult]] = {"faiss": [], "milvus": []}
            for question in questions:  # interleaved: both backends see the same load
                for backend, answerer in answerers.items():
                    results[backend].append(ask_one(answerer, question))
            for backend in answerers:
                summary = summarize_group(results[backend])
                latencies[backend] += [r.latency_ms for r in results[backend]]
                line.append(
                    f"{backend}: hit@5 {100 * (summary.hit_at_5 or 0):.1f} "
                    f"answer {100 * (summary.answer_accuracy or 0):.1f} "
                    f"errors {summary.n_errors}"
                )
            rows.append(" | ".join(line))
            print(rows[-1], flush=True)
        for backend, seconds in (("faiss", faiss_s), ("milvus", milvus_s)):
            lat = latencies[backend]
            speed.append(
                f"{corpus} index ({n_chunks} passages, {n_sentences} sentences) {backend}: "
                f"ingest {n_chunks / seconds:,.0f} passages/s ({seconds:.2f} s) | "
                f"ask p50 {percentile(lat, 50):.1f} ms p95 {percentile(lat, 95):.1f} ms "
                f"over {len(lat)} questions"
            )
            print(speed[-1], flush=True)
        speed.append(
            f"{corpus} memory: RSS {rss_faiss:,.0f} MiB with the FAISS engine, "
            f"+{rss_both - rss_faiss:,.0f} MiB with milvus-lite and its collections in-process"
        )
        print(speed[-1], flush=True)
        milvus.close()
    print("\n== quality, FAISS against Milvus (milvus-lite) ==")
    print("\n".join(rows))
    print("\n== speed and memory ==")
    print("\n".join(speed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
