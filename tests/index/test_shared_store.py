"""The library on a store replicas share (PostgreSQL): segments' files in the store, each data
directory only a cache, the writer lock in the database; and SQLite kept as it was (segments
in the data directory, the lock file beside them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from index.errors import StoreUnavailableError
from index.store.docstore import DocStore, segment_files_table
from index.store.files import read_index
from index.store.library import Library
from index.store.segments import segment_names
from index.store.writerlock import AdvisoryLock
from index.store.writes import NewDocument

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["白银炉能耗降低了多少", "瓜州风电场7号的装机容量是多少"]


@pytest.fixture
def pg_url(postgres: Any) -> Any:
    url = postgres.new_database("shared")
    yield url
    postgres.drop_database(url)


def doc(n: int) -> NewDocument:
    text = f"第{n}号风电场位于瓜州，装机容量为{n + 10}万千瓦，今年发电量{n + 3}亿千瓦时。"
    return NewDocument(title=f"瓜州风电场{n}号", text=text, item=f"documents[{n}]")


def answers(library: Library) -> list[Any]:
    return [replace(library.engine.ask(q, 10), took_ms=0.0) for q in QUESTIONS]


def stored_files(url: str) -> set[str]:
    store = DocStore(url)
    try:
        with store.transaction() as conn:
            query = sa.select(segment_files_table.c.segment).distinct()
            return set(conn.execute(query).scalars())
    finally:
        store.close()


@pytest.mark.postgres
def test_a_replica_with_an_empty_data_dir_reads_every_segment_from_the_store(
    tmp_path: Path, embedder: Any, index_dir: Path, pg_url: str
) -> None:
    a = Library.open(tmp_path / "a", embedder, url=pg_url, background_merge=False)
    a.sync_corpus(read_index(index_dir))
    a.create_collection("wind")
    eighth = a.add("wind", [doc(7), doc(8)]).documents[1].doc_id
    names = {s.name for s in a.store.segments()}
    assert len(names) == 2 and stored_files(pg_url) == names
    b = Library.open(tmp_path / "b", embedder, url=pg_url, background_merge=False)
    try:
        assert set(segment_names(b.segments_dir)) == names  # fetched into its cache
        assert answers(b) == answers(a)
        assert answers(b)[1].answer is not None and "17万千瓦" in answers(b)[1].answer.text
        assert (b.version, b.segment_count) == (a.version, a.segment_count) == (3, 2)
        # B writes; A learns of it by the store's generation and fetches the new segment.
        b.add("wind", [doc(9)])
        assert a.refresh() is True
        assert (a.version, a.segment_count) == (b.version, b.segment_count) == (4, 3)
        assert answers(a) == answers(b)
        # The cache may be lost at any time: a new replica on the same directory fetches again.
        shutil.rmtree(b.segments_dir)
        c = Library.open(tmp_path / "b", embedder, url=pg_url, background_merge=False)
        try:
            assert answers(c) == answers(a)
            assert set(segment_names(c.segments_dir)) == {s.name for s in a.store.segments()}
        finally:
            c.close()
        # A merge's segment is stored and the merged-away ones dropped, files and rows.
        a.delete("wind", eighth)
        assert a.merge() is True
        assert len(a.store.segments()) == 3
        assert stored_files(pg_url) == {s.name for s in a.store.segments()}
        assert b.refresh() is True and answers(b) == answers(a)
    finally:
        b.close()
        a.close()


@pytest.mark.postgres
def test_a_merge_that_lands_while_a_replica_reads_the_store_is_read_whole(
    tmp_path: Path, embedder: Any, index_dir: Path, pg_url: str, monkeypatch: Any
) -> None:
    """A view is read as of one generation. Replica B's merge commits between A's reading of
    the live rows and of the segments: the live rows still point at the old segment, the
    segments no longer hold it. A reads again and serves the merged document; before, it
    served a view without it until its next poll."""
    a = Library.open(tmp_path / "a", embedder, url=pg_url, background_merge=False)
    a.sync_corpus(read_index(index_dir))
    a.create_collection("wind")
    seventh, eighth = (d.doc_id for d in a.add("wind", [doc(7), doc(8)]).documents)
    b = Library.open(tmp_path / "b", embedder, url=pg_url, background_merge=False)
    try:
        b.delete("wind", eighth)  # generation 4; half the batch's segment is tombstoned
        assert b.merge_candidates() == [a.store.segments()[-1].name]
        read_live_rows = a.store.live_rows
        merged: list[bool] = []

        def live_rows_then_bs_merge() -> Any:
            rows = read_live_rows()
            if not merged:
                merged.append(b.merge())  # generation 5 commits between A's reads
            return rows

        monkeypatch.setattr(a.store, "live_rows", live_rows_then_bs_merge)
        with b._writing():  # B holds the writer's lock: A reads without syncing
            assert a.refresh() is True
        assert merged == [True]
        assert (a.version, a.segment_count) == (b.version, b.segment_count) == (5, 2)
        found = a.engine.search("瓜州风电场7号的装机容量", collections=["wind"])
        assert [p.doc_id for p in found] == [seventh]
        assert answers(a) == answers(b)
    finally:
        b.close()
        a.close()


@pytest.mark.postgres
def test_a_writer_that_lost_its_lock_commits_nothing(
    tmp_path: Path, embedder: Any, pg_url: str
) -> None:
    library = Library.open(tmp_path / "data", embedder, url=pg_url, background_merge=False)
    try:
        library.create_collection("wind")
        generation = library.store.generation()
        with library._writing():
            with library.store.transaction() as conn:
                holder = AdvisoryLock.holder(conn)
                assert holder is not None
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
            with pytest.raises(StoreUnavailableError, match=r"writer's lock .* was lost"):
                library.add("wind", [doc(1)])
        assert library.store.generation() == generation
        assert library.store.documents("wind") == []
        assert segment_names(library.segments_dir) == []  # the staged segment was removed
        written = library.add("wind", [doc(1)])  # the next write takes the lock again
        assert [d.status for d in written.documents] == ["created"]
    finally:
        library.close()


HOLD = """
import sys, time
from index.store.docstore import DocStore
from index.store.writerlock import AdvisoryLock
lock = AdvisoryLock(DocStore(sys.argv[1]).engine)
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


