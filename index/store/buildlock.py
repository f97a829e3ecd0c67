"""One build at a time per index directory, and the debris of killed builds removed.

`write_index` writes ``.NAME.tmp-XXXX`` beside the index and renames it into place (the old
index goes to ``.NAME.old-XXXX`` for a moment). A build killed in between leaves those
directories behind. While a build holds the lock (``.NAME.lock``, an `fcntl` lock the kernel
releases when its holder dies, ``kill -9`` included), no other build can be writing, so any such
directory is debris and is removed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexError_

DEBRIS_MARKERS = (".tmp-", ".old-")


class BuildInProgressError(IndexError_):
    """Another process is building the same index directory right now."""


def lock_path(index_dir: Path) -> Path:
    index_dir = index_dir.resolve()
    return index_dir.parent / f".{index_dir.name}.lock"


@contextmanager
def build_lock(index_dir: Path) -> Iterator[list[Path]]:
    """Hold the build lock of `index_dir`; yields the debris it removed on the way in.

    Raises BuildInProgressError at once if another build holds it (it never waits)."""
    path = lock_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildInProgressError(
                f"another build of {index_dir} is running; wait for it to finish"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield remove_debris(index_dir)
    finally:
        handle.close()  # closing releases the lock


def debris(index_dir: Path) -> list[Path]:
    """Temporary and replaced index directories left beside `index_dir` by earlier builds."""
    index_dir = index_dir.resolve()
    if not index_dir.parent.is_dir():
        return []
    prefixes = tuple(f".{index_dir.name}{marker}" for marker in DEBRIS_MARKERS)
    return sorted(p for p in index_dir.parent.iterdir() if p.name.startswith(prefixes))


def remove_debris(index_dir: Path) -> list[Path]:
    """Remove `debris(index_dir)`; call only while holding `build_lock(index_dir)`."""
    found = debris(index_dir)
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found
