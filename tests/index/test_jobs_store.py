"""Ingestion jobs in the document store (`index.store.jobs`), on SQLite and on a real
PostgreSQL server: a job's state, progress and report outlive the process, and a job that was
running when the process stopped is failed when the store is opened by the next one."""

from __future__ import annotations

from index.store.docstore import DocStore
from index.store.jobs import INTERRUPTED, JobReport, Jobs


def test_a_job_moves_from_queued_to_done_with_its_report(store_url: str) -> None:
    store = DocStore(store_url)
    jobs = Jobs(store)
    job = jobs.create("upload", "newsroom", 300, "pages")
    assert (job.state, job.phase, job.done, job.total, job.unit) == (
        "queued",
        "queued",
        0,
        300,
        "pages",
    )
    assert job.started_at is None and job.finished_at is None and job.report is None
    assert len(job.job_id) == 16
    jobs.start(job.job_id)
    jobs.progress(job.job_id, "reading", 120, 300, "pages")
    running = jobs.get(job.job_id)
    assert running is not None
    assert (running.state, running.phase, running.done, running.total) == (
        "running",
        "reading",
        120,
        300,
    )
    assert running.started_at is not None and running.started_at >= running.created_at
    report = JobReport(
        added=2,
        ocr_pages=1,
        documents=[{"doc_id": "a1", "status": "created", "item": "p.pdf:0", "title": "标题"}],
        skipped=[{"item": "x.pdf", "reason": "encrypted PDF: it needs a password"}],
    )
    jobs.finish(job.job_id, report)
    store.close()

    again = Jobs(DocStore(store_url))  # another process opening the same store
    done = again.get(job.job_id)
    assert done is not None
    assert (done.state, done.phase, done.error) == ("done", "finished", None)
    assert done.report == report
    assert done.finished_at is not None and done.finished_at >= done.started_at  # type: ignore[operator]
    assert again.get("no-such-job") is None and again.get("a\x00b") is None
    again.store.close()


def test_jobs_unfinished_when_the_process_stopped_are_failed_on_open(store_url: str) -> None:
    store = DocStore(store_url)
    jobs = Jobs(store)
    running = jobs.create("upload", "c", 10, "pages")
    jobs.start(running.job_id)
    queued = jobs.create("upload", "c", 5, "pages")
    finished = jobs.create("upload", "c", 1, "pages")
    jobs.start(finished.job_id)
    jobs.finish(finished.job_id, JobReport(added=1))
    store.close()  # the process "crashes" here

    reopened = Jobs(DocStore(store_url))
    assert reopened.fail_unfinished() == 2
    for job_id in (running.job_id, queued.job_id):
        job = reopened.get(job_id)
        assert job is not None
        assert (job.state, job.phase, job.error) == ("failed", "finished", INTERRUPTED)
        assert job.finished_at is not None
    kept = reopened.get(finished.job_id)
    assert kept is not None and kept.state == "done" and kept.report == JobReport(added=1)
    assert reopened.fail_unfinished() == 0
    reopened.store.close()
