"""Turn the shipped reader delta into its runtime form, offline, at set-up.

base encoder folder + `weights/` (delta + manifest) -> a folder beside the encoder holding
``reader_int8.onnx`` (dynamic int8, `QUANTIZATION`), the tokenizer and a provisioning record
naming the delta and base it was made from. A folder whose record does not match the shipped
delta is rebuilt; one made by a half-finished export is never used (temporary sibling, rename).
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from index.reader.model import (
    DELTA,
    MANIFEST,
    ReaderManifest,
    apply_delta,
    build_network,
    check_base,
    file_sha256,
)

if TYPE_CHECKING:
    import torch

WEIGHTS = Path(__file__).resolve().parent / "weights"
READER_FOLDER = "ragqa-reader-int8"
ONNX_FILE = "reader_int8.onnx"
RECORD = "provision.json"
QUANTIZATION = (
    "dynamic int8, per channel: U8S8 with 7-bit weights (reduce_range); "
    "layers 4-5's feed-forward outputs in fp32"
)
"""How the reader is quantised, recorded in its folder (a folder made otherwise is rebuilt).

Signed weights let onnxruntime use AVX-512 VNNI (VPDPBUSD) for the products; reduced range keeps
them within 7 bits, so CPUs without VNNI, which compute U8S8 with VPMADDUBSW and its saturating
int16 sums, get exact products too (the reason the encoder stays U8U8). The feed-forward output
products of layers 4 and 5 (`FP32_NODES`) stay fp32: their inputs' range is wide, and quantising
them per call was most of the scores' drift from fp32. Measured with
`scripts/bench_reader_int8.py` (docs/reader.md, "Latency"): three pairs 40 ms a call on one
thread against 66 ms with U8U8, and less than half U8U8's drift from the fp32 scores."""
FP32_NODES = (
    "/encoder/encoder/layer.4/output/dense/MatMul",
    "/encoder/encoder/layer.5/output/dense/MatMul",
)
"""The products left in fp32 (`QUANTIZATION`); a reader with fewer layers has none of them."""


def expected_record(weights: Path) -> dict[str, str]:
    """What a runtime folder's record must say to be current for the shipped `weights`."""
    return {
        "delta_sha256": file_sha256(weights / DELTA),
        "manifest_sha256": file_sha256(weights / MANIFEST),
        "quantization": QUANTIZATION,
    }


def runtime_problem(folder: Path, weights: Path = WEIGHTS) -> str | None:
    """Why `folder` is not the current runtime reader (naming the file), or None."""
    onnx_path = folder / ONNX_FILE
    if not onnx_path.is_file():
        return f"the reader file {onnx_path} is missing; run scripts/setup"
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{folder / RECORD} is missing or unreadable; run scripts/setup"
    expected = expected_record(weights)
    if record.get("quantization") != expected.pop("quantization"):
        return f"the reader in {folder} was quantised otherwise; run scripts/setup"
    if any(record.get(k) != v for k, v in expected.items()):
        return f"the reader in {folder} was made from other weights; run scripts/setup"
    if file_sha256(onnx_path) != record.get("onnx_sha256"):
        return f"the reader file {onnx_path} is damaged; run scripts/setup"
    return None


def export_fp32(network: torch.nn.Module, path: Path) -> None:
    """Export the reader network to an fp32 ONNX file (dynamic batch and length)."""
    import torch

    ids = torch.tensor([[0, 6, 7, 2, 2, 8, 9, 2], [0, 6, 2, 2, 9, 2, 1, 1]])
    with _quiet(), torch.no_grad():
        torch.onnx.export(
            network,
            (ids, (ids != 1).long()),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["scores"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "scores": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


def quantize(
    fp32: Path,
    path: Path,
    *,
    signed: bool = True,
    reduce_range: bool = True,
    fp32_nodes: tuple[str, ...] = FP32_NODES,
) -> None:
    """Dynamic int8 of an exported reader, per channel: by default `QUANTIZATION` (the other
    schemes are `scripts/bench_reader_int8.py`'s comparison)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet():
        quantize_dynamic(
            str(fp32),
            str(path),
            op_types_to_quantize=["MatMul", "Gemm", "Gather"],
            nodes_to_exclude=list(fp32_nodes),
            per_channel=True,
            reduce_range=reduce_range,
            weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )


@contextmanager
def _quiet() -> Iterator[None]:
    """Without the exporter's and quantiser's warnings and log lines."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def provision_reader(
    base: Path, target: Path, weights: Path = WEIGHTS, *, quiet: bool = False
) -> Path:
    """Build the int8 ONNX reader in `target` from `base` + `weights` (once)."""
    if runtime_problem(target, weights) is None:
        return target
    started = time.perf_counter()
    manifest = ReaderManifest.read(weights)
    check_base(base, manifest)
    network = build_network(base, manifest.layers).eval()
    apply_delta(network, weights, manifest)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        fp32 = tmp / "reader_fp32.onnx"
        export_fp32(network, fp32)
        quantize(fp32, tmp / ONNX_FILE)
        fp32.unlink()
        shutil.copyfile(base / "tokenizer.json", tmp / "tokenizer.json")
        shutil.copyfile(weights / MANIFEST, tmp / MANIFEST)
        record = {
            **expected_record(weights),
            "onnx_sha256": file_sha256(tmp / ONNX_FILE),
            "base": str(base),
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        for path in tmp.iterdir():
            path.chmod(0o644)
        tmp.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"provisioned {target} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return target
