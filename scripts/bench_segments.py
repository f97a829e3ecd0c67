#!/usr/bin/env python3
"""Benchmark what one write costs the library after its batch is embedded: the per-commit
publish (store reads, `assemble`, catalog, view, engine), at growing archive sizes.

For each size (chunks in the archive) a real `Library` over a real SQLite store is filled with
synthetic segments made from the seed index (var/index, built if missing): copies of its
documents under new ids, as one large merged segment plus six one-document segments, as the
merge policy leaves them. Each measured write then commits one more one-document segment (the
store transaction `Library._commit_new` runs, without the embedding) and publishes the new
view, as a write does. Printed, in the same run and for each size:

- the whole publish of the new path (`Library._publish`, median of the writes) and its parts;
- the parts that differ on the old path, the full rebuild this replaced: BM25 rebuilt with bm25s
  over every chunk's tokens, every chunk and sentence vector concatenated and one flat FAISS
  index refilled; and what the new path pays instead (the new segment's `TermStats` and flat
  index, combining the segments' into a view). The old per-write time is the new publish
  with those parts swapped;
- the query-side cost of per-segment BM25: `scores()` p50 over the seed's titles, bm25s
  against `SegmentedBM25`, and a check that they are equal to the bit.

    scripts/bench_segments.py [--sizes 1000,5000,20000,50000] [--writes 3]

Writes its numbers to var/bench/segments.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
if Path(sys.prefix).resolve() != VENV.resolve() and (VENV / "bin" / "python").exists():
    os.execv(VENV / "bin" / "python", [str(VENV / "bin" / "python"), __file__, *sys.argv[1:]])
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from index.engine import Engine  # noqa: E402
from index.opening import library_options  # noqa: E402
from index.search import dense  # noqa: E402
from index.search.bm25 import BM25Index, SegmentedBM25  # noqa: E402
from index.search.dense import AnnParams  # noqa: E402
from index.search.segmented import assemble, catalog_for  # noqa: E402
from index.store.docstore import DocStore, sqlite_url  # noqa: E402
from index.store.files import read_index  # noqa: E402
from index.store.ingest import from_index, select_rows  # noqa: E402
from index.store.library import Library  # noqa: E402
from index.store.records import StoredDocument, now  # noqa: E402
from index.store.segments import SegmentData  # noqa: E402
from index.text.tokenize import tokenize  # noqa: E402

SMALL_SEGMENTS = 6


def seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def renamed(seed: SegmentData, tag: str, rows: int | None = None) -> SegmentData:
    """The seed segment (or its first `rows` documents) under new document ids."""
    keep = list(range(len(seed.documents) if rows is None else rows))
    part = select_rows([(seed, keep)])
    documents = [replace(d, doc_id=f"{d.doc_id}#{tag}") for d in part.documents]
    return replace(part, documents=documents)


def grown(seed: SegmentData, n_chunks: int) -> SegmentData:
    """One merged segment of about `n_chunks` chunks: copies of the seed under new ids."""
    copies = max(1, round(n_chunks / len(seed.chunks)))
    parts = [(renamed(seed, f"big{k}"), list(range(len(seed.documents)))) for k in range(copies)]
    return select_rows(parts)


def commit(library: Library, name: str, segment: SegmentData, collection: str) -> None:
    """The store side of `Library._commit_new` for an embedded segment (one transaction)."""
    stamp = now()
    rows = [
        StoredDocument.of(
            doc,
            collection=collection,
            sha256=doc.doc_id,
            segment=name,
            segment_row=row,
            stamp=stamp,
        )
        for row, doc in enumerate(segment.documents)
    ]
    with library.store.transaction() as conn:
        DocStore.ensure_collection(conn, collection)
        DocStore.add_segment(conn, name, len(rows), len(segment.chunks))
        DocStore.put(conn, rows)
        DocStore.bump(conn)
    library._segments[name] = segment  # as `_commit_new` keeps what it wrote


def publish_parts(library: Library) -> dict[str, float]:
    """The calls `Library._publish` makes, timed one by one (on the current store)."""
    t: dict[str, float] = {}
    t["store reads"], (live, names) = seconds(
        lambda: (
            rows := library.store.live_rows(),
            [s.name for s in library.store.segments() if s.name in {r.segment for r in rows}],
        )
    )
    segments = [library._segment(n) for n in names]
    chunking = {**library.chunking.__dict__, "separators": list(library.chunking.separators)}
    t["assemble"], parts = seconds(lambda: assemble(names, segments, chunking))
    t["catalog"], catalog = seconds(
        lambda: catalog_for(parts, live, library.store.collection_names())
    )
    t["view"], view = seconds(lambda: library.backend.view(parts.data, catalog))
    t["engine"], _ = seconds(
        lambda: Engine(parts.data, library.embedder, library.config, catalog=catalog, view=view)
    )
    return t


def rebuild_parts(segments: list[SegmentData], new: SegmentData) -> dict[str, float]:
    """Inside `assemble`: what the old full rebuild paid, and what the new path pays."""
    t: dict[str, float] = {}
    tokens = [row for s in segments for row in s.tokens]
    t["old: bm25s over every chunk"], _ = seconds(lambda: BM25Index.from_tokens(tokens))
    fresh = replace(new, documents=list(new.documents))  # its TermStats not yet computed
    t["new: TermStats of the new segment"], _ = seconds(lambda: fresh.terms)
    t["new: SegmentedBM25 over the segments"], _ = seconds(
        lambda: SegmentedBM25([s.terms for s in segments])
    )
    t["old: concatenate chunk vectors"], vectors = seconds(
        lambda: np.concatenate([s.chunk_vectors for s in segments])
    )
    t["old: fill one flat FAISS index"], _ = seconds(
        lambda: dense.build_faiss(vectors, AnnParams())
    )
    t["old: concatenate sentence vectors"], _ = seconds(
        lambda: np.concatenate([s.sentence_vectors for s in segments])
    )
    t["new: flat index of the new segment"], _ = seconds(lambda: fresh.passage_index)
    t["new: SegmentedFlat + RowBlocks"], _ = seconds(
        lambda: (
            dense.SegmentedFlat([s.passage_index for s in segments], new.dim),
            dense.RowBlocks([s.sentence_vectors for s in segments], new.dim),
        )
    )

    def pinyin() -> dict[str, set[str]]:
        merged: dict[str, set[str]] = {}
        for s in segments:
            for key, words in s.pinyin.items():
                merged.setdefault(key, set()).update(words)
        return merged

    t["both: merge pinyin tables"], _ = seconds(pinyin)
    return t


def query_side(segments: list[SegmentData], queries: list[str]) -> tuple[float, float, bool]:
    """p50 ms of `scores()` for bm25s and for SegmentedBM25; whether all scores are equal."""
    tokens = [row for s in segments for row in s.tokens]
    single = BM25Index.from_tokens(tokens)
    segmented = SegmentedBM25([s.terms for s in segments])
    old, new, equal = [], [], True
    for q in queries:
        a_s, a = seconds(partial(single.scores, q))
        b_s, b = seconds(partial(segmented.scores, q))
        old.append(a_s * 1000)
        new.append(b_s * 1000)
        equal = equal and bool(np.array_equal(a, b))
    return median(old), median(new), equal


def seed_index() -> Path:
    index_dir = ROOT / "var" / "index"
    if not (index_dir / "manifest.json").exists():
        subprocess.run([str(VENV / "bin" / "ragqa"), "build", "--quiet"], check=True, cwd=ROOT)
    return index_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000,50000")
    parser.add_argument("--writes", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from index.encode.embedder import DEFAULT_MODEL, load_embedder

    index = read_index(seed_index())
    seed = from_index(index)
    embedder = load_embedder(DEFAULT_MODEL, encoder=index.manifest.encoder)
    queries = [d.title for d in seed.documents] + [
        d.text[a:b][:24] for d in seed.documents for a, b in [(0, 24), (100, 124)]
    ]
    queries = [q for q in queries if tokenize(q)]
    print(
        f"seed: {len(seed.documents)} documents, {len(seed.chunks)} chunks, "
        f"{len(seed.sentences)} sentences; {len(queries)} queries; load average "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="ragqa-bench-segments-") as tmp:
            data_dir = Path(tmp)
            store = DocStore(sqlite_url(data_dir / "store.db"))
            library = Library(
                store,
                data_dir / "segments",
                embedder,
                background_merge=False,
                **library_options(index.manifest),
            )
            big = grown(seed, size)
            big.terms  # noqa: B018 (computed once, when the segment was written or loaded)
            commit(library, "seg-0000-big", big, "default")
            for k in range(SMALL_SEGMENTS):
                small = renamed(seed, f"small{k}", rows=1)
                small.terms  # noqa: B018
                commit(library, f"seg-0001-small{k}", small, "news")
            library._publish()
            publishes: list[float] = []
            parts: list[dict[str, float]] = []
            inner: list[dict[str, float]] = []
            for w in range(args.writes):
                new = renamed(seed, f"write{w}", rows=1)
                commit(library, f"seg-0002-write{w}", new, "news")
                elapsed, _ = seconds(library._publish)
                publishes.append(elapsed)
                parts.append(publish_parts(library))
                segments = [library._segment(n) for n in library._parts.segments]  # type: ignore[union-attr]
                inner.append(rebuild_parts(segments, new))
            n_chunks = len(library.engine.data.chunks)
            n_sentences = len(library.engine.data.sentences)
            old_ms, new_ms, equal = query_side(segments, queries)
            library.close()
        part = {k: median(p[k] for p in parts) for k in parts[0]}
        ins = {k: median(p[k] for p in inner) for k in inner[0]}
        new_total = median(publishes)
        # the old publish: the new one with its per-segment parts swapped for the rebuilds
        old_total = (
            new_total
            - sum(v for k, v in ins.items() if k.startswith("new:"))
            + sum(v for k, v in ins.items() if k.startswith("old:"))
        )
        print(f"\n{n_chunks:,} chunks ({n_sentences:,} sentences, {len(segments)} segments)")
        print(
            f"  per-write publish: old full rebuild {old_total * 1000:8.1f} ms   "
            f"new incremental {new_total * 1000:8.1f} ms   (median of {args.writes} writes)"
        )
        print(
            "  new publish parts: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in part.items())
        )
        for key, value in ins.items():
            print(f"    {key:40s} {value * 1000:8.1f} ms")
        print(
            f"  query: bm25s scores() p50 {old_ms:.2f} ms, SegmentedBM25 p50 {new_ms:.2f} ms; "
            f"equal to the bit: {equal}",
            flush=True,
        )
        results.append(
            {
                "chunks": n_chunks,
                "sentences": n_sentences,
                "segments": len(segments),
                "publish_old_s": old_total,
                "publish_new_s": new_total,
                "publish_parts_s": part,
                "inside_assemble_s": ins,
                "query_bm25s_p50_ms": old_ms,
                "query_segmented_p50_ms": new_ms,
                "scores_equal": equal,
            }
        )
    out = ROOT / "var" / "bench" / "segments.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"load_average": os.getloadavg(), "sizes": results}, indent=2), "utf-8"
    )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; numbers in {out}")


if __name__ == "__main__":
    main()
