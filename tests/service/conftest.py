"""Service fixtures: apps over the shared session engine.

`make_client` builds an app around the session engine (the lifespan still runs: `TestClient`
is entered with `with`). The real server on a free port (`live_server`, with `live_api_key`
and `live_origin`) lives in `tests/conftest.py`, because the evaluation tests use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def service_settings(index_dir: Path, engine: Any) -> Any:
    """Settings for in-process apps: every field given, so the environment cannot leak in."""
    from corpus import DEFAULT_CORPUS_DIR
    from index.settings import Settings

    return Settings(
        index_dir=index_dir,
        corpus_dir=DEFAULT_CORPUS_DIR,
        model=engine.model_name,
        api_key=None,
        cors_origins=[],
        rate_limit_per_minute=0,
        threads=2,
        torch_threads=1,
    )


@pytest.fixture(scope="session")
def make_client(
    service_settings: Any, engine: Any
) -> Callable[..., AbstractContextManager[TestClient]]:
    """`with make_client(**overrides) as client:` an app over the session engine."""
    from service.main import create_app

    @contextmanager
    def make(*, preload: bool = True, **overrides: Any) -> Iterator[TestClient]:
        settings = type(service_settings)(**{**dict(service_settings), **overrides})
        app = create_app(settings, engine=engine if preload else None)
        with TestClient(app) as client:
            yield client

    return make


@pytest.fixture(scope="module")
def client(make_client: Callable[..., AbstractContextManager[TestClient]]) -> Iterator[TestClient]:
    with make_client() as c:
        yield c


DOCS_MAX_FILE_BYTES = 100_000
"""Upload limit per file of `docs_server` (small, so the 413 test sends little)."""


def _docs_server(index_dir: Path, tmp: Path, **extra: str) -> Iterator[tuple[str, Path]]:
    """The real server with a document store of its own in `tmp` (the seed corpus imported
    into `default`); yields (URL, data directory). `extra`: more RAGQA_ settings."""
    from tests.conftest import TEST_API_KEY
    from tests.servers import running_server

    env = {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_DATA_DIR": str(tmp / "data"),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_MAX_FILE_BYTES": str(DOCS_MAX_FILE_BYTES),
        "RAGQA_LOG_LEVEL": "warning",
        **extra,
    }
    with running_server(env, tmp / "server.log") as base:
        yield base, tmp / "data"


@pytest.fixture(scope="session")
def docs_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real server with a document store of its own, for the documents API tests; yields
    (URL, data directory). Tests write into collections of their own, so they do not depend
    on each other's order."""
    yield from _docs_server(index_dir, tmp_path_factory.mktemp("docs_server"))


@pytest.fixture(scope="session")
def milvus_docs_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`docs_server` on the Milvus backend: milvus-lite in a temporary directory, inside the
    server process; yields (URL, data directory)."""
    tmp = tmp_path_factory.mktemp("milvus_docs_server")
    yield from _docs_server(
        index_dir, tmp, RAGQA_BACKEND="milvus", RAGQA_MILVUS_URI=str(tmp / "milvus.db")
    )


@pytest.fixture(scope="session")
def postgres_docs_server(
    index_dir: Path, tmp_path_factory: pytest.TempPathFactory, postgres: Any
) -> Iterator[Any]:
    """`docs_server` with its document store in a database of its own on the session's
    PostgreSQL server (`RAGQA_STORE_URL`); yields (URL, data directory)."""
    url = postgres.new_database("docs")
    yield from _docs_server(
        index_dir, tmp_path_factory.mktemp("pg_docs_server"), RAGQA_STORE_URL=url
    )
    postgres.drop_database(url)


@pytest.fixture(scope="session")
def milvus_postgres_docs_server(
    index_dir: Path, tmp_path_factory: pytest.TempPathFactory, postgres: Any
) -> Iterator[Any]:
    """The pair a scaled-out deployment runs: the index on Milvus (milvus-lite in the server
    process) and the store on PostgreSQL; yields (URL, data directory)."""
    url = postgres.new_database("milvus_docs")
    tmp = tmp_path_factory.mktemp("milvus_pg_docs_server")
    milvus = str(tmp / "milvus.db")
    yield from _docs_server(
        index_dir, tmp, RAGQA_STORE_URL=url, RAGQA_BACKEND="milvus", RAGQA_MILVUS_URI=milvus
    )
    postgres.drop_database(url)


API_SERVERS = {
    "faiss": "docs_server",
    "milvus": "milvus_docs_server",
    "postgresql": "postgres_docs_server",
    "milvus-postgresql": "milvus_postgres_docs_server",
}
"""The servers the documents API suite runs on: the index on each backend (FAISS, Milvus) with
the SQLite store, and both again with the store on PostgreSQL."""


@pytest.fixture(
    scope="session",
    params=[
        "faiss",
        "milvus",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("milvus-postgresql", marks=pytest.mark.postgres),
    ],
)
def api_server(request: pytest.FixtureRequest) -> tuple[str, Path]:
    """The documents API server on each index backend and each store backend (the HTTP suite
    runs on all of them)."""
    return tuple(request.getfixturevalue(API_SERVERS[request.param]))  # type: ignore[return-value]
