"""Default locations, in one place: every layer's default path is one of these.

Relative to the repository (an editable install), as the project is run from a checkout.
Each can be overridden: the index and corpus by `RAGQA_INDEX_DIR` / `RAGQA_CORPUS_DIR` (and
`--index` / `--corpus`), the model cache by `RAGQA_MODEL_CACHE` (see `index.encode.provision`).
"""

from __future__ import annotations

from pathlib import Path

REPO_DIR: Path = Path(__file__).resolve().parents[1]
"""The checkout the code runs from."""

VAR_DIR: Path = REPO_DIR / "var"
"""Everything the project writes (indexes, evaluation runs); git-ignored."""

CORPUS_DIR: Path = REPO_DIR / "corpus" / "articles"
"""The bundled seed articles."""

INDEX_DIR: Path = VAR_DIR / "index"
"""The index `ragqa build` writes and `ragqa serve` loads."""

DATA_DIR: Path = VAR_DIR / "data"
"""The document store (SQLite by default) and the index segments the service writes."""

EVAL_DIR: Path = REPO_DIR / "eval"
"""The bundled question sets and fitted thresholds."""

EVAL_RUNS_DIR: Path = VAR_DIR / "eval-runs"
"""Where `ragqa eval run` writes its run directories."""

EVAL_CACHE_DIR: Path = VAR_DIR / "eval-cache"
"""Indexes built for evaluation variants (chunk sizes, models)."""
