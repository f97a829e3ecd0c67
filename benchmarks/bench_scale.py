"""The scale benchmark: a synthetic index of a million passages, queried by the engine's own path.

`generate` writes a real index directory (`index.store.files` format: documents, spans, BM25, an IVF
passage index, int8 sentence vectors) of synthetic news-like data; `measure` loads it the way
the service does (memory-mapped) in a fresh process and runs `index.rank.pipeline` over it: query
reading, dense and BM25 candidates, fusion, sentence evidence, answer choice and abstention,
through `IndexView`. No encoder runs: query vectors are synthetic too.

The data, and why it is shaped this way:
- vectors are clustered, as text embeddings are: 4,096 topic centres; a document is its topic
  plus noise (cosine ≈ 0.8 to the centre), a passage its document plus noise (≈ 0.86), a
  sentence its passage plus noise (≈ 0.74), a query a sentence plus noise (≈ 0.86). Uniform
  random vectors have no neighbours worth finding (ranks 2-10 are near-ties among unrelated
  points), which says nothing about recall on real embeddings;
- words are real: the jieba words of the bundled articles; each sentence takes half its words
  from its topic's 48 words and half from a skewed draw over all of them, so BM25 postings
  have a news-like long tail, and a query is its sentence's words with some dropped.

Before the queries, the index files are read once into the page cache (a server that has been
answering for a while has them there; 3.5 GB at a million passages fits this machine's RAM
many times); 100 other queries run first, untimed. With a cold page cache every query waits
for the disk: about 40-50 ms p50 was measured that way on the shared machine, 5-6 ms warm.

Exact search for recall is the same pipeline with the IVF index swapped for a flat index of
the same float32 vectors (saved beside the index, not part of it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SCALE_DIM = 384


@dataclass(frozen=True)
class ScaleSpec:
    """What `generate` makes."""

    passages: int = 1_000_000
    sentences_per_passage: int = 6
    passages_per_document: int = 5
    words_per_sentence: int = 6
    topics: int = 4096
    topic_words: int = 48
    dim: int = SCALE_DIM
    queries: int = 200
    warmup: int = 100
    """Other queries run first (not timed): the server has been running for a while."""
    nlist: int = 2048
    nprobe: int = 32
    seed: int = 0

    @property
    def documents(self) -> int:
        return -(-self.passages // self.passages_per_document)

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _unit(rows: np.ndarray) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


def _noisy(base: np.ndarray, scale: float, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """`base` rows plus Gaussian noise of norm ≈ `scale`, re-normalised."""
    noise = rng.standard_normal(base.shape, dtype=np.float32)
    noise *= np.float32(scale / np.sqrt(base.shape[1]))
    noise += base
    return _unit(noise)


def vocabulary() -> list[str]:
    """The jieba words (two or more CJK characters) of the bundled articles, sorted."""
    from corpus import DEFAULT_CORPUS_DIR
    from corpus.loader import corpus_files, load_file
    from index.text.tokenize import tokenize

    words: set[str] = set()
    for path in corpus_files(DEFAULT_CORPUS_DIR):
        for doc in load_file(path)[0]:
            words.update(
                w
                for w in tokenize(doc.text)
                if len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w)
            )
    return sorted(words)


def generate(spec: ScaleSpec, out: Path, *, say: Any = print) -> dict[str, float]:
    """Write the synthetic index to `out / "index"`, its exact vectors and queries beside it."""
    from corpus.documents import Document
    from index.encode.quantize import quantize_rows
    from index.rank.pinyin import pinyin_table
    from index.search import dense
    from index.search.bm25 import BM25Index
    from index.search.dense import AnnParams
    from index.store.files import IndexData, IndexManifest, write_index

    started = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    words = vocabulary()
    n_words = len(words)
    n_p, n_s = spec.passages, spec.passages * spec.sentences_per_passage
    n_d = spec.documents
    doc_topic = rng.integers(0, spec.topics, n_d)
    topic_words = rng.integers(0, n_words, (spec.topics, spec.topic_words))

    # -- words and text ------------------------------------------------------------------
    k = spec.words_per_sentence
    passage_doc = np.arange(n_p) // spec.passages_per_document
    sentence_passage = np.arange(n_s) // spec.sentences_per_passage
    sentence_topic = doc_topic[passage_doc[sentence_passage]]
    half = k // 2
    picks = np.empty((n_s, k), dtype=np.int32)
    picks[:, :half] = topic_words[
        sentence_topic[:, None], rng.integers(0, spec.topic_words, (n_s, half))
    ]
    picks[:, half:] = (n_words * rng.random((n_s, k - half)) ** 3).astype(np.int64)
    say(f"  scale: {n_d:,} documents, {n_p:,} passages, {n_s:,} sentences, {n_words} words")

    # -- vectors ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    centres = _unit(rng.standard_normal((spec.topics, spec.dim), dtype=np.float32))
    doc_vectors = _noisy(centres[doc_topic], 0.75, rng)
    passage_vectors = _noisy(doc_vectors[passage_doc], 0.6, rng)
    codes = np.empty((n_s, spec.dim), dtype=np.int8)
    scales = np.empty(n_s, dtype=np.float32)
    per = spec.sentences_per_passage
    step = 100_000
    worst = 0.0
    for lo in range(0, n_p, step):
        hi = min(lo + step, n_p)
        base = passage_vectors[lo:hi]
        # One Gaussian draw per passage; sentence j takes it rotated by 7j components: the
        # rotations are as good as independent draws (their inner products are ~N(0, 1/dim))
        # at a sixth of the random numbers.
        noise = rng.standard_normal(base.shape, dtype=np.float32)
        noise *= np.float32(0.9 / np.sqrt(spec.dim))
        for j in range(per):
            block = _unit(base + np.roll(noise, 7 * j, axis=1))
            rows = slice(lo * per + j, hi * per, per)
            codes[rows], scales[rows] = quantize_rows(block)
            if lo == 0 and j == 0:  # the int8 storage's cosine error, against a unit query
                probe = _unit(rng.standard_normal((1, spec.dim), dtype=np.float32))[0]
                exact = block @ probe
                approx = (codes[rows].astype(np.float32) @ probe) * scales[rows]
                worst = float(np.abs(exact - approx).max())
    say(f"  scale: vectors in {time.perf_counter() - t0:.0f} s")

    # -- queries: a random sentence each, its words thinned, its vector perturbed ------------
    targets = rng.choice(n_s, spec.warmup + spec.queries, replace=False)
    query_vectors = _noisy((codes[targets].astype(np.float32) * scales[targets, None]), 0.6, rng)
    queries = []
    for i, row in enumerate(targets.tolist()):
        keep = [w for j, w in enumerate(picks[row].tolist()) if j == 0 or rng.random() > 0.3]
        queries.append(
            {
                "question": "".join(words[w] for w in keep) + "是多少",
                "passage": int(row // spec.sentences_per_passage),
                "row": i,
            }
        )

    # -- the index directory ----------------------------------------------------------------
    t0 = time.perf_counter()
    ann = AnnParams(kind="ivf", nlist=spec.nlist, nprobe=spec.nprobe)
    passages = dense.build_ivf(passage_vectors, ann)
    ivf_s = time.perf_counter() - t0
    lists = dense.ivf_lists(n_p, spec.nlist)
    say(f"  scale: IVF ({lists} lists, 8-bit) trained and filled in {ivf_s:.0f} s")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    np.save(out / "exact_passages.npy", passage_vectors, allow_pickle=False)
    del passage_vectors, doc_vectors  # the peak memory is here: free them before the text
    t0 = time.perf_counter()
    sentence_text = ["".join(words[i] for i in row) + "。" for row in picks.tolist()]
    lengths = np.fromiter((len(t) for t in sentence_text), dtype=np.int64, count=n_s)
    sentence_row = passage_doc[sentence_passage]
    # offsets inside each document: cumulative lengths restarted at each document
    ends = np.cumsum(lengths)
    doc_first_sentence = np.searchsorted(sentence_row, np.arange(n_d))
    doc_base = np.concatenate([[0], ends])[doc_first_sentence]
    s_end = ends - doc_base[sentence_row]
    s_start = s_end - lengths
    sentences = np.stack([sentence_row, s_start, s_end], axis=1).astype(np.int64)
    first = np.arange(n_p) * spec.sentences_per_passage
    last = first + spec.sentences_per_passage - 1
    chunks = np.stack([passage_doc, s_start[first], s_end[last]], axis=1).astype(np.int64)
    titles = ["".join(words[i] for i in topic_words[t, :2]) for t in doc_topic.tolist()]
    bounds = np.append(doc_first_sentence, n_s).tolist()
    documents = [
        Document(
            doc_id=f"synthetic-{d:07d}.txt:0",
            title=titles[d],
            source=f"synthetic-{d:07d}.txt",
            published=None,
            text="".join(sentence_text[bounds[d] : bounds[d + 1]]),
        )
        for d in range(n_d)
    ]
    title_words = topic_words[doc_topic, :2]
    passage_tokens = [
        [words[i] for i in title_words[passage_doc[p]].tolist()]
        + [words[i] for i in picks[first[p] : last[p] + 1].ravel().tolist()]
        for p in range(n_p)
    ]
    say(f"  scale: text and tokens in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    bm25 = BM25Index.from_tokens(passage_tokens)
    bm25_s = time.perf_counter() - t0
    say(f"  scale: BM25 over {n_p:,} passages in {bm25_s:.0f} s")
    del passage_tokens
    manifest = IndexManifest(
        model="synthetic",
        dim=spec.dim,
        chunking={"synthetic": asdict(spec)},
        ann=asdict(ann),
        embed_titles=True,
        sources={},
        counts={"documents": n_d, "chunks": n_p, "sentences": n_s},
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
        versions={},
    )
    data = IndexData(
        manifest=manifest,
        documents=documents,
        chunks=chunks,
        sentences=sentences,
        passages=passages,
        sentence_vectors=codes,
        bm25=bm25,
        pinyin=pinyin_table(bm25.vocabulary),
        sentence_scales=scales,
    )
    t0 = time.perf_counter()
    write_index(out / "index", data)
    np.save(out / "queries.npy", query_vectors, allow_pickle=False)
    (out / "queries.json").write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    (out / "spec.json").write_text(spec.key(), encoding="utf-8")
    say(f"  scale: written in {time.perf_counter() - t0:.0f} s")
    return {
        "generate_s": time.perf_counter() - started,
        "ivf_build_s": ivf_s,
        "bm25_build_s": bm25_s,
        "int8_cosine_error_max": worst,
        "nlist": float(lists),
    }


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process, in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    values = {line.split(":")[0]: line.split()[1] for line in status if line.startswith("Vm")}
    return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024


def warm_page_cache(directory: Path) -> float:
    """Read every file of `directory` once (seconds taken), so the queries find the index in
    the page cache, as on a server that has been answering for a while. `read` fills the page
    cache without mapping anything into this process, so it does not count in its RSS."""
    started = time.perf_counter()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass
    return time.perf_counter() - started


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _run_queries(
    view: Any, questions: list[dict[str, Any]], vectors: np.ndarray, warmup: int
) -> dict[str, Any]:
    from index.rank.abstain import default_model
    from index.rank.params import AnswerParams, RankingParams
    from index.rank.pipeline import Pipeline, RetrievalConfig, Trace
    from index.rank.query import read_query

    ranking_params, answer_params = RankingParams(), AnswerParams()
    model = default_model()
    no_encoder: Any = None  # the questions come encoded: stages 1-5 run from a read query
    pipeline = Pipeline(view, no_encoder, RetrievalConfig(), ranking_params, answer_params, model)
    times, lexical_ms, dense_ms, tops, dense_tops, hits = [], [], [], [], [], 0
    for item, vector in zip(questions[:warmup], vectors[:warmup], strict=True):
        query = read_query(view, item["question"], vector, ranking_params)
        trace = pipeline.resume(Trace.at_query(query))
    questions, vectors = questions[warmup:], vectors[warmup:]
    for item, vector in zip(questions, vectors, strict=True):
        t0 = time.perf_counter()
        query = read_query(view, item["question"], vector, ranking_params)
        trace = pipeline.resume(Trace.at_query(query))
        times.append((time.perf_counter() - t0) * 1000)
        assert trace.ranking is not None
        top = trace.ranking.top(10)
        tops.append(top)
        hits += item["passage"] in top
        t0 = time.perf_counter()
        view.lexical_scores(query.lexical, None)
        lexical_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        ids, _ = view.dense_search(vector, ranking_params.dense_pool, None)
        dense_ms.append((time.perf_counter() - t0) * 1000)
        dense_tops.append(ids[:10].tolist())
    return {
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "bm25_scores_p50_ms": float(np.percentile(lexical_ms, 50)),
        "dense_search_p50_ms": float(np.percentile(dense_ms, 50)),
        "target_in_top10": hits / len(questions),
        "tops": tops,
        "dense_tops": dense_tops,
    }


def _recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(
        np.mean([len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(found, truth, strict=True)])
    )


def measure(out: Path, *, threads: int = 1, nprobe: int | None = None) -> dict[str, Any]:
    """Load `out / "index"` memory-mapped (as the service does) and run the queries through the
    engine's pipeline, ANN then exact; RSS and on-disk size of the index."""
    import faiss

    from index.search.view import IndexView
    from index.store.files import read_index

    faiss.omp_set_num_threads(threads)
    page_cache_s = warm_page_cache(out / "index")
    rss_before, _ = _rss_mb()
    t0 = time.perf_counter()
    data = read_index(out / "index", mmap=True, verify=False)
    if nprobe is not None:
        data.passages.nprobe = nprobe  # type: ignore[union-attr]
    view = IndexView(data)
    load_s = time.perf_counter() - t0
    rss_loaded, _ = _rss_mb()
    questions = json.loads((out / "queries.json").read_text(encoding="utf-8"))
    vectors = np.load(out / "queries.npy")
    warmup = int(json.loads((out / "spec.json").read_text(encoding="utf-8"))["warmup"])
    ann = _run_queries(view, questions, vectors, warmup)
    rss_after, rss_peak = _rss_mb()
    exact_vectors = np.load(out / "exact_passages.npy", mmap_mode="r")
    flat = faiss.IndexFlatIP(exact_vectors.shape[1])
    for lo in range(0, len(exact_vectors), 100_000):
        flat.add(np.ascontiguousarray(exact_vectors[lo : lo + 100_000]))
    exact_view = IndexView(replace(data, passages=flat))
    exact = _run_queries(exact_view, questions, vectors, warmup)
    return {
        "passages": view.n_passages,
        "nprobe": int(data.passages.nprobe),  # type: ignore[union-attr]
        "sentences": len(data.sentences),
        "load_s": load_s,
        "page_cache_warmup_s": page_cache_s,
        "p50_ms": ann["p50_ms"],
        "p95_ms": ann["p95_ms"],
        "bm25_scores_p50_ms": ann["bm25_scores_p50_ms"],
        "dense_search_p50_ms": ann["dense_search_p50_ms"],
        "exact_p50_ms": exact["p50_ms"],
        "exact_dense_search_p50_ms": exact["dense_search_p50_ms"],
        "recall_at_10_ranking": _recall(ann["tops"], exact["tops"]),
        "recall_at_10_dense": _recall(ann["dense_tops"], exact["dense_tops"]),
        "target_in_top10": ann["target_in_top10"],
        "target_in_top10_exact": exact["target_in_top10"],
        "rss_process_mb": rss_after,
        "rss_peak_mb": rss_peak,
        "rss_index_mb": rss_after - rss_before,
        "rss_loaded_mb": rss_loaded - rss_before,
        "disk_mb": _dir_mb(out / "index"),
        "queries": len(questions) - warmup,
        "warmup_queries": warmup,
    }


