"""Build (or incrementally rebuild) an index directory from a corpus directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    index_dir: Path
    n_documents: int
    n_passages: int
    n_embedded: int
    """Texts embedded in this build (0 when nothing changed)."""
    seconds: float


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    model: str,
    *,
    ann: str = "flat",
    progress: bool = True,
) -> BuildReport:
    """Build `index_dir` from `corpus_dir` atomically, re-embedding only changed files."""
    raise NotImplementedError


def index_is_current(corpus_dir: Path, index_dir: Path, model: str) -> bool:
    """True when `index_dir` exists, is valid, and was built from these files with this model."""
    raise NotImplementedError
