"""The real server for the client's tests: its own document store, so their writes touch no
other test's server. The client package (`clients/python/src`) is on pytest's path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY
from tests.servers import running_server


@pytest.fixture(scope="session")
def client_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m service` over the session index with a store of its own (the seed corpus in
    `default`), admin key `TEST_API_KEY`; yields its URL."""
    tmp = tmp_path_factory.mktemp("client_server")
    env = {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_DATA_DIR": str(tmp / "data"),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_LOG_LEVEL": "warning",
    }
    with running_server(env, tmp / "server.log") as base:
        yield base
