"""A throwaway PostgreSQL server for tests: Debian's `postgresql` package, started on 127.0.0.1
and a free port in a temporary directory, stopped and removed after.

The document store runs on SQLite and on PostgreSQL (`RAGQA_STORE_URL`); the store tests and
the documents API suite run on both, so this server is real: no mock, no container. It is
initialised with ICU's `en-US` collation, the ordering a PostgreSQL deployment typically has
(the official image's default locale is en_US.utf8), so a result whose order would depend on
the collation shows up here. PostgreSQL refuses to run as root: under root the server runs as
the `postgres` system user the package creates (else `nobody`), in a directory it owns.

Unix sockets are off (`unix_socket_directories=''`): clients connect over TCP only, with
`trust` authentication, which is safe on a loopback port of a test machine and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

from tests.servers import free_port

PG_ROOT = Path("/usr/lib/postgresql")
"""Where Debian installs each major version's binaries (`<version>/bin`)."""
START_TIMEOUT_S = 60.0  # a guard against hanging, not a measurement
SUPERUSER = "ragqa"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be run here; the message says why and how to get it."""


def postgres_bin() -> Path:
    """The bin directory of the newest installed PostgreSQL, or PostgresUnavailable."""
    found = sorted(
        (
            p
            for p in PG_ROOT.glob("*/bin")
            if (p / "initdb").is_file() and (p / "postgres").exists()
        ),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresUnavailable(
            f"no PostgreSQL server under {PG_ROOT}/*/bin: install Debian's `postgresql` "
            "package (scripts/test does, as CI runs it)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable(
            "the psycopg driver is missing: pip install -e '.[postgresql]' (scripts/setup does)"
        ) from exc
    return found[-1]


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when this process is root; None: as this user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise PostgresUnavailable("running as root and there is no `postgres` or `nobody` user")


class PostgresServer:
    """A running server: `url(db)` is the SQLAlchemy URL of database `db` on it; `new_database`
    creates an empty database of its own for each caller. `stop` and `start` take it down and
    bring it back on the same port and data (for tests of a database that goes away)."""

    def __init__(
        self, command: list[str], home: Path, owner: tuple[int, int] | None, log_path: Path
    ) -> None:
        self.port = int(command[command.index("-p") + 1])
        self.command = command
        self.home = home
        self.owner = owner
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._names = count()

    def start(self) -> None:
        """Start the server; returns once it accepts connections."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.home, stdout=log, stderr=subprocess.STDOUT, **_as(self.owner)
            )
        _wait_ready(self)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, roll back, exit); SIGKILL after 30 s."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def new_database(self, prefix: str = "ragqa") -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as(owner: tuple[int, int] | None) -> dict[str, Any]:
    """Popen arguments that run a command as `owner` (no supplementary groups of root)."""
    if owner is None:
        return {}
    return {"user": owner[0], "group": owner[1], "extra_groups": []}


@contextmanager
def running_postgres(log_path: Path) -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL server (PostgresUnavailable when it cannot run here); yields
    it once it accepts connections; stops it and removes its files after."""
    bin_dir = postgres_bin()
    owner = _server_user()
    # Not under pytest's tmp directories: those are private to root, and the server's user
    # must reach its data directory.
    home = Path(tempfile.mkdtemp(prefix="ragqa-pg-"))
    server: PostgresServer | None = None
    try:
        if owner is not None:
            os.chown(home, *owner)
        data = home / "data"
        with log_path.open("ab") as log:
            initdb = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "--pgdata",
                    str(data),
                    "--username",
                    SUPERUSER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C.UTF-8",
                    "--locale-provider",
                    "icu",
                    "--icu-locale",
                    "en-US",
                    "--no-sync",
                ],
                cwd=home,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                **_as(owner),
            )
        if initdb.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed ({initdb.returncode}):\n{log_path.read_text()}"
            )
        port = free_port()
        command = [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            # A test server: losing its data in a power cut costs nothing, syncing costs time.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
        server = PostgresServer(command, home, owner, log_path)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def _wait_ready(server: PostgresServer) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with server._admin():
                return
        except psycopg.OperationalError:
            exited = server.process is None or server.process.poll() is not None
            if exited or time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"the PostgreSQL server did not start:\n{server.log_path.read_text()}"
                ) from None
            time.sleep(0.1)
