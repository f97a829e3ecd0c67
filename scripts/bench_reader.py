"""The reader's quality-latency table: candidates read x input length, beside no reader.

    python scripts/bench_reader.py [--index var/index] [--cache var/eval-cache]

Each variant answers the CMRC trial (Chinese and English questions, and the unanswerable ones)
over the CMRC index, and the seed sets over the seed index, in-process, one thread (the
reader's may be varied: ``--reader-threads 1,2``). The ranking and the answer scorer that
shortlists sentences run on the documented defaults (which never saw CMRC); the reader never
saw any of these sets. Prints, per variant: answer (the chosen sentence holds a gold answer),
answerable null, unanswerable recall, and ask p50/p95.
Quality comes from `ragqa eval run`; this table is for choosing the operating point.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WEIGHTS = Path(__file__).resolve().parents[1] / "index" / "reader" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, default=Path("var/index"))
    parser.add_argument("--cache", type=Path, default=Path("var/eval-cache"))
    parser.add_argument("--candidates", default="2,4,6,8")
    parser.add_argument("--lengths", default="64,96")
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument(
        "--reader-threads",
        default="1",
        help="the reader's intra-op threads per variant, e.g. 1,2 (the encoder keeps one)",
    )
    parser.add_argument("--sets", default="cmrc,cmrc-en,cmrc-unanswerable,own,dev,nonsense")
    parser.add_argument(
        "--alone",
        action="store_true",
        help="also each reader variant with its threshold alone deciding null",
    )
    args = parser.parse_args()

    from eval.cmrc import cmrc_index
    from eval.sets import SETS
    from index.encode.embedder import limit_threads
    from index.encode.provision import default_model_dir
    from index.engine import Engine
    from index.rank.fitted import Fitted
    from index.reader.export import READER_FOLDER, provision_reader
    from index.reader.runtime import Reader

    limit_threads(1)
    base = default_model_dir()
    folder = provision_reader(base, base.parent / READER_FOLDER, args.weights)
    readers = {
        int(t): Reader(folder, weights=args.weights, threads=int(t))
        for t in args.reader_threads.split(",")
    }
    reader = next(iter(readers.values()))
    seed = Engine.load(args.index)
    names = args.sets.split(",")
    cmrc = seed
    if any(name != "nonsense" and SETS[name].corpus == "cmrc" for name in names):
        _, cmrc_dir = cmrc_index(args.cache, seed.embedder)
        cmrc = Engine.load(cmrc_dir, embedder=seed.embedder)

    def variant(
        engine: Engine, candidates: int | None, length: int, alone: bool, threads: int
    ) -> Engine:
        chosen = None
        if candidates is not None:
            chosen = copy.copy(readers[threads])
            chosen.params = dataclasses.replace(
                reader.params, candidates=candidates, abstain_on_features=not alone
            )
            chosen.manifest = dataclasses.replace(
                reader.manifest, shape=dataclasses.replace(reader.manifest.shape, max_tokens=length)
            )
        return Engine(
            engine.data,
            engine.embedder,
            engine.config,
            fitted=Fitted.defaults(),
            view=engine.index,
            reader=chosen,
        )

    sets = [(name, NONSENSE if name == "nonsense" else SETS[name]) for name in names]
    variants: list[tuple[str, int | None, int, bool, int]] = [("no reader", None, 96, False, 1)]
    for threads in readers:
        shown = "" if len(readers) == 1 else f" threads={threads}"
        for length in (int(x) for x in args.lengths.split(",")):
            for count in (int(x) for x in args.candidates.split(",")):
                label = f"reader k={count} len={length}{shown}"
                variants.append((label, count, length, False, threads))
                if args.alone:
                    variants.append((f"{label} alone", count, length, True, threads))
    print(f"reader: {reader.manifest.layers} layers, threshold {reader.params.threshold}")
    header = (
        "| variant | set | n | answer | answerable null | unanswerable recall | p50 ms | p95 ms |"
    )
    print(header)
    print("|---" * 8 + "|")
    for label, k, length, alone, threads in variants:
        for _, named in sets:
            engine = variant(cmrc if named.corpus == "cmrc" else seed, k, length, alone, threads)
            rows: dict[str, list[tuple[bool, str | None, float, tuple[str, ...]]]] = {}
            for q in named.load():
                started = time.perf_counter()
                result = engine.ask(q.question, 5)
                took = (time.perf_counter() - started) * 1000
                text = result.answer.text if result.answer is not None else None
                row = (q.answerable, text, took, q.answers)
                rows.setdefault(named.name, []).append(row)
                if named.corpus == "seed" and named.name != "nonsense":
                    part = (
                        "english"
                        if "english" in q.tags
                        else ("paraphrase" if "paraphrase" in q.tags else "chinese")
                    )
                    rows.setdefault(f"{named.name}:{part}", []).append(row)
            for name, found in rows.items():
                print(_row(label, name, found), flush=True)


class _Nonsense:
    """Questions nothing in the seed corpus answers: typing, greetings, and the off-corpus
    examples of issue 22 (its "ping", emoji and 兰州的人口是多少). Not the bare question words
    (谁, 什么): the reader's abstention pass trains on those (`nonsense_question`)."""

    name = "nonsense"
    corpus = "seed"
    QUESTIONS = (
        "ping",
        "🙂",
        "？",
        "asdfgh",
        "qwerty",
        "hello",
        "test",
        "abc 123",
        "你好",
        "今天天气怎么样",
        "兰州的人口是多少",
        "What is the population of Lanzhou?",
        "北京奥运会是哪一年举办的",
        "Who won the 2022 World Cup?",
    )

    def load(self) -> list[object]:
        from eval.dataset import Question

        return [
            Question(f"nonsense-{i}", q, (), None, ("nonsense",))
            for i, q in enumerate(self.QUESTIONS)
        ]


NONSENSE = _Nonsense()


def _row(label: str, name: str, rows: list[tuple[bool, str | None, float, tuple[str, ...]]]) -> str:
    from eval.dataset import contains_answer

    answerable = [r for r in rows if r[0]]
    unanswerable = [r for r in rows if not r[0]]
    right = sum(1 for r in answerable if r[1] is not None and contains_answer(r[1], r[3]))
    nulls = sum(1 for r in answerable if r[1] is None)
    refused = sum(1 for r in unanswerable if r[1] is None)
    took = sorted(r[2] for r in rows)
    p95 = took[int(len(took) * 0.95)]
    answer = f"{right / len(answerable):.3f}" if answerable else ""
    null = f"{nulls / len(answerable):.3f}" if answerable else ""
    recall = f"{refused / len(unanswerable):.3f}" if unanswerable else ""
    return (
        f"| {label} | {name} | {len(rows)} | {answer} | {null} | {recall} "
        f"| {statistics.median(took):.1f} | {p95:.1f} |"
    )


if __name__ == "__main__":
    main()
