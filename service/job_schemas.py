"""The job resource of `GET /v1/jobs/{job_id}` (and of a `202 Accepted` upload)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from index.store.jobs import Job
from service.document_schemas import SkippedOut, WrittenOut
from service.urls import api_path


class ProgressOut(BaseModel):
    phase: str = Field(description="queued, reading, storing or finished")
    done: int
    total: int
    unit: str = Field(
        description="pages while reading (a non-PDF file counts one), documents while storing"
    )


class JobReportOut(BaseModel):
    added: int = Field(description="documents created")
    updated: int = Field(description="documents replaced (same id, new content)")
    unchanged: int = Field(description="documents stored before with the same content")
    duplicates: int = Field(description="documents found to be copies of stored ones")
    ocr_pages: int = Field(description="PDF pages read by OCR")
    documents: list[WrittenOut] = Field(description="every document written, in input order")
    skipped: list[SkippedOut] = Field(
        description="every file, line or document not stored, and why"
    )


class JobOut(BaseModel):
    job_id: str
    kind: str = Field(description="upload")
    collection: str
    state: str = Field(description="queued, running, done or failed")
    progress: ProgressOut
    created_at: str
    started_at: str | None
    finished_at: str | None
    report: JobReportOut | None = Field(
        description="what the job did; set when done (and when failed, what it did until then)"
    )
    error: str | None = Field(description="why the job failed")
    url: str = Field(description="this resource")


def job_out(job: Job) -> JobOut:
    report = job.report
    return JobOut(
        job_id=job.job_id,
        kind=job.kind,
        collection=job.collection,
        state=job.state,
        progress=ProgressOut(phase=job.phase, done=job.done, total=job.total, unit=job.unit),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        report=None
        if report is None
        else JobReportOut(
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            duplicates=report.duplicates,
            ocr_pages=report.ocr_pages,
            documents=[WrittenOut(**d) for d in report.documents],
            skipped=[SkippedOut(**s) for s in report.skipped],
        ),
        error=job.error,
        url=api_path("v1", "jobs", job.job_id),
    )
