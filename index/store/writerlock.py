"""The library's one writer across processes: a lock file beside a SQLite store, an advisory
lock in a PostgreSQL store.

A SQLite store is a file in the data directory, and the processes writing it share that
directory: they lock ``writer.lock`` in it (`fcntl.flock`, released by the kernel when its
holder dies). Replicas on a PostgreSQL store share no directory, so they lock in the
database: a session-level advisory lock (`pg_advisory_lock`) held by a connection of its own
for the whole write. The server releases it when that connection ends, so a writer killed
with ``kill -9`` (or cut off from the network) leaves no lock behind.

A lock held by a connection can be lost under its holder (the connection cut, the server
restarted) while the holder goes on. So every commit of a locked write checks, in its own
transaction, that the lock's connection still holds it (`fence`): a writer that lost it
commits nothing (`StoreUnavailableError`, a 503 to retry) instead of writing beside the
next writer.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from index.errors import StoreUnavailableError

LOCK_SPACE = 0x52414751  # "RAGQ": the first key of the two-key advisory lock
LOCK_WRITER = 1
"""The second key: the library's writer (other locks, if ever, take other numbers)."""


class WriterLock(Protocol):
    """A lock between processes, taken by one thread of a process at a time."""

    def acquire(self) -> None:
        """Wait until this process holds the lock."""
        ...

    def try_acquire(self) -> bool:
        """Take the lock if it is free now; True if taken."""
        ...

    def release(self) -> None: ...

    def fence(self, conn: Connection) -> None:
        """Raise StoreUnavailableError unless the lock is still held (inside a commit)."""
        ...


class FileLock:
    """`fcntl.flock` on a file: for processes sharing one data directory (SQLite)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def acquire(self) -> None:
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd

    def try_acquire(self) -> bool:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def fence(self, conn: Connection) -> None:
        return None  # the kernel holds a flock until its holder releases it or dies


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock, on a connection held for the write."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._pid: int | None = None

    def _connect(self) -> Connection:
        # Autocommit: the connection holds the lock, not an open transaction (no "idle in
        # transaction" session for the length of a write).
        try:
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def _take(self, wait: bool) -> bool:
        conn = self._connect()
        try:
            # pg_advisory_lock returns (void) once taken; pg_try_advisory_lock says if it took.
            function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            result = conn.execute(
                sa.text(f"SELECT {function}(:space, :key)"),
                {"space": LOCK_SPACE, "key": LOCK_WRITER},
            ).scalar_one()
            taken = wait or bool(result)
            pid = int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            _discard(conn)
            raise _unavailable(exc) from exc
        except BaseException:
            _discard(conn)  # interrupted while waiting: the server drops the lock with it
            raise
        if not taken:
            conn.close()
            return False
        self._conn, self._pid = conn, pid
        return True

    def acquire(self) -> None:
        self._take(wait=True)

    def try_acquire(self) -> bool:
        return self._take(wait=False)

    def release(self) -> None:
        conn, self._conn, self._pid = self._conn, None, None
        if conn is None:
            return
        try:
            conn.execute(
                sa.text("SELECT pg_advisory_unlock(:space, :key)"),
                {"space": LOCK_SPACE, "key": LOCK_WRITER},
            )
            conn.close()
        except Exception:
            _discard(conn)  # closing the session releases whatever it still holds

    def fence(self, conn: Connection) -> None:
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = :pid AND classid = :space AND objid = :key AND objsubid = 2 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"pid": self._pid or 0, "space": LOCK_SPACE, "key": LOCK_WRITER},
        ).scalar_one()
        if not held:
            raise StoreUnavailableError(
                "the writer's lock in the document store was lost (its database connection "
                "was cut); nothing was committed, retry the write"
            )

    @staticmethod
    def holder(conn: Connection) -> int | None:
        """The server process id of the session holding the writer lock (None: free)."""
        pid: Any = conn.execute(
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :space AND objid = :key AND objsubid = 2 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"space": LOCK_SPACE, "key": LOCK_WRITER},
        ).scalar_one_or_none()
        return int(pid) if pid is not None else None


def _discard(conn: Connection) -> None:
    """Close `conn` for good (not back to the pool): its session and its locks end."""
    try:
        conn.invalidate()
        conn.close()
    except Exception:  # already broken: nothing more to release
        pass


def _unavailable(exc: BaseException) -> StoreUnavailableError:
    orig = getattr(exc, "orig", exc)
    return StoreUnavailableError(
        f"the document store's database failed: {str(orig).strip() or type(exc).__name__}"
    )


def writer_lock(engine: Engine, shared: bool, lock_path: Path) -> WriterLock:
    """The writer lock for a store on `engine`: advisory when it is `shared` (PostgreSQL),
    else the file `lock_path`."""
    return AdvisoryLock(engine) if shared else FileLock(lock_path)
