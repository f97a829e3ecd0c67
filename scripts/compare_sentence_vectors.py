"""Late chunking against two passes, side by side: quality on three question sets, build cost.

For each way of making sentence vectors (``separate``: every sentence embedded again on its
own, the two passes of before; ``late``: pooled from its passage's one pass,
`index.encode.late_chunking`) it builds the seed index and the CMRC trial index with the int8
encoder and asks every question with the default pipeline (hybrid+rerank, top 10): dev and own
over `corpus/articles`, the CMRC 2018 trial over its 256 paragraphs (read as
`scripts/compare_encoders.py` and `../shared/eval/README.md` say). Prints hit@1, hit@5,
MRR@10 and answer accuracy per set and way, the difference late - separate in points, and
each build's seconds and texts embedded.

    .venv/bin/python scripts/compare_sentence_vectors.py [--sets dev,own,cmrc] [--encoder int8]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from compare_encoders import DEFAULT_CMRC, cmrc_corpus  # noqa: E402

from eval.dataset import Question, load_questions  # noqa: E402
from eval.metrics import MetricSummary, summarize  # noqa: E402
from eval.runner import EngineAnswerer, run_questions  # noqa: E402
from eval.tables import variant_rows  # noqa: E402

WAYS = ("separate", "late")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sets", default="dev,own,cmrc")
    parser.add_argument("--encoder", default="int8", choices=("int8", "fp32"))
    parser.add_argument("--cmrc", type=Path, default=DEFAULT_CMRC)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "late-compare")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per call")
    parser.add_argument("--fresh", action="store_true", help="rebuild the indexes from scratch")
    args = parser.parse_args()

    from corpus import DEFAULT_CORPUS_DIR
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.engine import Engine
    from index.store.build import build_index

    embedder = load_embedder(DEFAULT_MODEL, encoder=args.encoder, threads=args.threads)
    corpora: dict[str, Path] = {"seed": Path(DEFAULT_CORPUS_DIR)}
    sets: dict[str, tuple[str, list[Question]]] = {}
    for name in args.sets.split(","):
        if name == "dev":
            sets[name] = ("seed", load_questions(ROOT / "eval/dev_questions.jsonl"))
        elif name == "own":
            sets[name] = ("seed", load_questions(ROOT / "eval/questions.jsonl"))
        elif name == "cmrc":
            corpora["cmrc"] = args.cache / "cmrc-corpus"
            sets[name] = ("cmrc", cmrc_corpus(args.cmrc, corpora["cmrc"]))
        else:
            raise SystemExit(f"unknown set {name!r}: choose from dev, own, cmrc")
    needed = {corpus for corpus, _ in sets.values()}
    rows: dict[tuple[str, str], MetricSummary] = {}
    builds: dict[tuple[str, str], tuple[float, int, int]] = {}
    for way in WAYS:
        engines = {}
        for corpus in sorted(needed):
            index_dir = args.cache / f"index-{corpus}-{args.encoder}-{way}"
            if args.fresh:
                shutil.rmtree(index_dir, ignore_errors=True)
            report = build_index(
                corpora[corpus],
                index_dir,
                DEFAULT_MODEL,
                progress=False,
                embedder=embedder,
                sentence_vectors=way,
            )
            builds[(corpus, way)] = (report.seconds, report.n_embedded, report.n_passages)
            print(
                f"  {way} {corpus}: {report.n_passages} passages, {report.n_embedded} texts "
                f"embedded in {report.seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            engines[corpus] = Engine.load(index_dir, DEFAULT_MODEL, embedder=embedder)
            assert engines[corpus].manifest.sentence_vectors == way
        for name, (corpus, questions) in sets.items():
            started = time.perf_counter()
            results = run_questions(EngineAnswerer(engines[corpus]), questions)
            rows[(name, way)] = summarize(results, by_tag=False)["all"]
            print(
                f"  {way} {name}: {len(questions)} questions in "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    print(
        f"\nsentence vectors, {time.strftime('%Y-%m-%d')}, {args.encoder} encoder, "
        "hybrid+rerank, top 10"
    )
    print("| set | questions | sentence vectors | hit@1 | hit@5 | MRR@10 | answer acc |")
    print("|---|---|---|---|---|---|---|")
    for name in sets:
        summaries = [(way, rows[(name, way)]) for way in WAYS]
        print("\n".join(variant_rows(name, summaries, "separate", "late")))
    print("\n| corpus | sentence vectors | passages | texts embedded | build s |")
    print("|---|---|---|---|---|")
    for (corpus, way), (seconds, embedded, passages) in sorted(builds.items()):
        print(f"| {corpus} | {way} | {passages} | {embedded} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