def run(spec: ScaleSpec, workdir: Path, *, threads: int = 1, say: Any = print) -> dict[str, Any]:
    """Generate (unless `workdir` already holds this spec) and measure in a fresh process."""
    out = workdir / f"scale-{spec.passages}"
    made: dict[str, float] = {}
    spec_file = out / "spec.json"
    if not (spec_file.is_file() and spec_file.read_text(encoding="utf-8") == spec.key()):
        made = generate(spec, out, say=say)
    else:
        say(f"  scale: reusing {out} (same spec)")
    result_file = out / "measured.json"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_scale",
        "measure",
        str(out),
        "--json",
        str(result_file),
    ]
    command += ["--threads", str(threads)]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    measured: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return {**made, **measured}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("out", type=Path)
    gen.add_argument("--passages", type=int, default=ScaleSpec.passages)
    mea = sub.add_parser("measure")
    mea.add_argument("out", type=Path)
    mea.add_argument("--json", type=Path)
    mea.add_argument("--threads", type=int, default=1)
    mea.add_argument("--nprobe", type=int)
    args = parser.parse_args(argv)
    if args.command == "generate":
        print(json.dumps(generate(ScaleSpec(passages=args.passages), args.out), indent=2))
        return 0
    result = measure(args.out, threads=args.threads, nprobe=args.nprobe)
    result["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
