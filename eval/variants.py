"""Which variants one evaluation run compares, and how each becomes an answerer.

A run compares retrievers (bm25, dense, hybrid, hybrid+rerank; hybrid ones optionally per
fusion), the tutorial baseline, other chunk sizes and other embedding models side by side on
the same questions. Chunk-size and model variants need their own index: it is built with
`build_index` under a cache directory (``var/eval-cache/``) and reused by later runs, because
`build_index` is incremental.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from eval.runner import Answerer, EngineAnswerer, HttpAnswerer

if TYPE_CHECKING:
    from index.engine import Engine

MAIN = "hybrid+rerank"
"""The configuration the service runs; per-tag tables and the regression gate are about it."""
BASELINE = "baseline"
ALL_RETRIEVERS: tuple[str, ...] = ("bm25", "dense", "hybrid", "hybrid+rerank")
ALL_FUSIONS: tuple[str, ...] = ("weighted", "rrf")


@dataclass(frozen=True)
class VariantSpec:
    """One column of the comparison: what answers the questions, named for the table."""

    name: str
    kind: Literal["engine", "baseline", "http"]
    retriever: str | None = None
    fusion: str | None = None
    """None = the engine's default fusion."""
    chunk_size: int | None = None
    """None = the chunking of the index being evaluated."""
    chunk_overlap: int | None = None
    model: str | None = None
    """None = the model of the index being evaluated."""
    url: str | None = None


def parse_list(value: str | None, allowed: Sequence[str], what: str) -> list[str]:
    """A comma-separated option as a list, each item checked against `allowed`."""
    if value is None:
        return []
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise ValueError(f"unknown {what} {', '.join(bad)}: choose from {', '.join(allowed)}")
    return list(dict.fromkeys(items))


def parse_sizes(value: str | None) -> list[int]:
    """``"200,300,500"`` as sizes; each at least 20 characters (the chunker's floor)."""
    if value is None:
        return []
    try:
        sizes = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--chunk-sizes must be comma-separated integers, got {value!r}") from None
    if any(s < 20 for s in sizes):
        raise ValueError("--chunk-sizes: every size must be at least 20 characters")
    return list(dict.fromkeys(sizes))


def plan_variants(
    retrievers: Sequence[str] = ALL_RETRIEVERS,
    *,
    fusions: Sequence[str] = (),
    baseline: bool = True,
    chunk_sizes: Sequence[int] = (),
    index_chunk_size: int = 300,
    models: Sequence[str] = (),
) -> list[VariantSpec]:
    """The in-process variants in table order: retrievers, then chunk sizes, models, baseline.

    Chunk-size and model variants use the main retriever; a size equal to the index's own is
    the main variant already and is not repeated. Overlap scales with size (a fifth, which is
    the default 300/60).
    """
    specs: list[VariantSpec] = []
    for retriever in retrievers:
        if fusions and retriever.startswith("hybrid"):
            specs += [
                VariantSpec(f"{retriever} {f}", "engine", retriever=retriever, fusion=f)
                for f in fusions
            ]
        else:
            specs.append(VariantSpec(retriever, "engine", retriever=retriever))
    for size in chunk_sizes:
        if size != index_chunk_size:
            specs.append(
                VariantSpec(
                    f"{MAIN} chunk={size}",
                    "engine",
                    retriever=MAIN,
                    chunk_size=size,
                    chunk_overlap=size // 5,
                )
            )
    specs += [VariantSpec(f"{MAIN} model={m}", "engine", retriever=MAIN, model=m) for m in models]
    if baseline:
        specs.append(VariantSpec(BASELINE, "baseline"))
    return specs


def main_variant(specs: Sequence[VariantSpec]) -> str:
    """The variant the per-tag tables describe: hybrid+rerank if present, else the first."""
    names = [s.name for s in specs]
    for candidate in ("held-out", MAIN, f"{MAIN} weighted", "service"):
        if candidate in names:
            return candidate
    return names[0]


def make_answerer(
    spec: VariantSpec, engine: Engine | None, *, corpus_dir: Path, cache_dir: Path
) -> Answerer:
    """The answerer for one variant; builds (or reuses) a cached index when the spec needs one."""
    if spec.kind == "http":
        assert spec.url is not None
        return HttpAnswerer(spec.url)
    if engine is None:
        raise ValueError(f"variant {spec.name!r} needs a local index")
    if spec.kind == "baseline":
        from eval.baseline import TutorialBaseline

        return TutorialBaseline.build(corpus_dir, engine.embedder, cache_dir=cache_dir)
    base = engine.config
    # Only the stages change; every tuned weight stays the engine's own.
    config = replace(
        base, retriever=spec.retriever or base.retriever, fusion=spec.fusion or base.fusion
    )
    if spec.chunk_size is None and spec.model is None:
        return EngineAnswerer(engine, config)
    return EngineAnswerer(_variant_engine(spec, engine, corpus_dir, cache_dir), config)


def _variant_engine(spec: VariantSpec, engine: Engine, corpus_dir: Path, cache_dir: Path) -> Engine:
    """An engine over a cached index built with the spec's chunking and/or model."""
    from index.encode.embedder import load_embedder
    from index.engine import Engine
    from index.store.build import build_index
    from index.text.chunking import ChunkingParams

    chunking = engine.manifest.chunking
    size = spec.chunk_size or int(chunking["size"])
    overlap = spec.chunk_overlap if spec.chunk_size is not None else int(chunking["overlap"])
    assert overlap is not None
    params = ChunkingParams(size=size, overlap=overlap)
    model = spec.model or engine.model_name
    embedder = engine.embedder if model == engine.model_name else load_embedder(model)
    index_dir = cache_dir / f"index-{_slug(model)}-c{size}-o{overlap}"
    build_index(
        corpus_dir,
        index_dir,
        model,
        chunking=params,
        ann=str(engine.manifest.ann.get("kind", "flat")),
        embed_titles=engine.manifest.embed_titles,
        progress=False,
        embedder=embedder,
    )
    # weights fitted for the index's own chunking and model do not apply: defaults
    return Engine.load(index_dir, model, embedder=embedder, defaults=True, glossary=engine.glossary)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")
