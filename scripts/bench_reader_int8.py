"""The reader's int8 schemes side by side: U8U8 (the encoder's), U8S8, U8S8 with 7-bit weights,
and the shipped one (7-bit U8S8, two products in fp32: `index.reader.export.QUANTIZATION`).

    python scripts/bench_reader_int8.py [--data ../shared/data] [--out var/reader-int8-bench]

Rebuilds the shipped reader (base + `index/reader/weights/`) in fp32, exports it to ONNX and
quantises it each way into `--out` (once; reused after). Then, on one and on two intra-op
threads, it times each on (question, sentence) pairs of CMRC 2018 train (training data, not an
evaluation set: a seeded sample of questions, each with sentences of its own paragraph), one
pair a call (the stage's first read) and three a call (the rest of the shortlist). It prints
p50/p95 ms and how far the scores drift from fp32's (the reader's scores; "no answer" is 0),
fp32 being measured in the same run.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = {  # name: (signed weights, reduce_range, FP32_NODES left in fp32)
    "u8u8": (False, False, False),
    "u8s8": (True, False, False),
    "u8s8-7bit": (True, True, False),
    "shipped": (True, True, True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reader-int8-bench")
    parser.add_argument("--pairs", type=int, default=120)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()

    import onnxruntime as ort
    from tokenizers import Tokenizer

    from index.encode.provision import default_model_dir
    from index.reader.data import load_cmrc_train, sentence_units
    from index.reader.export import FP32_NODES, WEIGHTS, export_fp32, quantize
    from index.reader.model import ReaderManifest, apply_delta, build_network, encode_pairs

    logging.getLogger().setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    base = default_model_dir()
    manifest = ReaderManifest.read(WEIGHTS)
    fp32 = args.out / "fp32.onnx"
    if not fp32.exists():
        network = build_network(base, manifest.layers).eval()
        apply_delta(network, WEIGHTS, manifest)
        export_fp32(network, fp32)
    for name, (signed, reduce_range, fp32_nodes) in SCHEMES.items():
        path = args.out / f"{name}.onnx"
        if not path.exists():
            quantize(
                fp32,
                path,
                signed=signed,
                reduce_range=reduce_range,
                fp32_nodes=FP32_NODES if fp32_nodes else (),
            )

    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    rng = np.random.default_rng(0)
    asked = load_cmrc_train(args.data).questions
    sample = [asked[int(i)] for i in rng.choice(len(asked), size=args.pairs, replace=False)]
    units = [(q.question, u[0]) for q in sample if (u := sentence_units(q)) is not None]

    def feed(question: str, chosen: list[str]) -> dict[str, np.ndarray]:
        rows, _, pad = encode_pairs(tokenizer, question, chosen, manifest.shape)
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        return {"input_ids": ids, "attention_mask": mask}

    def pick(sentences: list[str], count: int) -> list[str]:
        return [sentences[int(i)] for i in rng.integers(len(sentences), size=count)]

    ones = [feed(question, pick(sentences, 1)) for question, sentences in units]
    threes = [feed(question, pick(sentences, 3)) for question, sentences in units[::2]]
    tokens = np.mean([f["attention_mask"].sum() for f in ones])

    def session(path: Path, threads: int) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def timed(run: ort.InferenceSession, feeds: list[dict[str, np.ndarray]]) -> str:
        for f in feeds[:5]:
            run.run(["scores"], f)
        took = []
        for _ in range(2):
            for f in feeds:
                started = time.perf_counter()
                run.run(["scores"], f)
                took.append((time.perf_counter() - started) * 1000)
        return f"{np.median(took):.1f} | {np.percentile(took, 95):.1f}"

    reference = session(fp32, 1)
    exact = np.concatenate([reference.run(["scores"], f)[0].reshape(-1) for f in ones])
    print(f"{len(ones)} single pairs (mean {tokens:.0f} tokens), {len(threes)} calls of three")
    print("| scheme | threads | 1 pair p50 | p95 ms | 3 pairs p50 | p95 ms | drift mean | max |")
    print("|---" * 8 + "|")
    for threads in (1, 2):
        for name in ["fp32", *SCHEMES]:
            run = session(fp32 if name == "fp32" else args.out / f"{name}.onnx", threads)
            got = np.concatenate([run.run(["scores"], f)[0].reshape(-1) for f in ones])
            drift = np.abs(got - exact)
            print(
                f"| {name} | {threads} | {timed(run, ones)} | {timed(run, threes)} "
                f"| {drift.mean():.3f} | {drift.max():.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
