"""Session fixtures: the real model and one index of the seed corpus, built once per run.

The index lives in `var/test-index`; the build is incremental and keyed on file hashes, model,
chunking parameters and the pipeline code (the sources of `corpus/` and `index/`, hashed beside
the index in `var/test-index.code`), so a second run reuses it when nothing changed.
Tests must not modify it: copy it (`copy_index`) to change or reload. `live_server` runs the
real service (`python -m service`) over that index on a free port, for the service's end-to-end
and browser tests and the evaluation's HTTP answerer. `postgres` is a PostgreSQL server for the
session (`tests/pg.py`), and `store_url` a fresh document store on each store backend (SQLite,
PostgreSQL), so the store's tests run on both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.pg import PostgresServer, PostgresUnavailable, running_postgres
from tests.servers import running_server

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _runtime() -> None:
    from index.settings import Runtime

    Runtime().apply()  # the test session is an edge: the model cache the environment names


_runtime()

ROOT = Path(__file__).resolve().parent.parent
TEST_INDEX = ROOT / "var" / "test-index"
TEST_INDEX_CODE = ROOT / "var" / "test-index.code"
TEST_API_KEY = "test-admin-key-0123456789"
TEST_ORIGIN = "http://widget.example"


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real default model as the default (int8) encoder, loaded once."""
    from index.encode.embedder import DEFAULT_MODEL, load_embedder

    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def index_dir(embedder) -> Path:  # type: ignore[no-untyped-def]
    """An index of the bundled corpus (`corpus/articles`), built once per session."""
    from corpus import DEFAULT_CORPUS_DIR
    from index.store.build import build_index, index_is_current

    code = _pipeline_code()
    stale = not TEST_INDEX_CODE.is_file() or TEST_INDEX_CODE.read_text() != code
    if stale:  # the vectors cached beside it too: an int8 vector depends on its batch
        shutil.rmtree(TEST_INDEX, ignore_errors=True)
        TEST_INDEX.with_name(TEST_INDEX.name + ".embeddings.sqlite").unlink(missing_ok=True)
    if not index_is_current(
        DEFAULT_CORPUS_DIR, TEST_INDEX, embedder.name, encoder=embedder.encoder
    ):
        build_index(
            DEFAULT_CORPUS_DIR, TEST_INDEX, embedder.name, progress=False, embedder=embedder
        )
    TEST_INDEX_CODE.write_text(code)
    return TEST_INDEX


def _pipeline_code() -> str:
    """A hash of the code that turns articles into an index (cleaning, chunking, encoding)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((*ROOT.glob("corpus/**/*.py"), *ROOT.glob("index/**/*.py"))):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


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


@pytest.fixture(scope="session")
def live_api_key() -> str:
    """The admin key `live_server` runs with."""
    return TEST_API_KEY


@pytest.fixture(scope="session")
def live_origin() -> str:
    """The one CORS origin `live_server` allows."""
    return TEST_ORIGIN


@pytest.fixture(scope="session")
def live_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server (`python -m service`) on 127.0.0.1 and a free port; yields its URL.

    Admin key `TEST_API_KEY`, CORS origin `TEST_ORIGIN`, rate limiting off (tests hammer it).
    """
    log_path = tmp_path_factory.mktemp("live_server") / "server.log"
    env = {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_CORS_ORIGINS": TEST_ORIGIN,
        "RAGQA_LOG_LEVEL": "warning",
    }
    with running_server(env, log_path) as base:
        yield base


def _postgres(log_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server (`tests/pg.py`); where it cannot run, the test is skipped with the
    reason, or under CI (`CI` set) failed, because CI installs it (scripts/test)."""
    stack = ExitStack()
    try:
        server = stack.enter_context(running_postgres(log_path))
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL cannot run here: {exc}")
    with stack:
        yield server


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (Debian's `postgresql`, on 127.0.0.1 and a
    free port); each test takes a database of its own on it (`new_database`)."""
    yield from _postgres(tmp_path_factory.mktemp("postgres") / "postgres.log")


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server for one test, which may stop and start it."""
    yield from _postgres(tmp_path / "postgres.log")


STORE_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
"""The document store backends every store test runs on."""


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty document store of this test's own: a SQLite file in `tmp_path`,
    or a new database on the session's PostgreSQL server (dropped after)."""
    if request.param == "sqlite":
        from index.store.docstore import sqlite_url

        yield sqlite_url(tmp_path / "store.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    yield url
    server.drop_database(url)


CMRC_TEST_PARAGRAPHS = 24


@pytest.fixture(scope="session")
def cmrc_index(embedder):  # type: ignore[no-untyped-def]
    """(corpus dir, index dir) of the first CMRC paragraphs, built once (incrementally) under
    `var/test-cmrc`; the full 256-paragraph index is `ragqa eval run --set cmrc`'s business."""
    from eval.cmrc import cmrc_index as build_cmrc_index
    from eval.cmrc import load_paragraphs

    paragraphs = load_paragraphs()[:CMRC_TEST_PARAGRAPHS]
    return build_cmrc_index(ROOT / "var" / "test-cmrc", embedder, paragraphs=paragraphs)
