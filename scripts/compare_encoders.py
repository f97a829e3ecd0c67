"""Quality of the int8 encoder against fp32, side by side, on three question sets.

For each encoder variant (fp32 PyTorch, int8 ONNX) it builds an index with that variant and
asks every question with the service's default pipeline (hybrid+rerank, top 10):

- dev: `eval/dev_questions.jsonl` over `corpus/articles`;
- own: `eval/questions.jsonl` over `corpus/articles`;
- cmrc: the CMRC 2018 trial set (`../shared/eval/outside/cmrc2018_trial.json`, CC BY-SA 4.0,
  Cui et al., EMNLP 2019), read as `../shared/eval/README.md` says: each of the 256 paragraphs
  is one document (a ``{context_id}.txt`` file: title, blank line, text) of its own index;
  each of the 1,002 questions is asked over the whole collection; a hit is a passage of the
  question's own paragraph containing an answer string, an answer counts when its span
  contains one (NFKC, whitespace removed: `eval.dataset.contains_answer`).

Prints one table: hit@1, hit@5, MRR@10 and answer accuracy per set and variant, and the
difference int8 - fp32 in points. Indexes are cached under ``--cache`` (incremental builds).

    .venv/bin/python scripts/compare_encoders.py [--sets dev,own,cmrc] [--cmrc FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.dataset import Question, load_questions  # noqa: E402
from eval.metrics import MetricSummary, summarize  # noqa: E402
from eval.runner import EngineAnswerer, run_questions  # noqa: E402
from eval.tables import variant_rows  # noqa: E402

VARIANTS = ("fp32", "int8")
DEFAULT_CMRC = ROOT.parent / "shared" / "eval" / "outside" / "cmrc2018_trial.json"


def cmrc_corpus(path: Path, corpus_dir: Path) -> list[Question]:
    """Write one file per paragraph under `corpus_dir`; the questions, sourced to their file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    corpus_dir.mkdir(parents=True, exist_ok=True)
    questions: list[Question] = []
    for paragraph in data:
        name = f"{paragraph['context_id']}.txt"
        body = f"{paragraph['title'].strip()}\n\n{paragraph['context_text'].strip()}\n"
        target = corpus_dir / name
        if not target.is_file() or target.read_text(encoding="utf-8") != body:
            target.write_text(body, encoding="utf-8")
        for qa in paragraph["qas"]:
            answers = tuple(dict.fromkeys(a.strip() for a in qa["answers"] if a.strip()))
            questions.append(Question(qa["query_id"], qa["query_text"], answers, name))
    return questions


def evaluate(
    variant: str, corpus_dir: Path, index_dir: Path, questions: list[Question], embedder: object
) -> tuple[MetricSummary, float]:
    from index.encode.embedder import DEFAULT_MODEL
    from index.engine import Engine
    from index.store.build import build_index

    report = build_index(corpus_dir, index_dir, DEFAULT_MODEL, progress=False, embedder=embedder)  # type: ignore[arg-type]
    print(
        f"  {variant}: index {index_dir.name}: {report.n_passages} passages, "
        f"{report.n_embedded} texts embedded in {report.seconds:.1f} s",
        file=sys.stderr,
    )
    engine = Engine.load(index_dir, DEFAULT_MODEL, embedder=embedder, encoder=variant)  # type: ignore[arg-type]
    assert engine.manifest.encoder == variant
    started = time.perf_counter()
    results = run_questions(EngineAnswerer(engine), questions)
    return summarize(results, by_tag=False)["all"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,own,cmrc")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="fp32,int8 or one")
    parser.add_argument("--cmrc", type=Path, default=DEFAULT_CMRC)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "encoder-compare")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per call")
    args = parser.parse_args()
    import torch

    from corpus import DEFAULT_CORPUS_DIR
    from index.encode.embedder import DEFAULT_MODEL, load_embedder

    torch.set_num_threads(args.threads)
    sets: dict[str, tuple[Path, list[Question]]] = {}
    for name in args.sets.split(","):
        if name == "dev":
            sets[name] = (
                Path(DEFAULT_CORPUS_DIR),
                load_questions(ROOT / "eval/dev_questions.jsonl"),
            )
        elif name == "own":
            sets[name] = (Path(DEFAULT_CORPUS_DIR), load_questions(ROOT / "eval/questions.jsonl"))
        elif name == "cmrc":
            corpus = args.cache / "cmrc-corpus"
            sets[name] = (corpus, cmrc_corpus(args.cmrc, corpus))
        else:
            raise SystemExit(f"unknown set {name!r}: choose from dev, own, cmrc")
    variants = [v for v in args.variants.split(",") if v]
    if not variants or any(v not in VARIANTS for v in variants):
        raise SystemExit(f"--variants: choose from {', '.join(VARIANTS)}")
    rows: dict[tuple[str, str], MetricSummary] = {}
    for variant in variants:
        embedder = load_embedder(DEFAULT_MODEL, encoder=variant, threads=args.threads)
        for name, (corpus_dir, questions) in sets.items():
            tag = "seed" if name in ("dev", "own") else name
            summary, seconds = evaluate(
                variant, corpus_dir, args.cache / f"index-{tag}-{variant}", questions, embedder
            )
            rows[(name, variant)] = summary
            print(
                f"  {variant} {name}: {len(questions)} questions in {seconds:.0f} s: "
                f"{json.dumps(asdict(summary))}",
                file=sys.stderr,
            )

    print(f"\nencoder quality, {time.strftime('%Y-%m-%d')}, hybrid+rerank, top 10")
    print("| set | questions | encoder | hit@1 | hit@5 | MRR@10 | answer acc |")
    print("|---|---|---|---|---|---|---|")
    for name in sets:
        summaries = [(variant, rows[(name, variant)]) for variant in variants]
        print("\n".join(variant_rows(name, summaries, "fp32", "int8")))


if __name__ == "__main__":
    main()