@pytest.mark.postgres
def test_kill_9_of_a_process_holding_the_writer_lock_leaves_no_lock(pg_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, pg_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        store = DocStore(pg_url)
        mine = AdvisoryLock(store.engine)
        assert mine.try_acquire() is False
        holder.kill()
        holder.wait(timeout=30)
        deadline = time.monotonic() + 2.0  # the server sees the connection close at once
        while not mine.try_acquire():
            assert time.monotonic() < deadline, "the killed writer's lock is still held"
            time.sleep(0.05)
        with store.transaction() as conn:
            assert (
                AdvisoryLock.holder(conn)
                == conn.execute(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE pid = :pid"), {"pid": mine._pid}
                ).scalar_one()
            )
        mine.release()
        with store.transaction() as conn:
            assert AdvisoryLock.holder(conn) is None
        store.close()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_sqlite_keeps_segments_and_the_lock_file_in_the_data_directory(
    tmp_path: Path, embedder: Any
) -> None:
    library = Library.open(tmp_path, embedder, background_merge=False)
    try:
        assert library.shared is False
        assert library.store.url == f"sqlite:///{tmp_path / 'store.db'}"
        library.create_collection("wind")
        library.add("wind", [doc(1)])
        assert (tmp_path / "writer.lock").is_file()
        assert segment_names(tmp_path / "segments") == [s.name for s in library.store.segments()]
        assert library.store.segments_with_files() == set()
    finally:
        library.close()
