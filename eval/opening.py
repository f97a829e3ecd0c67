"""What the `ragqa eval` commands open: question sets, the seed index's engine, the CMRC one.

Each helper turns a failure into one red line and a non-zero exit (`corpus.console.fail`), as
the commands do: `_load_sets` (question files), `_load_named` (a named set), `_load_engine` (the
seed index, on the documented defaults with `defaults`), `_cmrc_engine` (the CMRC corpus and
index, built under the cache when missing), `_glossary` (the glossary ``RAGQA_GLOSSARY`` names)
and `_index_errors` (what an index fails to load with).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.console import err, fail
from eval.dataset import Question, QuestionSetError, load_questions
from eval.sets import NamedSet

if TYPE_CHECKING:
    from index.encode.embedder import Embedder
    from index.engine import Engine
    from index.rank.glossary import Glossary
    from index.reader.runtime import Reader


def _index_errors() -> tuple[type[BaseException], ...]:
    from index.errors import IndexError_

    return (IndexError_, FileNotFoundError, NotADirectoryError)


def _load_named(named: NamedSet) -> list[Question]:
    try:
        return named.load()
    except QuestionSetError as exc:
        fail(str(exc))


def _cmrc_engine(
    cache: Path, embedder: Embedder | None, quiet: bool, defaults: bool = False
) -> tuple[Path, Path, Engine]:
    """The CMRC paragraphs' corpus, index (built under `cache` when missing) and engine (on
    the documented defaults with `defaults`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from eval.cmrc import cmrc_index
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.engine import Engine

    embedder = embedder or load_embedder(DEFAULT_MODEL)
    if not quiet:
        err.print("preparing the CMRC index (built once under the cache) …")
    try:
        corpus_dir, index_dir = cmrc_index(
            cache, embedder, progress=not quiet, accept_other_code=True, note=err.print
        )
        engine = Engine.load(
            index_dir, embedder=embedder, defaults=defaults, glossary=_glossary(), reader=_reader()
        )
        return corpus_dir, index_dir, engine
    except _index_errors() as exc:
        fail(f"CMRC index: {exc}")


def _load_sets(paths: list[Path]) -> list[tuple[Path, list[Question]]]:
    sets = []
    for path in paths:
        try:
            qs = load_questions(path)
        except QuestionSetError as exc:
            fail(str(exc))
        if not qs:
            fail(f"{path}: no questions in the file")
        sets.append((path, qs))
    return sets


def _glossary() -> Glossary:
    """The glossary ``RAGQA_GLOSSARY`` names (read here, at the edge; unset: the shipped one)."""
    from index.rank.glossary import GLOSSARY_ENV, glossary_of

    return glossary_of(os.environ.get(GLOSSARY_ENV))


def _reader() -> Reader | None:
    """The reader ``RAGQA_READER`` asks for (read here, at the edge; unset: ``off``, as the
    service)."""
    from index.encode.provision import default_model_dir
    from index.errors import ModelUnavailableError
    from index.reader.runtime import reader_of

    try:
        return reader_of(os.environ.get("RAGQA_READER", "off"), default_model_dir().parent)
    except ModelUnavailableError as exc:
        fail(str(exc))


def _load_engine(index_dir: Path, defaults: bool = False) -> Engine:
    if not (index_dir / "manifest.json").is_file():
        fail(f"no index at {index_dir}: run `ragqa build` (or pass --index)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.engine import Engine

    try:
        return Engine.load(index_dir, defaults=defaults, glossary=_glossary(), reader=_reader())
    except _index_errors() as exc:
        fail(str(exc))
