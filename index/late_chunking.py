"""One encoder pass per text: sentence vectors pooled from their passage's token states.

Today's alternative embeds every sentence a second time on its own. Late chunking runs the
encoder once over each passage (with its title and the model's passage prompt) and takes
two things from that one pass: the passage vector (the model's own pooling, exactly as
before) and, for every sentence inside the passage, the mean of the token states whose
characters fall in the sentence (found through the tokenizer's offset mapping). A sentence
read inside its passage also carries its context: "该区" knows which district it is.

Works with any sentence-transformers model whose tokenizer gives offsets (every fast
tokenizer does) and whose first module outputs token embeddings, whatever the backend.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.embedder import Embedder


@dataclass(frozen=True)
class PooledText:
    """One passage's vector and, per requested span, the sum and count of its token states."""

    vector: npt.NDArray[np.float32]
    span_sums: npt.NDArray[np.float32]
    span_tokens: npt.NDArray[np.int64]


def _token_runs(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]], shift: int
) -> list[npt.NDArray[np.int64]]:
    """For each character span of the text, the tokens whose characters overlap it."""
    starts = np.array([a for a, _ in offsets], dtype=np.int64)
    ends = np.array([b for _, b in offsets], dtype=np.int64)
    real = ends > starts  # special tokens have empty offsets
    runs = []
    for a, b in spans:
        hit = real & (starts < b + shift) & (ends > a + shift)
        runs.append(np.flatnonzero(hit))
    return runs


def encode_with_spans(
    embedder: Embedder,
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    *,
    batch_size: int = 32,
    progress: bool = False,
) -> list[PooledText]:
    """One encoder pass over `texts` (with the passage prompt): each text's vector, and the
    pooled token states of each of its character `spans` (offsets into the text)."""
    import torch

    model = embedder.model
    prompt: str = (model.prompts or {}).get("passage") or ""
    prompt_name = "passage" if prompt else None
    lengths = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=False)["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    results: list[PooledText | None] = [None] * len(texts)
    starts: Iterable[int] = range(0, len(texts), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="embedding", unit="batch", file=sys.stderr)
    for start in starts:
        idx = order[start : start + batch_size].tolist()
        batch = [texts[i] for i in idx]
        outputs = model.encode(
            batch,
            prompt_name=prompt_name,
            batch_size=batch_size,
            output_value=None,
            show_progress_bar=False,
            convert_to_numpy=False,
        )
        encoded = model.tokenizer(
            [prompt + t for t in batch],
            return_offsets_mapping=True,
            truncation=True,
            max_length=model.max_seq_length,
        )
        for i, out, offsets in zip(idx, outputs, encoded["offset_mapping"], strict=True):
            # token states are padded to the batch's longest text; offsets are not
            tokens = out["token_embeddings"].float().cpu().numpy()
            vector = torch.nn.functional.normalize(out["sentence_embedding"].float(), dim=0)
            runs = _token_runs(offsets, spans[i], len(prompt))
            sums = np.zeros((len(runs), tokens.shape[1]), dtype=np.float32)
            counts = np.zeros(len(runs), dtype=np.int64)
            for k, run in enumerate(runs):
                if run.size:
                    sums[k] = tokens[run].sum(axis=0)
                    counts[k] = run.size
            results[i] = PooledText(vector.cpu().numpy().astype(np.float32), sums, counts)
    return [r for r in results if r is not None]


def normalise_rows(sums: np.ndarray) -> npt.NDArray[np.float32]:
    """Mean-pooled sums as unit vectors (the direction of a sum is that of its mean)."""
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.maximum(norms, 1e-12)).astype(np.float32)
