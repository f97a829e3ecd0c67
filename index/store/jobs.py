"""Ingestion jobs: a long write's state, progress and final report, kept in the document store.

A job is a row of the store's ``jobs`` table, so it is seen by every process on the store and
outlives a restart. It moves ``queued`` → ``running`` → ``done`` (its `JobReport` set) or
``failed`` (its ``error`` set). A process that stops while a job runs cannot finish it: the
service marks every unfinished job ``failed`` when it opens the store (`fail_unfinished`), so
no job stays ``running`` forever. What a failed job had committed before it stopped stays
committed (each of its batches is one transaction) and is listed in its report.

Progress is ``done`` of ``total`` in a ``unit`` that depends on the ``phase``: ``reading``
counts pages (a PDF page is one, any other file one), ``storing`` counts documents. Jobs
finished more than `RETENTION_DAYS` ago are dropped when a new one is created.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from index.store.docstore import DocStore, jobs_table
from index.store.records import now

RETENTION_DAYS = 7
STATES = ("queued", "running", "done", "failed")
INTERRUPTED = "interrupted: the service stopped while the job ran; send the files again"


@dataclass
class JobReport:
    """What a job did. ``duplicates`` counts inputs stored as an alias of a document they are
    a copy of (`index.dedup`)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    ocr_pages: int = 0
    documents: list[dict[str, Any]] = field(default_factory=list)
    """``{doc_id, status, item, title}`` of every document written, in input order; a
    ``duplicate`` adds its ``alias_id`` and ``similarity``."""
    skipped: list[dict[str, str]] = field(default_factory=list)
    """``{item, reason}`` of every file, line or document not stored."""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> JobReport:
        return cls(**raw)


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    collection: str
    state: str
    phase: str
    done: int
    total: int
    unit: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    report: JobReport | None
    error: str | None


def _row_to_job(row: Any) -> Job:
    return Job(
        job_id=row.job_id,
        kind=row.kind,
        collection=row.collection,
        state=row.state,
        phase=row.phase,
        done=row.done,
        total=row.total,
        unit=row.unit,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        report=JobReport.from_dict(json.loads(row.report)) if row.report else None,
        error=row.error,
    )


class Jobs:
    """The job rows of one store."""

    def __init__(self, store: DocStore) -> None:
        self.store = store

    def create(self, kind: str, collection: str, total: int, unit: str) -> Job:
        """A new ``queued`` job (and old finished ones dropped)."""
        job_id = secrets.token_hex(8)
        cutoff = (datetime.now(UTC) - timedelta(days=RETENTION_DAYS)).isoformat(
            timespec="milliseconds"
        )
        with self.store.transaction() as conn:
            conn.execute(
                sa.delete(jobs_table).where(
                    jobs_table.c.finished_at.is_not(None), jobs_table.c.finished_at < cutoff
                )
            )
            conn.execute(
                sa.insert(jobs_table).values(
                    job_id=job_id,
                    kind=kind,
                    collection=collection,
                    state="queued",
                    phase="queued",
                    done=0,
                    total=total,
                    unit=unit,
                    created_at=now(),
                )
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        if "\x00" in job_id:
            return None
        with self.store.transaction() as conn:
            row = conn.execute(sa.select(jobs_table).where(jobs_table.c.job_id == job_id)).first()
        return _row_to_job(row) if row is not None else None

    def _update(self, job_id: str, **values: Any) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                sa.update(jobs_table).where(jobs_table.c.job_id == job_id).values(**values)
            )

    def start(self, job_id: str) -> None:
        self._update(job_id, state="running", started_at=now())

    def progress(self, job_id: str, phase: str, done: int, total: int, unit: str) -> None:
        self._update(job_id, phase=phase, done=done, total=total, unit=unit)

    def finish(self, job_id: str, report: JobReport) -> None:
        self._update(
            job_id,
            state="done",
            phase="finished",
            finished_at=now(),
            report=json.dumps(asdict(report), ensure_ascii=False),
        )

    def fail(self, job_id: str, error: str, report: JobReport | None = None) -> None:
        self._update(
            job_id,
            state="failed",
            phase="finished",
            finished_at=now(),
            error=error,
            report=json.dumps(asdict(report), ensure_ascii=False) if report else None,
        )

    def fail_unfinished(self, error: str = INTERRUPTED) -> int:
        """Mark every queued or running job failed (the process that ran it is gone)."""
        with self.store.transaction() as conn:
            result = conn.execute(
                sa.update(jobs_table)
                .where(jobs_table.c.state.in_(("queued", "running")))
                .values(state="failed", phase="finished", finished_at=now(), error=error)
            )
        return int(result.rowcount or 0)
