"""The scale benchmark on the deployment's servers: N synthetic passages written into
PostgreSQL (the document store) and a Milvus server (milvus-lite as its own gRPC process),
then asked through two ragqa replicas (`python -m service`, separate processes and ports).

    python -m benchmarks.bench_scale_milvus --passages 10000
    python -m benchmarks.bench_scale_milvus --passages 100000 --batch 5000

Prints, as JSON: the ingest rate (passages per second, the whole write path: sentences split,
BM25 words, the segment written, the store transaction, the Milvus sync of passages and
sentences with its flush), the ask latency p50/p95 of each replica measured by the client
over loopback (the real encoder encodes each question), the resident memory of each replica
process, of the milvus-lite server and of this (writing) process, and the sizes on disk.

What is synthetic, and why:
- the text: sentences of words drawn from the jieba words of the bundled articles
  (`benchmarks.bench_scale.vocabulary`), half from the document's topic, half from a skewed
  draw over all of them, so BM25 postings have a long tail as news has; a question is the words
  of one sentence with some dropped;
- the vectors: random unit vectors (passages, sentences, words) from a stand-in embedder that
  carries the real model's name and encoder, so the replicas accept the segments. Encoding a
  million passages on this machine would take days; random vectors cost the same to store and
  to search exactly (FLAT) as real ones, but their nearest neighbours mean nothing, so the
  answers' quality is not measured here (it is in docs/measurements.md on real data).

PostgreSQL and the milvus-lite server are started by this script from `tests/pg.py` and
`tests/servers.py` (the one way this repository starts them), unless `--store-url` and
`--milvus-uri` name running ones. Each replica has a data directory of its own, empty at its
start (its cache of the segments, which live in PostgreSQL): nothing is shared but PostgreSQL
and Milvus, as in a deployment. They import no corpus
(`RAGQA_IMPORT_CORPUS=false`), but `python -m service` still builds the corpus index
(`RAGQA_INDEX_DIR`) when it is missing: that is done once before the replicas start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SENTENCES_PER_PASSAGE = 4
PASSAGES_PER_DOCUMENT = 4
WORDS_PER_SENTENCE = 20
TOPICS = 512
TOPIC_WORDS = 48
API_KEY = "bench-admin-key-0123456789"


class RandomEmbedder:
    """Random unit vectors under the real model's name and encoder (see the module docstring):
    what the library needs of an embedder, without the encoding cost."""

    def __init__(self, name: str, encoder: str, dim: int, seed: int) -> None:
        self.name = name
        self.encoder = encoder
        self.dim = dim
        self.weights = None
        self.model = None
        self._rng = np.random.default_rng(seed)

    def _unit(self, n: int) -> np.ndarray:
        rows = self._rng.standard_normal((n, self.dim), dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return rows

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._unit(len(texts))

    def encode_passages(
        self, texts: list[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        return self._unit(len(texts))


class Corpus:
    """Synthetic documents, `PASSAGES_PER_DOCUMENT` given passages each, and questions."""

    def __init__(self, seed: int) -> None:
        from benchmarks.bench_scale import vocabulary

        self.words = vocabulary()
        self.rng = np.random.default_rng(seed)
        self.topic_words = self.rng.integers(0, len(self.words), (TOPICS, TOPIC_WORDS))

    def sentence(self, topic: int) -> list[str]:
        half = WORDS_PER_SENTENCE // 2
        own = self.topic_words[topic, self.rng.integers(0, TOPIC_WORDS, half)]
        skewed = (len(self.words) * self.rng.random(WORDS_PER_SENTENCE - half) ** 3).astype(int)
        return [self.words[i] for i in [*own.tolist(), *skewed.tolist()]]

    def document(self, number: int) -> tuple[Any, list[list[str]]]:
        """The NewDocument and the words of its sentences."""
        from index.store.writes import NewDocument

        topic = int(self.rng.integers(0, TOPICS))
        sentences = [
            self.sentence(topic) for _ in range(PASSAGES_PER_DOCUMENT * SENTENCES_PER_PASSAGE)
        ]
        passages = [
            "".join("".join(s) + "。" for s in sentences[i : i + SENTENCES_PER_PASSAGE])
            for i in range(0, len(sentences), SENTENCES_PER_PASSAGE)
        ]
        title = "".join(self.words[i] for i in self.topic_words[topic, :2])
        doc = NewDocument(
            title=title,
            text="\n\n".join(passages),
            source=f"synthetic-{number:08d}",
            passages=tuple(passages),
            doc_id=f"synthetic-{number:08d}",
            item=f"documents[{number}]",
        )
        return doc, sentences

    def question(self, sentence: Sequence[str]) -> str:
        kept = [w for j, w in enumerate(sentence[:6]) if j == 0 or self.rng.random() > 0.3]
        return "".join(kept) + "是多少"


@contextmanager
def servers(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, str, Any, int | None]]:
    """(store URL, Milvus URI, the PostgreSQL server started here or None, the milvus-lite
    server's process id or None): the given servers, or throwaway ones started here."""
    with ExitStack() as stack:
        store_url, milvus_uri, postgres, milvus_pid = args.store_url, args.milvus_uri, None, None
        if store_url is None:
            from tests.pg import running_postgres

            postgres = stack.enter_context(running_postgres(workdir / "postgres.log"))
            store_url = postgres.new_database("scale")
        if milvus_uri is None:
            from tests.servers import running_milvus_lite

            milvus_uri, process = stack.enter_context(
                running_milvus_lite(workdir / "milvus", workdir / "milvus.log")
            )
            milvus_pid = process.pid
        yield store_url, milvus_uri, postgres, milvus_pid


def ingest(
    corpus: Corpus,
    n_passages: int,
    batch: int,
    n_questions: int,
    store_url: str,
    milvus: Any,
    data_dir: Path,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Write the documents through the library (store, segments, Milvus); the figures, and
    (question, expected doc_id) pairs drawn from what was written."""
    from index.encode.embedder import resolve_encoder
    from index.search.backend import MilvusBackend
    from index.search.milvus import MilvusIndex
    from index.settings import Settings
    from index.store.docstore import DocStore
    from index.store.library import Library

    settings = Settings()
    embedder: Any = RandomEmbedder(
        settings.model, resolve_encoder(settings.encoder, settings.model), 384, seed=1
    )

    class TimedBackend(MilvusBackend):
        """The Milvus backend, timing its views (each one a sync: the key reads, inserts,
        deletes and flush) so that the ingest figure can be split."""

        seconds = 0.0

        def view(self, data: Any, catalog: Any, sync: bool = True) -> Any:
            t0 = time.perf_counter()
            try:
                return super().view(data, catalog, sync=sync)
            finally:
                TimedBackend.seconds += time.perf_counter() - t0

    backend = TimedBackend(MilvusIndex(milvus, embedder.dim), lexical_limit=100)
    library = Library(
        DocStore(store_url),
        data_dir / "segments",
        embedder,
        background_merge=False,
        backend=backend,
    )
    library.recover()
    library.create_collection("scale")
    n_docs = -(-n_passages // PASSAGES_PER_DOCUMENT)
    per_batch = max(1, batch // PASSAGES_PER_DOCUMENT)
    every = max(1, n_docs // n_questions)  # a question from every so many documents
    questions: list[tuple[str, str]] = []
    batches: list[float] = []
    started = time.perf_counter()
    for lo in range(0, n_docs, per_batch):
        docs = []
        for number in range(lo, min(lo + per_batch, n_docs)):
            doc, sentences = corpus.document(number)
            docs.append(doc)
            if number % every == 0 and len(questions) < n_questions:
                pick = sentences[int(corpus.rng.integers(0, len(sentences)))]
                questions.append((corpus.question(pick), str(doc.doc_id)))
        t0 = time.perf_counter()
        library.add("scale", docs)
        batches.append(len(docs) * PASSAGES_PER_DOCUMENT / (time.perf_counter() - t0))
        done = min(lo + per_batch, n_docs) * PASSAGES_PER_DOCUMENT
        print(f"  ingested {done:,} passages, this batch {batches[-1]:.0f}/s", file=sys.stderr)
    seconds = time.perf_counter() - started
    library.close()
    figures = {
        "passages": n_docs * PASSAGES_PER_DOCUMENT,
        "sentences": n_docs * PASSAGES_PER_DOCUMENT * SENTENCES_PER_PASSAGE,
        "documents": n_docs,
        "batch_passages": per_batch * PASSAGES_PER_DOCUMENT,
        "ingest_s": seconds,
        "ingest_passages_per_s": n_docs * PASSAGES_PER_DOCUMENT / seconds,
        "ingest_milvus_sync_s": TimedBackend.seconds,
        "first_batch_passages_per_s": batches[0],
        "last_batch_passages_per_s": batches[-1],
        "writer_rss_peak_mib": _status_mib(os.getpid(), "VmHWM"),
    }
    return figures, questions


def _status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def ask_replicas(
    urls: dict[str, str], questions: list[tuple[str, str]], warmup: int
) -> dict[str, Any]:
    """Each question to each replica in turn (the same load on both), after `warmup` untimed."""
    import httpx

    times: dict[str, list[float]] = {name: [] for name in urls}
    hits = dict.fromkeys(urls, 0)
    clients = {name: httpx.Client(base_url=url, timeout=300) for name, url in urls.items()}
    try:
        for i, (question, doc_id) in enumerate(questions):
            for name, http in clients.items():
                t0 = time.perf_counter()
                response = http.post(
                    "/v1/ask", json={"question": question, "collections": ["scale"]}
                )
                elapsed = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                if i < warmup:
                    continue
                times[name].append(elapsed)
                top = [p["doc_id"] for p in response.json()["passages"][:5]]
                hits[name] += doc_id in top
    finally:
        for http in clients.values():
            http.close()
    asked = len(questions) - warmup
    return {
        name: {
            "asks": asked,
            "p50_ms": float(np.percentile(times[name], 50)),
            "p95_ms": float(np.percentile(times[name], 95)),
            "target_document_in_top5": hits[name] / asked,
        }
        for name in urls
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from index.search.milvus import MilvusSettings
    from index.settings import Settings
    from service.cli import ensure_index
    from tests.servers import start_server, stop

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ragqa-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    corpus = Corpus(args.seed)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _commit(),
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "vectors": "random unit vectors (no encoder at ingest); questions encoded by the model",
    }
    with servers(args, workdir) as (store_url, milvus_uri, postgres, milvus_pid):
        milvus = MilvusSettings(milvus_uri, prefix=args.prefix, timeout_s=300)
        n_questions = args.warmup + args.asks
        figures, questions = ingest(
            corpus, args.passages, args.batch, n_questions, store_url, milvus, data_dir
        )
        result.update(figures)
        print(json.dumps(figures), file=sys.stderr, flush=True)  # kept if a replica fails
        ensure_index(Settings())  # `python -m service` builds it first if missing (untimed)
        env = {
            "RAGQA_STORE_URL": store_url,
            "RAGQA_BACKEND": "milvus",
            "RAGQA_MILVUS_URI": milvus_uri,
            "RAGQA_MILVUS_PREFIX": args.prefix,
            "RAGQA_MILVUS_TIMEOUT_S": "300",
            "RAGQA_IMPORT_CORPUS": "false",
            "RAGQA_API_KEY": API_KEY,
            "RAGQA_LOG_LEVEL": "info",
        }
        processes: dict[str, Any] = {}
        urls: dict[str, str] = {}
        try:
            for name in ("a", "b"):
                t0 = time.perf_counter()
                own = {**env, "RAGQA_DATA_DIR": str(workdir / f"replica-{name}")}
                processes[name], urls[name] = start_server(
                    own, workdir / f"replica-{name}.log", ready_within=args.start_timeout
                )
                result[f"replica_{name}_start_s"] = time.perf_counter() - t0
            result["replicas"] = ask_replicas(urls, questions, args.warmup)
            for name, process in processes.items():
                result["replicas"][name]["rss_mib"] = _status_mib(process.pid, "VmRSS")
                result["replicas"][name]["rss_peak_mib"] = _status_mib(process.pid, "VmHWM")
        finally:
            for process in processes.values():
                stop(process)
        if milvus_pid is not None:
            result["milvus_lite_rss_mib"] = _status_mib(milvus_pid, "VmRSS")
            result["milvus_lite_disk_mib"] = _dir_mib(workdir / "milvus")
        if postgres is not None:
            result["postgres_database_mib"] = _database_mib(store_url)
        result["segments_disk_mib"] = _dir_mib(data_dir)  # the writer's cache
        for name in ("a", "b"):
            result[f"replica_{name}_cache_mib"] = _dir_mib(workdir / f"replica-{name}")
    return result


def _database_mib(url: str) -> float:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return float(row[0]) / 2**20 if row else float("nan")


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2_000, help="passages per write")
    parser.add_argument("--asks", type=int, default=100, help="timed questions per replica")
    parser.add_argument("--warmup", type=int, default=10, help="untimed questions first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start-timeout",
        type=float,
        default=3600,
        help="seconds a replica may take to become ready (it fetches every segment and checks "
        "every Milvus key)",
    )
    parser.add_argument("--workdir", type=Path, help="default: a new temporary directory")
    parser.add_argument("--store-url", help="a running PostgreSQL (default: start one)")
    parser.add_argument("--milvus-uri", help="a running Milvus (default: start milvus-lite)")
    parser.add_argument("--prefix", default="scale", help="the Milvus collections' prefix")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
