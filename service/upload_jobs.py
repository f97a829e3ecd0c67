"""Uploads that run as jobs: `202 Accepted` now, the work in the background, the report at
`GET /v1/jobs/{id}`.

Which uploads: `?wait=false` always, `?wait=true` never, and without `wait` an upload whose
estimate (`service.uploads.estimate_pages`: a PDF page counts one, every 20,000 bytes of
another file one) is over `RAGQA_JOB_PAGES` (10). A synchronous write holds its caller for
the whole write; a 300-page e-paper issue (seconds per OCRed page, minutes of embedding)
would hang the request.

What a job does differently from a synchronous write, by design:

* **file by file**: a file that is refused (unsupported, too large, over the page limit,
  encrypted, broken, a zip bomb) is listed in the report's `skipped` with the reason, and the
  other files are stored. A synchronous upload stays all or nothing;
* **in batches**: documents are committed in batches within `RAGQA_MAX_BATCH_CHARS` and 1,000
  documents, each batch one transaction, so one job never holds the writer for longer than
  one synchronous write would, and a job may carry more text than one request may;
* **progress**: `reading` counts pages (a PDF's pages as each is read, OCR included; any
  other file one), then `storing` counts documents.

Jobs run one at a time, in the order they came, on one worker thread of the service; at most
`MAX_QUEUED` wait (more: 503, retry later). Their rows are in the document store
(`index.store.jobs`), so a job is visible after a restart; one that was running when the
process stopped is marked failed when the service starts again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from index.errors import (
    CollectionNotFoundError,
    InvalidDocumentError,
    StoreUnavailableError,
    domain_errors,
)
from index.settings import Settings
from index.store.jobs import Job, JobReport, Jobs
from index.store.library import Library
from index.store.writes import NewDocument, Skipped, WriteReport, check_document
from service.document_schemas import MAX_BATCH
from service.errors import ApiError
from service.uploads import ReceivedFile

logger = logging.getLogger("ragqa.jobs")

MAX_QUEUED = 8
"""Jobs waiting at most (each holds its files in memory until it runs)."""
PROGRESS_EVERY_S = 0.5
"""Progress is written to the store at most this often (and at the end of each phase)."""


@dataclass
class UploadWork:
    """What one job stores: files to read and documents already parsed (a JSON body)."""

    collection: str
    files: list[ReceivedFile] = field(default_factory=list)
    documents: list[NewDocument] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.files)


def skipped_file(name: str, error: ApiError) -> Skipped:
    """A refused file as a report line: the file, and the message without its name."""
    reason = error.message.removeprefix(f"{name}: ")
    return Skipped(name, reason)


class JobRunner:
    """The service's job worker: one thread, one job at a time."""

    def __init__(self, library: Library, settings: Settings) -> None:
        self.library = library
        self.settings = settings
        self.jobs = Jobs(library.store)
        failed = self.jobs.fail_unfinished()
        if failed:
            logger.warning("marked %d job(s) failed: they were running when ragqa stopped", failed)
        self._queue: queue.Queue[tuple[str, UploadWork] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="ragqa-jobs", daemon=True)
        self._thread.start()

    def submit(self, work: UploadWork) -> Job | None:
        """The queued job, or None when MAX_QUEUED jobs already wait."""
        if self._queue.qsize() >= MAX_QUEUED:
            return None
        unit = "pages" if work.files else "documents"
        total = work.pages if work.files else len(work.documents)
        job = self.jobs.create("upload", work.collection, total, unit)
        self._queue.put((job.job_id, work))
        return job

    def close(self) -> None:
        """Stop after the running job (queued ones are marked failed at the next start)."""
        self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job_id, work = item
            try:
                run_upload(self.library, self.jobs, job_id, work, self.settings)
            except Exception:  # the job is marked failed by run_upload; keep serving
                logger.exception("job %s failed", job_id)


class Progress:
    """Throttled progress writes of one job."""

    def __init__(self, jobs: Jobs, job_id: str) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.last = 0.0

    def __call__(
        self, phase: str, done: int, total: int, unit: str, *, force: bool = False
    ) -> None:
        moment = time.monotonic()
        if force or moment - self.last >= PROGRESS_EVERY_S:
            self.last = moment
            self.jobs.progress(self.job_id, phase, done, total, unit)


