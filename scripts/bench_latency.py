"""Query latency of today's code against the code from before issue 12, in one run.

Issue 12 (answers that hold on unseen articles) may not make questions slower by more than
20%. This benchmark answers the dev and own seed questions in-process, index warm, with:

- ``before``: the code at BEFORE (default 933e2e2, the last commit before issue 12's work),
  checked out as a detached git worktree and run with this repository's virtualenv, over an
  index that code builds itself from the same `corpus/articles`;
- ``defaults``: today's code on its documented defaults (no fitted parameters);
- ``fitted``: today's code as it is served, with the final parameters of `index/rank/params.json`
  (ranking, answer weights and abstention model fitted by `ragqa eval tune`);
- with ``--compare REF``, also ``fitted@REF``: the code at REF (a detached worktree, like
  before's) over today's index with today's ranking and answer parameters (`index/rank/params.json`;
  REF's own abstention model), to see what a change between REF and today's code does to the
  fitted path.

Each variant runs in its own process with one model and `--threads` intra-op threads for torch,
numpy's BLAS and OpenMP (default: the service's ``RAGQA_TORCH_THREADS`` default, 1, today and at
933e2e2; 933e2e2's service limited torch's threads only, so this is if anything kinder to
before), and the variants
take turns for `--rounds` rounds so that they share the machine's state; p50 and p95 are over
every question of every round. Chinese and English questions are reported apart, because
English questions take the cross-lingual path. Prints numbers; asserts nothing.

    .venv/bin/python scripts/bench_latency.py [--before 933e2e2] [--rounds 3] [--threads 1]
        [--compare REF]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "var" / "bench" / "latency"
VARIANTS = ("before", "defaults", "fitted")
FITTED = REPO / "index" / "params.json"


def _questions() -> list[tuple[str, bool]]:
    """(question, is English) of the dev and own sets, in file order."""
    out: list[tuple[str, bool]] = []
    for name in ("dev_questions.jsonl", "questions.jsonl"):
        for line in (REPO / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)["question"]
                out.append((q, not any("\u4e00" <= c <= "\u9fff" for c in q)))
    return out


def worker(
    tree: str, index_dir: str, variant: str, questions_file: str, threads: int, build: bool
) -> None:
    """Runs inside the variant's process: time every question, print one JSON line.

    `build`: (before) build its index first; later rounds load the one the first built."""
    sys.path.insert(0, tree)
    import faiss  # noqa: F401  (its OpenMP runtime loaded, for the limit below)
    import torch
    from threadpoolctl import threadpool_limits

    # What today's service does before it loads the model (index.encode.embedder.limit_threads),
    # done for every variant alike: torch's threads, numpy's BLAS and OpenMP.
    torch.set_num_threads(threads)
    threadpool_limits(threads)
    from index.engine import Engine

    if variant == "before" and not build:
        from index.encode.embedder import DEFAULT_MODEL, load_embedder

        engine = Engine.load(Path(index_dir), embedder=load_embedder(DEFAULT_MODEL))
    elif variant == "before":
        from index.encode.embedder import DEFAULT_MODEL, load_embedder
        from index.store.build import build_index

        embedder = load_embedder(DEFAULT_MODEL)
        build_index(
            Path(tree) / "corpus" / "articles",
            Path(index_dir),
            DEFAULT_MODEL,
            progress=False,
            embedder=embedder,
        )
        engine = Engine.load(Path(index_dir), embedder=embedder)
    else:
        # "fitted" is the engine as served: it loads index/rank/params.json itself
        engine = Engine.load(Path(index_dir), defaults=variant == "defaults")
        if variant.startswith("fitted@"):
            from index.rank.params import load_params

            engine = engine.with_params(*load_params(FITTED))
    questions = json.loads(Path(questions_file).read_text(encoding="utf-8"))
    for q, _ in questions[:10]:
        engine.ask(q, top_k=5)
    times = []
    for q, english in questions:
        t0 = time.perf_counter()
        engine.ask(q, top_k=5)
        times.append(((time.perf_counter() - t0) * 1000, english))
    print(json.dumps(times))


def _tree(before: str) -> Path:
    tree = BENCH / f"tree-{before}"
    if not tree.exists():
        BENCH.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), before],
            check=True,
            capture_output=True,
        )
    return tree


def _service_threads() -> int:
    """The intra-op threads the service gives the model by default (RAGQA_TORCH_THREADS)."""
    from index.settings import Settings

    return int(Settings.model_fields["torch_threads"].default)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="933e2e2", help="commit of the code before")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=_service_threads(), help="intra-op threads per model"
    )
    parser.add_argument("--compare", help="also run the fitted parameters with the code at REF")
    args = parser.parse_args()
    tree = _tree(args.before)
    today_index = REPO / "var" / "index"
    if not (today_index / "manifest.json").is_file():
        print("build today's index first: .venv/bin/ragqa build", file=sys.stderr)
        return 2
    questions = _questions()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(questions, f, ensure_ascii=False)
    where = {
        "before": (str(tree), str(BENCH / f"index-{args.before}")),
        "defaults": (str(REPO), str(today_index)),
        "fitted": (str(REPO), str(today_index)),
    }
    variants = list(VARIANTS)
    if args.compare:
        where[f"fitted@{args.compare}"] = (str(_tree(args.compare)), str(today_index))
        variants.append(f"fitted@{args.compare}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    results: dict[str, list[tuple[float, bool]]] = {v: [] for v in variants}
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        for variant in variants:
            tree_path, index_dir = where[variant]
            code = (
                f"import sys; sys.path.insert(0, {str(REPO / 'scripts')!r}); "
                f"import bench_latency as b; b.worker({tree_path!r}, {index_dir!r}, "
                f"{variant!r}, {f.name!r}, {args.threads}, {r == 0})"
            )
            out = subprocess.run(
                [sys.executable, "-c", code],
                cwd=tree_path,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"{variant} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                return 1
            results[variant] += [tuple(t) for t in json.loads(out.stdout.splitlines()[-1])]
            print(f"round {r + 1}/{args.rounds}: {variant} done", file=sys.stderr)
    n_zh = sum(1 for _, en in questions if not en)
    print(
        f"query latency, in-process, warm, top_k 5, {len(questions)} seed questions "
        f"({n_zh} Chinese, {len(questions) - n_zh} English) x {args.rounds} rounds; "
        f"{args.threads} intra-op thread(s) per model; load average at start {load:.1f}, "
        f"at the end {os.getloadavg()[0]:.1f}; before = {args.before}"
    )
    print("| variant | Chinese p50 / p95 ms | English p50 / p95 ms | all p50 / p95 ms |")
    print("|---|---|---|---|")
    p50: dict[tuple[str, str], float] = {}
    for variant in variants:
        cells = []
        for label, pick in (("Chinese", False), ("English", True), ("all", None)):
            ms = [t for t, en in results[variant] if pick is None or en == pick]
            cells.append(f"{_pct(ms, 50):.1f} / {_pct(ms, 95):.1f}")
            p50[(variant, label)] = _pct(ms, 50)
        print(f"| {variant} | " + " | ".join(cells) + " |")
    pairs = [("defaults", "before"), ("fitted", "before"), ("fitted", "defaults")]
    if args.compare:
        pairs += [(f"fitted@{args.compare}", "before"), ("fitted", f"fitted@{args.compare}")]
    for variant, base in pairs:
        ratios = []
        for label in ("Chinese", "English", "all"):
            ratio = p50[(variant, label)] / p50[(base, label)]
            ratios.append(f"{label} {ratio:.2f}{'' if ratio <= 1.2 else ' (over +20%)'}")
        print(f"{variant} / {base}, p50: " + ", ".join(ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
