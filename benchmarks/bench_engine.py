"""The engine benchmarks of issue 9, in one run: build, query, load and scale, each against
today's pipeline measured in the same run, printed as one table and written to
`var/bench/engine.json`.

    scripts/bench_engine            # full: what the README's figures come from (≤ 20 min quiet)
    scripts/bench_engine --quick    # the same four, small: checks that everything runs (~4 min)

What "today" is, per benchmark (the pipeline before issue 9, as the issue measured it):
- build: the fp32 PyTorch encoder and two passes (every sentence embedded again on its own),
  against the int8 encoder with each configuration of the sentence pass;
- query: the fp32 encoder with the dense stage scoring every passage's sentences (dense pool =
  every passage: the old full scan), against the int8 encoder and the bounded pool;
- load: the fp32 encoder, one worker, against the int8 encoder with one and two workers;
- scale: the old path does not exist at a million passages (it would hold 10.7 GB of float32
  vectors and scan them all per query); the engine's pipeline over an IVF index is compared
  with the same pipeline over exact (flat) search, for recall and latency.

Tests never time things: this prints figures and asserts nothing. Run it on a quiet machine;
the load average is printed with every section.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = ROOT / "var" / "bench"
RESULT = WORKDIR / "engine.json"


@dataclass(frozen=True)
class Mode:
    """Sizes of one benchmark run."""

    name: str
    build_chars: int
    load_seconds: int
    load_sequential_seconds: int
    scale_passages: int
    query_rounds: int


FULL = Mode("full", 400_000, 60, 15, 1_000_000, 3)
QUICK = Mode("quick", 40_000, 10, 5, 100_000, 1)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


# -- build ----------------------------------------------------------------------------------


def shifted_digits(text: str, shift: int) -> str:
    """`text` with every ASCII digit d replaced by (d + shift) mod 10: a new text per copy."""
    table = str.maketrans("0123456789", "".join(str((d + shift) % 10) for d in range(10)))
    return text.translate(table)


def build_corpus(directory: Path, chars: int) -> tuple[int, int]:
    """The CMRC trial paragraphs plus the seed articles, repeated with changed digits until
    the files hold at least `chars` characters: (files, characters)."""
    from corpus import DEFAULT_CORPUS_DIR
    from eval.cmrc import load_paragraphs

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    originals = [(p.source, p.file_text()) for p in load_paragraphs()]
    originals += [
        (p.name, p.read_text(encoding="utf-8"))
        for p in sorted(DEFAULT_CORPUS_DIR.iterdir())
        if p.suffix == ".txt"
    ]
    written = files = 0
    copy = 0
    while written < chars:
        for name, text in originals:
            body = shifted_digits(text, copy)
            (directory / f"c{copy:02d}_{name}").write_text(body, encoding="utf-8")
            written += len(body)
            files += 1
            if written >= chars:
                break
        copy += 1
    return files, written


@dataclass(frozen=True)
class BuildVariant:
    label: str
    encoder: str
    sentence_vectors: str


def build_variants() -> list[BuildVariant]:
    return [
        BuildVariant("today: fp32, two passes", "fp32", "separate"),
        BuildVariant("int8, two passes", "int8", "separate"),
        BuildVariant("int8, one pass (late chunking)", "int8", "late"),
    ]


def bench_build(mode: Mode, threads: int, say: Any) -> dict[str, Any]:
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.store.build import build_index
    from index.store.files import read_index

    corpus_dir = WORKDIR / "build-corpus"
    files, chars = build_corpus(corpus_dir, mode.build_chars)
    say(f"== build: {files} files, {chars:,} characters ({load_average()}) ==")
    rows: dict[str, Any] = {}
    for variant in build_variants():
        embedder = load_embedder(DEFAULT_MODEL, threads=threads, encoder=variant.encoder)
        index_dir = WORKDIR / f"build-{variant.encoder}-{variant.sentence_vectors}"
        for stale in (index_dir, index_dir.with_name(index_dir.name + ".embeddings.sqlite")):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        report = build_index(
            corpus_dir,
            index_dir,
            DEFAULT_MODEL,
            progress=False,
            embedder=embedder,
            sentence_vectors=variant.sentence_vectors,
        )
        data = read_index(index_dir, verify=False)
        doc_chars = sum(len(d.text) for d in data.documents)
        vectors = len(data.chunks) + len(data.sentences)
        rows[variant.label] = row = {
            **asdict(variant),
            "seconds": report.seconds,
            "characters": doc_chars,
            "texts_embedded": report.n_embedded,
            "vectors": vectors,
            "chars_per_s": doc_chars / report.seconds,
            "texts_per_s": report.n_embedded / report.seconds,
            "vectors_per_s": vectors / report.seconds,
        }
        say(
            f"  {variant.label:28s} {report.seconds:7.1f} s  {row['chars_per_s']:8.0f} chars/s  "
            f"{row['texts_per_s']:6.1f} texts/s ({report.n_embedded} texts, {vectors} vectors)"
        )
        shutil.rmtree(index_dir, ignore_errors=True)
    today = next(iter(rows.values()))
    for row in rows.values():
        row["speedup_chars_per_s"] = row["chars_per_s"] / today["chars_per_s"]
    return {"files": files, "characters": chars, "threads": threads, "variants": rows}


# -- query ----------------------------------------------------------------------------------


def _seed_engine(encoder: str, threads: int) -> Any:
    from corpus import DEFAULT_CORPUS_DIR
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.engine import Engine
    from index.store.build import build_index, index_is_current

    index_dir = WORKDIR / f"seed-{encoder}"
    embedder = load_embedder(DEFAULT_MODEL, threads=threads, encoder=encoder)
    if not index_is_current(DEFAULT_CORPUS_DIR, index_dir, DEFAULT_MODEL, encoder=encoder):
        build_index(DEFAULT_CORPUS_DIR, index_dir, DEFAULT_MODEL, progress=False, embedder=embedder)
    return Engine.load(index_dir, embedder=embedder, encoder=encoder)


def bench_query(mode: Mode, threads: int, say: Any) -> dict[str, Any]:
    from benchmarks.benchmark import DEV_SET, query_latency
    from eval.dataset import load_questions

    questions = [q.question for q in load_questions(DEV_SET)]
    say(
        f"== query: {len(questions)} dev questions, in-process, warm, {threads} thread(s) "
        f"({load_average()}) =="
    )
    rows: dict[str, Any] = {}
    today = _seed_engine("fp32", threads)
    full_scan = today.with_params(ranking=replace(today.ranking, dense_pool=today.n_passages))
    new = _seed_engine("int8", threads)
    for label, engine in (
        ("today: fp32, full sentence scan", full_scan),
        ("int8, bounded pool", new),
    ):
        result = query_latency(engine, questions, rounds=mode.query_rounds)
        rows[label] = asdict(result)
        say(
            f"  {label:32s} p50 {result.p50_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms  "
            f"(encoding alone p50 {result.encode_p50_ms:.1f} ms, n={result.n})"
        )
    return {"threads": threads, "passages": new.n_passages, "variants": rows}


# -- load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadVariant:
    label: str
    encoder: str
    workers: int
    threads: int


LOAD_VARIANTS = (
    LoadVariant("today: fp32, 1 worker x 2 threads", "fp32", 1, 2),
    LoadVariant("int8, 1 worker x 2 threads", "int8", 1, 2),
    LoadVariant("int8, 2 workers x 1 thread", "int8", 2, 1),
)


def bench_load(mode: Mode, say: Any) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    say(f"== load: scripts/loadtest, 8 clients, {mode.load_seconds} s ({load_average()}) ==")
    for variant in LOAD_VARIANTS:
        out = WORKDIR / f"load-{variant.encoder}-{variant.workers}x{variant.threads}.json"
        out.unlink(missing_ok=True)  # a failed run must not report the previous one
        command = [
            sys.executable, str(ROOT / "scripts" / "loadtest"),
            "--clients", "8", "--seconds", str(mode.load_seconds),
            "--baseline-seconds", str(mode.load_sequential_seconds),
            "--workers", str(variant.workers), "--threads", str(variant.threads),
            "--torch-threads", "1", "--encoder", variant.encoder,
            "--index", str(WORKDIR / f"loadtest-index-{variant.encoder}"),
            "--max-wait", "0", "--json", str(out),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if not out.is_file():
            say(
                f"  {variant.label}: loadtest failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
            continue
        figures = json.loads(out.read_text(encoding="utf-8"))
        load = figures["load"]
        rows[variant.label] = {**asdict(variant), **figures}
        say(
            f"  {variant.label:34s} {load['rps']:6.1f} req/s  p50 {load['p50_ms']:5.0f} ms  "
            f"p99 {load['p99_ms']:5.0f} ms  errors {load['errors']}  server CPU "
            f"{load['cpu_server']:.2f} cores  "
            f"(sequential {figures['sequential']['p50_ms']:.0f} ms p50)"
        )
    return {"clients": 8, "seconds": mode.load_seconds, "variants": rows}


# -- scale ----------------------------------------------------------------------------------


def bench_scale(mode: Mode, say: Any) -> dict[str, Any]:
    from benchmarks.bench_scale import ScaleSpec, run

    spec = ScaleSpec(passages=mode.scale_passages)
    say(
        f"== scale: {spec.passages:,} synthetic passages x {spec.sentences_per_passage} sentences, "
        f"IVF-SQ8 nprobe {spec.nprobe}, int8 sentence vectors ({load_average()}) =="
    )
    result = run(spec, WORKDIR, say=say)
    say(
        f"  engine pipeline p50 {result['p50_ms']:.1f} ms  p95 {result['p95_ms']:.1f} ms  "
        f"(exact search: p50 {result['exact_p50_ms']:.1f} ms)  BM25 scores p50 "
        f"{result['bm25_scores_p50_ms']:.1f} ms  dense search p50 "
        f"{result['dense_search_p50_ms']:.2f} ms"
    )
    say(
        f"  recall@10 vs exact: final ranking {result['recall_at_10_ranking']:.3f}, dense stage "
        f"{result['recall_at_10_dense']:.3f}; query's own passage in top 10: "
        f"{result['target_in_top10']:.3f} (exact {result['target_in_top10_exact']:.3f})"
    )
    say(
        f"  RSS: index {result['rss_index_mb']:.0f} MB after the queries (process "
        f"{result['rss_process_mb']:.0f} MB, peak {result['rss_peak_mb']:.0f} MB); on disk "
        f"{result['disk_mb']:.0f} MB; load {result['load_s']:.1f} s after reading the files into "
        f"the page cache ({result['page_cache_warmup_s']:.1f} s)"
    )
    return {"spec": asdict(spec), **result}


# -- the table --------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    """One row per target: today, new, target, met."""
    lines = ["| benchmark | today | new | target | met |", "|---|---|---|---|---|"]

    def row(name: str, today: str, new: str, target: str, met: bool | None) -> None:
        mark = "n/a" if met is None else ("yes" if met else "NO")
        lines.append(f"| {name} | {today} | {new} | {target} | {mark} |")

    build = report.get("build")
    if build:
        variants = list(build["variants"].values())
        base, best = variants[0], max(variants[1:], key=lambda r: r["chars_per_s"])
        row(
            f"build chars/s ({best['encoder']}, {best['sentence_vectors']})",
            f"{base['chars_per_s']:.0f}",
            f"{best['chars_per_s']:.0f} ({best['speedup_chars_per_s']:.1f}x)",
            ">= 5x",
            best["speedup_chars_per_s"] >= 5,
        )
        row("build texts/s", f"{base['texts_per_s']:.1f}", f"{best['texts_per_s']:.1f}", "", None)
    query = report.get("query")
    if query:
        base, new = list(query["variants"].values())
        row(
            "query p50 / p95 ms",
            f"{base['p50_ms']:.1f} / {base['p95_ms']:.1f}",
            f"{new['p50_ms']:.1f} / {new['p95_ms']:.1f}",
            "p50 <= 10",
            new["p50_ms"] <= 10,
        )
    load = report.get("load")
    if load and load["variants"]:
        variants = list(load["variants"].values())
        base = variants[0]
        old = base["load"]
        for new in variants[1:]:
            got = new["load"]
            row(
                f"load req/s, p99 ms, errors ({new['workers']}w x {new['threads']}t)",
                f"{old['rps']:.0f}, {old['p99_ms']:.0f}, {old['errors']}",
                f"{got['rps']:.0f}, {got['p99_ms']:.0f}, {got['errors']}",
                ">= 150, <= 150, 0",
                got["rps"] >= 150 and got["p99_ms"] <= 150 and got["errors"] == 0,
            )
    scale = report.get("scale")
    if scale:
        n = scale["passages"]
        row(
            f"scale p50 ms ({n:,} passages)",
            "n/a",
            f"{scale['p50_ms']:.1f}",
            "<= 30",
            scale["p50_ms"] <= 30,
        )
        row(
            "scale recall@10 vs exact (ranking / dense)",
            "1.000",
            f"{scale['recall_at_10_ranking']:.3f} / {scale['recall_at_10_dense']:.3f}",
            ">= 0.95",
            min(scale["recall_at_10_ranking"], scale["recall_at_10_dense"]) >= 0.95,
        )
        row(
            "scale index RSS / on disk MB",
            "n/a",
            f"{scale['rss_index_mb']:.0f} / {scale['disk_mb']:.0f}",
            "RSS <= 6000",
            scale["rss_index_mb"] <= 6000,
        )
    return "\n".join(lines)


SECTIONS = ("build", "query", "load", "scale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: checks it all runs")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections")
    parser.add_argument(
        "--threads", type=int, default=2, help="encoder threads for build (default 2)"
    )
    parser.add_argument("--json", type=Path, default=RESULT, help=f"default {RESULT}")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    sections = args.only or list(SECTIONS)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    WORKDIR.mkdir(parents=True, exist_ok=True)

    def say(text: str) -> None:
        print(text, flush=True)

    started = time.perf_counter()
    report: dict[str, Any] = {
        "mode": mode.name,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpu_count": os.cpu_count(),
        "load_average_start": os.getloadavg(),
    }
    say(f"bench_engine ({mode.name}), {report['date']}, {load_average()}")
    if "build" in sections:
        report["build"] = bench_build(mode, args.threads, say)
    if "query" in sections:
        report["query"] = bench_query(mode, 1, say)
    if "load" in sections:
        report["load"] = bench_load(mode, say)
    if "scale" in sections:
        report["scale"] = bench_scale(mode, say)
    report["seconds"] = time.perf_counter() - started
    report["load_average_end"] = os.getloadavg()
    minutes = report["seconds"] / 60
    say(f"\n{table(report)}\n\n({mode.name} run, {minutes:.1f} min, {load_average()})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    say(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
