"""One encoder pass per passage: sentence vectors pooled from their passage's token states.

The other way (``separate``) embeds every sentence a second time on its own. Late chunking
runs the encoder once over each passage as the encoder sees it (title line, passage, the
model's passage prompt) and takes two things from that one pass:
- the passage vector: the model's own pooling of every token, exactly the vector the other
  way computes for the passage;
- for each sentence, the mean of the token states whose characters overlap the sentence
  (found through the fast tokenizer's offset mapping), L2-normalised. A sentence read inside
  its passage carries its context ("该区" knows which district it is).

A sentence belongs to the passage that holds most of its characters (passages overlap); if
none of its tokens survives the encoder's truncation, it is embedded on its own instead.

Checkpointing (`index.encode.embedcache`) keys a sentence's vector by its passage's text and its
span in it (`span_key`), so a killed build resumes here too; a passage's vector is the one
the other way computes (up to the int8 encoder's activation scales, which are set per batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.encode.embedcache import EmbeddingCache, checkpoint_group, progress_batches
from index.encode.embedder import Embedder

SENTENCE_VECTORS = ("late", "separate")
"""How sentence vectors are made: pooled from the passage's pass, or one more pass each."""
DEFAULT_SENTENCE_VECTORS = "separate"


@dataclass(frozen=True)
class LatePlan:
    """Which passage each sentence is pooled from, and where it lies in that passage's text."""

    owner: npt.NDArray[np.int64]
    """Per sentence: the passage row (in the same part) it is pooled from; -1 = embed alone."""
    spans: list[list[tuple[int, int]]]
    """Per passage: the ``[start, end)`` of each sentence it owns, in the embedded text."""
    slot: npt.NDArray[np.int64]
    """Per sentence: its position in its owner's `spans` list."""


def plan(chunks: np.ndarray, sentences: np.ndarray, shifts: Sequence[int]) -> LatePlan:
    """Assign each sentence to the passage holding most of its characters (first on ties).

    `chunks` and `sentences` are (n, 3) arrays of (document row, start, end), sorted;
    `shifts[p]` is where passage p's text starts inside what the encoder sees (the title
    line's length when titles are embedded)."""
    from index.search.view import overlap_runs

    lo, hi = overlap_runs(sentences, chunks)
    owner = np.full(len(sentences), -1, dtype=np.int64)
    slot = np.zeros(len(sentences), dtype=np.int64)
    spans: list[list[tuple[int, int]]] = [[] for _ in range(len(chunks))]
    for s, (row, a, b) in enumerate(sentences.tolist()):
        best, best_overlap = -1, 0
        for p in range(int(lo[s]), int(hi[s])):
            c_row, c_start, c_end = chunks[p].tolist()
            overlap = min(b, c_end) - max(a, c_start)
            if c_row == row and overlap > best_overlap:
                best, best_overlap = p, overlap
        if best < 0:
            continue
        c_start, c_end = int(chunks[best, 1]), int(chunks[best, 2])
        start = max(a, c_start) - c_start + shifts[best]
        end = min(b, c_end) - c_start + shifts[best]
        owner[s], slot[s] = best, len(spans[best])
        spans[best].append((start, end))
    return LatePlan(owner, spans, slot)


def span_key(text: str, span: tuple[int, int]) -> str:
    """The checkpoint-cache key of the sentence vector pooled over `span` of passage `text`."""
    return f"{text}\x00late\x00{span[0]}:{span[1]}"


@dataclass(frozen=True)
class Pooled:
    """One pass over passages: their vectors and each requested span's pooled vector."""

    passages: npt.NDArray[np.float32]
    spans: list[npt.NDArray[np.float32]]
    """Per passage (k_i, dim): unit vectors; a row of zeros where no token overlapped."""


