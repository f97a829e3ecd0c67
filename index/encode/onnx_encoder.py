"""The int8 encoder: an ONNX export of a sentence-transformers folder, run by onnxruntime.

`OnnxEncoder` offers the part of `SentenceTransformer`'s interface that
`index.encode.embedder.Embedder` uses (``encode``, ``tokenizer``, ``prompts``,
``max_seq_length``), computed the same way: the prompt is prepended to the text, tokens are
truncated to ``max_seq_length``, token states are
mean-pooled over the attention mask (prompt included, as the folder's pooling config says) and
L2-normalised. ``token_states`` returns the unpooled states for callers that pool spans.

Why not ``SentenceTransformer(..., backend="onnx")``: that backend loads through optimum-onnx,
whose only release requires transformers < 4.58, while this project runs transformers 5.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ModelUnavailableError

ONNX_FILE = "onnx/model_qint8_avx512_vnni.onnx"
SPINNING = "session.intra_op.allow_spinning"
"""onnxruntime's session setting: may idle intra-op threads spin waiting for work ("0": no)."""


class OnnxEncoder:
    """Mean-pooled, normalised vectors from the ONNX file of a sentence-transformers folder."""

    def __init__(self, folder: Path, *, threads: int = 1, onnx_file: str = ONNX_FILE) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.folder = Path(folder)
        self.onnx_path = self.folder / onnx_file
        st_config = _read_json(self.folder / "config_sentence_transformers.json")
        pooling = _read_json(self.folder / "1_Pooling" / "config.json")
        bert_config = _read_json(self.folder / "sentence_bert_config.json")
        if not pooling.get("pooling_mode_mean_tokens") or not pooling.get("include_prompt", True):
            raise ModelUnavailableError(
                f"{self.folder}: the int8 encoder supports mean pooling over all tokens only"
            )
        self.prompts: dict[str, str] = dict(st_config.get("prompts") or {})
        self.max_seq_length = int(bert_config.get("max_seq_length", 512))
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if threads > 1:
            # Why: a request's encoder calls are tiny (one question, a dozen words) and the
            # cores are shared with other requests and processes; spinning worker threads then
            # fight for them. Measured 2026-12-02, 2 threads on 2 busy cores (load ~3): an
            # English question's 13 phrases 39 -> 20 ms, the question 11 -> 7 ms; 1 thread
            # 17 and 6 ms (scripts/bench_latency.py).
            options.add_session_config_entry(SPINNING, "0")
        try:
            self.session = ort.InferenceSession(
                str(self.onnx_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelUnavailableError(
                f"onnxruntime cannot load {self.onnx_path} ({first})"
            ) from exc
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def get_embedding_dimension(self) -> int:
        return self.dim

    def token_states(
        self, texts: list[str], prompt_name: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Token states (n, tokens, dim) float32 and the attention mask (n, tokens) of one batch."""
        states, mask, _ = self.token_states_with_offsets(texts, prompt_name)
        return states, mask

    def token_states_with_offsets(
        self, texts: list[str], prompt_name: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`token_states` plus each token's ``[start, end)`` characters in its text, counted
        from the start of the prompt (n, tokens, 2; special and padding tokens are (0, 0))."""
        prefix = self.prompts.get(prompt_name, "") if prompt_name else ""
        batch = self.tokenizer(
            [prefix + t for t in texts],
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="np",
            return_offsets_mapping=True,
        )
        mask = batch["attention_mask"].astype(np.int64)
        feeds = {"input_ids": batch["input_ids"].astype(np.int64), "attention_mask": mask}
        (states,) = self.session.run(None, feeds)
        offsets = np.asarray(batch["offset_mapping"], dtype=np.int64)
        return np.asarray(states, dtype=np.float32), mask, offsets

    def encode(
        self,
        sentences: list[str],
        prompt_name: str | None = None,
        batch_size: int = 32,
        show_progress_bar: bool = False,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = True,
    ) -> np.ndarray:
        """Sentence vectors (n, dim) float32 in input order, like `SentenceTransformer.encode`."""
        out = np.empty((len(sentences), self.dim), dtype=np.float32)
        for start in range(0, len(sentences), batch_size):
            states, mask = self.token_states(sentences[start : start + batch_size], prompt_name)
            weights = mask[..., None].astype(np.float32)
            pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            if normalize_embeddings:
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                pooled = pooled / np.maximum(norms, 1e-12)
            out[start : start + len(pooled)] = pooled
        return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{path} is missing or not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise ModelUnavailableError(f"{path} is not a JSON object")
    return value