def run_upload(
    library: Library, jobs: Jobs, job_id: str, work: UploadWork, settings: Settings
) -> JobReport:
    """Run one job to its end: read every file, store in batches, write the report."""
    report = JobReport(skipped=[s.__dict__ for s in work.skipped])
    progress = Progress(jobs, job_id)
    jobs.start(job_id)
    try:
        documents, lines = read_files(work, settings, report, progress)
        store_documents(library, work.collection, documents, lines, settings, report, progress)
    except Exception as exc:
        if isinstance(exc, CollectionNotFoundError):
            reason = f"collection {work.collection!r} was dropped"
        elif isinstance(exc, (*domain_errors(), StoreUnavailableError)):
            reason = str(exc)
        else:
            reason = f"{type(exc).__name__}: {exc}"
        jobs.fail(job_id, f"stopped: {reason}", report)
        raise
    jobs.finish(job_id, report)
    return report


def read_files(
    work: UploadWork, settings: Settings, report: JobReport, progress: Progress
) -> tuple[list[NewDocument], list[Skipped]]:
    """The documents of every file that reads (and JSON ones given), and the lines skipped;
    a refused file goes to the report."""
    from service.uploads import file_documents

    documents = list(work.documents)
    lines: list[Skipped] = []
    total = work.pages
    done = 0
    for received in work.files:
        base = done

        def on_page(number: int, ocred: bool, base: int = base) -> None:
            report.ocr_pages += ocred
            progress("reading", base + number, total, "pages")

        ocr_before = report.ocr_pages
        try:
            found, skipped = file_documents(
                received.name,
                received.data,
                max_pdf_pages=settings.max_pdf_pages,
                on_page=on_page,
            )
            for doc in found:
                check_document(doc)
        except ApiError as exc:
            report.ocr_pages = ocr_before  # nothing of the file is stored
            report.skipped.append(skipped_file(received.name, exc).__dict__)
        except InvalidDocumentError as exc:
            report.ocr_pages = ocr_before
            report.skipped.append({"item": received.name, "reason": str(exc)})
        except Exception as exc:  # a reader's bug must not lose the other files of the job
            logger.exception("job: reading %s failed", received.name)
            report.ocr_pages = ocr_before
            reason = f"could not be read ({type(exc).__name__}: {exc})"
            report.skipped.append({"item": received.name, "reason": reason})
        else:
            documents += found
            lines += skipped
        done = base + received.pages
        progress("reading", done, total, "pages", force=True)
    return documents, lines


def batches(documents: list[NewDocument], max_chars: int) -> list[list[NewDocument]]:
    """Consecutive batches of at most MAX_BATCH documents and `max_chars` characters."""
    out: list[list[NewDocument]] = []
    current: list[NewDocument] = []
    chars = 0
    for doc in documents:
        if current and (len(current) >= MAX_BATCH or chars + len(doc.text) > max_chars):
            out.append(current)
            current, chars = [], 0
        current.append(doc)
        chars += len(doc.text)
    if current:
        out.append(current)
    return out


def store_documents(
    library: Library,
    collection: str,
    documents: list[NewDocument],
    lines: list[Skipped],
    settings: Settings,
    report: JobReport,
    progress: Progress,
) -> None:
    """Commit `documents` batch by batch, counting what each batch did into `report`."""
    total = len(documents)
    done = 0
    progress("storing", 0, total, "documents", force=True)
    # The skipped lines go with the first batch, as a synchronous write reports them: before
    # the documents a batch refuses (a taken id).
    report.skipped += [s.__dict__ for s in lines]
    for batch in batches(documents, settings.max_batch_chars):
        try:
            written = library.add(collection, batch)
        except InvalidDocumentError:
            # One document the batch cannot hold (the same id twice): store the others
            # one by one, each refusal named in the report.
            for doc in batch:
                try:
                    _count(report, library.add(collection, [doc]))
                except InvalidDocumentError as exc:
                    report.skipped.append({"item": doc.item, "reason": str(exc)})
        else:
            _count(report, written)
        done += len(batch)
        progress("storing", done, total, "documents", force=True)


def _count(report: JobReport, written: WriteReport) -> None:
    for doc in written.documents:
        entry: dict[str, Any] = {
            "doc_id": doc.doc_id,
            "status": doc.status,
            "item": doc.item,
            "title": doc.title,
        }
        if doc.status == "created":
            report.added += 1
        elif doc.status == "replaced":
            report.updated += 1
        elif doc.status == "duplicate":  # stored as an alias of document `doc_id`
            report.duplicates += 1
            entry.update(alias_id=doc.alias_id, similarity=doc.similarity)
        else:
            report.unchanged += 1
        report.documents.append(entry)
    report.skipped += [s.__dict__ for s in written.skipped]
