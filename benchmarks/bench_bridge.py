"""`python -m benchmarks.bench_bridge`: what the word bridge costs an English question, in-process.

Every English question of the seed sets (`eval/questions.jsonl`, `eval/dev_questions.jsonl`)
is asked of the seed index three times per round, alternately, by the same engine with the
bridge off (``w_bridge`` = 0: the question alone is encoded), on with an empty phrase cache
(its content words and word pairs encoded in a second call and matched to the words of the
top passages), and on with the cache as earlier questions left it. Prints p50 and p90 of
`Engine.ask` for each, from the same run, and the ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: Sequence[str] = ()) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from dataclasses import replace

    from corpus.paths import INDEX_DIR
    from eval.dataset import load_questions
    from index.engine import Engine
    from index.rank.wordbridge import PhraseCache

    index = Path(argv[0]) if argv else INDEX_DIR
    questions = [
        q.question
        for name in ("questions.jsonl", "dev_questions.jsonl")
        for q in load_questions(ROOT / "eval" / name)
        if q.is_english
    ]
    engine = Engine.load(index)
    off = engine.with_params(answering=replace(engine.answering, w_bridge=0.0))
    on = engine.with_params(answering=replace(engine.answering, w_bridge=1.0))
    for question in questions[:5]:  # warm-up
        off.ask(question)
        on.ask(question)
    cold = engine.with_params(answering=on.answering)
    on.pipeline.phrases = PhraseCache()
    names = ("off", "on, cold", "on, warm")
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(ROUNDS):
        for question in questions:
            cold.pipeline.phrases = PhraseCache()
            for name, which in zip(names, (off, cold, on), strict=True):
                started = time.perf_counter()
                which.ask(question)
                times[name].append((time.perf_counter() - started) * 1000)
    for name in names:
        values = times[name]
        print(
            f"bridge {name:8}: {len(values)} English asks, "
            f"p50 {statistics.median(values):.1f} ms, p90 {_quantile(values, 0.9):.1f} ms"
        )
    for name in names[1:]:
        ratio = statistics.median(times[name]) / statistics.median(times["off"])
        print(f"p50 bridge {name} / off: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