def _unit(rows: np.ndarray) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.where(norms > 0, rows / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def _pool_spans(
    states: np.ndarray, offsets: np.ndarray, spans: list[tuple[int, int]], shift: int
) -> npt.NDArray[np.float32]:
    """Mean of the token states overlapping each span (offsets count from the prompt)."""
    starts, ends = offsets[:, 0] - shift, offsets[:, 1] - shift
    real = offsets[:, 1] > offsets[:, 0]  # special and padding tokens have empty offsets
    out = np.zeros((len(spans), states.shape[-1]), dtype=np.float32)
    for k, (a, b) in enumerate(spans):
        hit = real & (starts < b) & (ends > a)
        if hit.any():
            out[k] = states[hit].mean(axis=0)
    return _unit(out)


def encode(
    embedder: Embedder,
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    *,
    batch_size: int = 32,
) -> Pooled:
    """One encoder pass over `texts` (with the passage prompt): each text's vector and the
    pooled, normalised token states of each of its character `spans`."""
    model = embedder.model
    prompt_name = "passage" if (model.prompts or {}).get("passage") else None
    prefix: str = (model.prompts or {}).get("passage") or ""
    lengths = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=False)["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    pooled: list[npt.NDArray[np.float32]] = [np.zeros((0, embedder.dim), np.float32) for _ in texts]
    for start in range(0, len(texts), batch_size):
        idx = order[start : start + batch_size].tolist()
        batch = [texts[i] for i in idx]
        states, mask, offsets = _token_states(embedder, batch, prompt_name, prefix)
        weights = mask[..., None].astype(np.float32)
        means = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        vectors[idx] = _unit(means)
        for j, i in enumerate(idx):
            pooled[i] = _pool_spans(states[j], offsets[j], spans[i], len(prefix))
    return Pooled(vectors, pooled)


def _token_states(
    embedder: Embedder, batch: list[str], prompt_name: str | None, prefix: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(states, mask, offsets) of one batch, from either encoder variant."""
    from index.encode.onnx_encoder import OnnxEncoder

    model = embedder.model
    if isinstance(model, OnnxEncoder):
        return model.token_states_with_offsets(batch, prompt_name)
    import torch

    encoded = model.tokenizer(
        [prefix + t for t in batch],
        padding=True,
        truncation=True,
        max_length=model.max_seq_length,
        return_offsets_mapping=True,
        return_tensors="np",
    )
    features = {
        "input_ids": torch.from_numpy(encoded["input_ids"].astype(np.int64)),
        "attention_mask": torch.from_numpy(encoded["attention_mask"].astype(np.int64)),
    }
    if "token_type_ids" in encoded:
        features["token_type_ids"] = torch.from_numpy(encoded["token_type_ids"].astype(np.int64))
    with torch.inference_mode():
        out = model[0](features)  # the transformer module: token embeddings, unpooled
    states = out["token_embeddings"].float().cpu().numpy()
    mask = encoded["attention_mask"].astype(np.int64)
    return states, mask, np.asarray(encoded["offset_mapping"], dtype=np.int64)


@dataclass(frozen=True)
class LateResult:
    """Vectors of one build's passages and sentences, with what was embedded or cached."""

    passages: npt.NDArray[np.float32]
    sentences: npt.NDArray[np.float32]
    n_embedded: int
    n_cached: int


def cache_keys(texts: Sequence[str], layout: LatePlan) -> list[str]:
    """Every cache key of a late-chunked build: passage texts, then their span keys."""
    keys = list(texts)
    for text, spans in zip(texts, layout.spans, strict=True):
        keys += [span_key(text, span) for span in spans]
    return keys


def embed(
    embedder: Embedder,
    texts: list[str],
    layout: LatePlan,
    alone: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    progress: bool = False,
) -> LateResult:
    """Passage vectors and late-chunked sentence vectors of `texts` (cached ones looked up,
    the rest embedded in one pass and committed group by group). `alone[s]` is the text of
    sentence s, embedded on its own if it has no owner or no token in its owner's pass."""
    dim = embedder.dim
    passages = np.zeros((len(texts), dim), dtype=np.float32)
    spans_out: list[npt.NDArray[np.float32]] = [
        np.zeros((len(s), dim), np.float32) for s in layout.spans
    ]
    n_cached = n_embedded = 0
    todo = list(range(len(texts)))
    if cache is not None:
        keys = cache_keys(texts, layout)
        found, misses = cache.lookup(keys)
        missing = set(misses)
        pos, todo = len(texts), []
        for p, spans in enumerate(layout.spans):
            mine = [p, *range(pos, pos + len(spans))]
            pos += len(spans)
            if any(k in missing for k in mine):
                todo.append(p)
                continue
            passages[p] = found[p]
            spans_out[p] = found[mine[1:]].reshape(len(spans), dim)
            n_cached += 1
    for group in progress_batches(
        todo, checkpoint_group(len(todo)), progress, "passage", label="embedding passages"
    ):
        result = encode(embedder, [texts[p] for p in group], [layout.spans[p] for p in group])
        for j, p in enumerate(group):
            passages[p], spans_out[p] = result.passages[j], result.spans[j]
        n_embedded += len(group)
        if cache is not None:
            keys, rows = [], []
            for j, p in enumerate(group):
                keys.append(texts[p])
                rows.append(result.passages[j][None, :])
                keys += [span_key(texts[p], span) for span in layout.spans[p]]
                rows.append(result.spans[j].reshape(-1, dim))
            cache.store(keys, np.concatenate(rows))
    sentences = np.zeros((len(layout.owner), dim), dtype=np.float32)
    has_owner = layout.owner >= 0
    for s in np.flatnonzero(has_owner).tolist():
        sentences[s] = spans_out[int(layout.owner[s])][int(layout.slot[s])]
    lonely = np.flatnonzero(~np.any(sentences != 0, axis=1)).tolist()
    if lonely:  # no owner, or truncated out of its owner's pass: one pass of its own
        from index.encode.embedcache import embed_passages

        extra = embed_passages(embedder, [alone[s] for s in lonely], cache)
        sentences[lonely] = extra.vectors.reshape(-1, dim)
        n_embedded += extra.n_embedded
        n_cached += extra.n_cached
    return LateResult(passages, sentences, n_embedded, n_cached)
