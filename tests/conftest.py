"""Session fixtures: the real model and one index of the seed corpus, built once per run.

The index lives in `var/test-index`; the build is incremental and keyed on file hashes, model,
chunking parameters and the pipeline code, so a second run reuses it when nothing changed.
Tests must not modify it: copy it (`copy_index`) to change or reload.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
TEST_INDEX = ROOT / "var" / "test-index"


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real default model, loaded once."""
    from index.embedder import DEFAULT_MODEL, load_embedder

    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def index_dir(embedder) -> Path:  # type: ignore[no-untyped-def]
    """An index of the bundled corpus (`corpus/articles`), built once per session."""
    from corpus import DEFAULT_CORPUS_DIR
    from index.build import build_index, index_is_current

    if not index_is_current(DEFAULT_CORPUS_DIR, TEST_INDEX, embedder.name):
        build_index(DEFAULT_CORPUS_DIR, TEST_INDEX, embedder.name, progress=False, embedder=embedder)
    return TEST_INDEX


@pytest.fixture(scope="session")
def engine(index_dir: Path, embedder):  # type: ignore[no-untyped-def]
    """The engine over the session index, sharing the session's model."""
    from index.engine import Engine

    return Engine.load(index_dir, embedder.name, embedder=embedder)


@pytest.fixture
def copy_index(index_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the session index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    yield target
