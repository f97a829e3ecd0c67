"""Long uploads run as jobs, and hostile files never hurt what is stored (issue 24, items 6
and 7), over the real server, store and index.

The server of this module runs jobs for uploads estimated at more than 2 pages
(`RAGQA_JOB_PAGES=2`) so that the small fixtures show the behaviour, and takes files up to
10 MB (the 2,000-page PDF is 250 KB). Hostile files come from `tests/corpus/hostile_files.py`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.store.docstore import DocStore, sqlite_url
from tests.conftest import TEST_API_KEY
from tests.corpus import hostile_files
from tests.servers import SERVER_PIDS, rss_bytes

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "corpus" / "fixtures"
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
QUESTION = "兰州新区氢能产业园总投资多少"


@pytest.fixture(scope="module")
def jobs_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.service.conftest import _docs_server

    yield from _docs_server(
        index_dir,
        tmp_path_factory.mktemp("jobs_server"),
        RAGQA_JOB_PAGES="2",
        RAGQA_MAX_FILE_BYTES=str(10 * 1024 * 1024),
    )


@pytest.fixture(scope="module")
def http(jobs_server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jobs_server[0], timeout=120) as client:
        yield client


def fixture(name: str, kind: str = PDF) -> tuple[str, tuple[str, bytes, str]]:
    return ("files", (name, (FIXTURES / name).read_bytes(), kind))


def make_collection(http: httpx.Client, name: str) -> None:
    assert http.put(f"/v1/collections/{name}", headers=AUTH).status_code in (200, 201)


def wait_for(http: httpx.Client, location: str, timeout_s: float = 300) -> dict[str, Any]:
    """Poll a job until it is done or failed; every answer on the way is a valid job."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = http.get(location, headers=AUTH)
        assert response.status_code == 200, response.text
        job = dict(response.json())
        progress = job["progress"]
        assert 0 <= progress["done"] <= progress["total"] or progress["phase"] == "queued"
        if job["state"] in ("done", "failed"):
            return job
        assert job["state"] in ("queued", "running")
        time.sleep(0.2)
    raise AssertionError(f"job {location} not finished after {timeout_s} s")


def stored_state(http: httpx.Client, data_dir: Path) -> tuple[Any, ...]:
    """Document count and ids, the store's generation (every commit bumps it: the index
    version) and the passages a question retrieves."""
    documents = http.get("/v1/documents").json()
    store = DocStore(sqlite_url(data_dir / "store.db"))
    try:
        generation = store.generation()
    finally:
        store.close()
    search = http.get("/v1/search", params={"q": QUESTION, "top_k": 5}).json()
    passages = [(p["doc_id"], p["char_start"], p["char_end"]) for p in search["passages"]]
    return len(documents), [d["doc_id"] for d in documents], generation, passages


def test_a_long_upload_answers_202_and_its_job_stores_the_good_files_and_reports_the_bad(
    http: httpx.Client,
) -> None:
    make_collection(http, "e-paper")
    files = [
        fixture("epaper-two-columns.pdf"),
        ("files", ("report.doc", b"\xd0\xcf\x11\xe0", "application/msword")),
        fixture("scanned-page.pdf"),
        ("files", ("locked.pdf", hostile_files.encrypted_pdf(), PDF)),
        fixture("long-article.pdf"),
    ]
    started = time.monotonic()
    response = http.post("/v1/collections/e-paper/documents", files=files, headers=AUTH)
    assert time.monotonic() - started < 10  # answered before the OCR and the embedding
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['job_id']}" == job["url"]
    assert job["state"] == "queued" and job["collection"] == "e-paper"
    # The estimate: one page per PDF (locked.pdf cannot be opened: counted as one).
    assert job["progress"] == {"phase": "queued", "done": 0, "total": 4, "unit": "pages"}
    assert job["report"] is None and job["error"] is None

    done = wait_for(http, job["url"])
    assert done["state"] == "done", done
    assert done["error"] is None
    assert done["started_at"] >= done["created_at"] and done["finished_at"] >= done["started_at"]
    assert done["progress"] == {"phase": "finished", "done": 4, "total": 4, "unit": "documents"}
    report = done["report"]
    assert {k: report[k] for k in ("added", "updated", "unchanged", "duplicates", "ocr_pages")} == {
        "added": 4,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "ocr_pages": 1,
    }
    assert [(d["item"], d["title"], d["status"]) for d in report["documents"]] == [
        ("epaper-two-columns.pdf:0", "兰州新区氢能产业园开工建设", "created"),
        ("epaper-two-columns.pdf:1", "河西走廊风电项目并网发电", "created"),
        ("scanned-page.pdf", "氢能产业园开工", "created"),
        ("long-article.pdf", "兰州新区产业项目建设综述", "created"),
    ]
    assert report["skipped"] == [
        {
            "item": "report.doc",
            "reason": "unsupported file type; send .docx, .epub, .html, .jsonl, .md, .pdf, "
            ".txt files",
        },
        {
            "item": "locked.pdf",
            "reason": "encrypted PDF: it needs a password; send a decrypted copy",
        },
    ]
    scanned = report["documents"][2]["doc_id"]
    document = http.get(f"/v1/documents/{scanned}").json()
    assert document["collection"] == "e-paper" and document["metadata"]["ocr"] == "true"
    result = http.post("/v1/ask", json={"question": QUESTION, "collections": ["e-paper"]})
    assert result.json()["answer"] is not None

    # The same upload again: nothing new, nothing re-embedded.
    again = http.post("/v1/collections/e-paper/documents", files=files, headers=AUTH)
    assert again.status_code == 202
    report = wait_for(http, again.json()["url"])["report"]
    assert (report["added"], report["unchanged"]) == (0, 4)


def test_small_uploads_and_wait_true_stay_synchronous_and_wait_false_is_a_job(
    http: httpx.Client,
) -> None:
    make_collection(http, "small")
    one = http.post(
        "/v1/collections/small/documents", files=[fixture("epaper-two-columns.pdf")], headers=AUTH
    )
    assert one.status_code == 200 and "location" not in one.headers
    assert [d["status"] for d in one.json()["documents"]] == ["created", "created"]
    three = [
        fixture("epaper-two-columns.pdf"),
        fixture("long-article.pdf"),
        fixture("encrypted.pdf"),
    ]
    # ?wait=true: today's contract, all or nothing, a refusal names the file.
    refused = http.post("/v1/collections/small/documents?wait=true", files=three, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == (
        "encrypted.pdf: encrypted PDF: it needs a password; send a decrypted copy"
    )
    synchronous = http.post(
        "/v1/collections/small/documents?wait=true", files=three[:2], headers=AUTH
    )
    assert synchronous.status_code == 200
    assert [d["status"] for d in synchronous.json()["documents"]] == [
        "unchanged",
        "unchanged",
        "created",
    ]
    # ?wait=false: a job even for one JSON document.
    body = {"title": "小稿件", "text": "兰州新区今年新开工项目120个。"}
    accepted = http.post("/v1/collections/small/documents?wait=false", json=body, headers=AUTH)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["progress"]["unit"] == "documents"
    job = wait_for(http, accepted.headers["location"])
    assert job["state"] == "done" and job["report"]["added"] == 1
    assert job["report"]["documents"][0]["item"] == "document"
    assert (
        http.post("/v1/collections/small/documents?wait=maybe", json=body, headers=AUTH).status_code
        == 422
    )


def test_a_job_needs_the_key_and_an_unknown_one_is_404(http: httpx.Client) -> None:
    missing = http.get("/v1/jobs/0000000000000000", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "job_not_found", "message": "no job '0000000000000000'"}
    }
    assert http.get("/v1/jobs/0000000000000000").status_code == 401


HOSTILE = {
    "locked.pdf": (
        hostile_files.encrypted_pdf,
        "locked.pdf: encrypted PDF: it needs a password; send a decrypted copy",
    ),
    "cut.pdf": (
        hostile_files.truncated_pdf,
        "cut.pdf: not a readable PDF (Failed to load document (PDFium: Data format error).)",
    ),
    "issue.pdf": (
        lambda: hostile_files.blank_pdf(2000),
        "issue.pdf: 2,000 pages, over the limit of 500 per file (RAGQA_MAX_PDF_PAGES)",
    ),
    "bomb.docx": (
        hostile_files.zip_bomb_docx,
        "bomb.docx: unpacks to 83,886,101 bytes, over the limit of 67,108,864 (MAX_UNZIPPED_BYTES)",
    ),
    "old.docx": (
        hostile_files.not_a_zip_docx,
        "old.docx: not a Word .docx file (not a zip archive; save an old .doc as .docx)",
    ),
}


def test_each_hostile_file_is_refused_quickly_and_the_store_and_index_stay_as_they_were(
    http: httpx.Client, jobs_server: tuple[str, Path]
) -> None:
    base, data_dir = jobs_server
    make_collection(http, "hostile")
    pid = SERVER_PIDS[base]
    before = stored_state(http, data_dir)
    rss_before = rss_bytes(pid)
    contents = {name: make() for name, (make, _) in HOSTILE.items()}
    for name, (_, message) in HOSTILE.items():
        kind = PDF if name.endswith(".pdf") else DOCX
        started = time.monotonic()
        response = http.post(
            "/v1/collections/hostile/documents?wait=true",  # the bomb's 80 KB estimate 5 pages
            files=[("files", (name, contents[name], kind))],
            headers=AUTH,
        )
        assert time.monotonic() - started < 10, name
        assert response.status_code == 422, response.text
        assert response.json() == {"error": {"code": "invalid_request", "message": message}}
        assert stored_state(http, data_dir) == before, name
    # All five in one job: each listed with its reason, nothing stored.
    files = [
        ("files", (name, contents[name], PDF if name.endswith(".pdf") else DOCX))
        for name in HOSTILE
    ]
    response = http.post("/v1/collections/hostile/documents", files=files, headers=AUTH)
    assert response.status_code == 202, response.text
    job = wait_for(http, response.headers["location"], timeout_s=30)
    assert job["state"] == "done"
    report = job["report"]
    assert (report["added"], report["documents"], report["ocr_pages"]) == (0, [], 0)
    # issue.pdf is refused on its page count before anything is read, so it is listed first.
    order = ["issue.pdf", "locked.pdf", "cut.pdf", "bomb.docx", "old.docx"]
    assert report["skipped"] == [
        {"item": name, "reason": HOSTILE[name][1].removeprefix(f"{name}: ")} for name in order
    ]
    assert stored_state(http, data_dir) == before
    # Nothing was unpacked or rendered: the server grew by less than the bomb's 80 MB.
    assert rss_bytes(pid) - rss_before < 64 << 20


def test_ragqa_add_ends_with_the_jobs_report_locally_and_through_the_service(
    http: httpx.Client, tmp_path: Path
) -> None:
    """`ragqa add` on the local store and with `--url` (where each batch is a job) prints the
    same lines, ending with the report's fields: the scanned page counts one OCR page."""
    from tests.servers import ragqa

    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("scanned-page.pdf", "encrypted.pdf"):
        (folder / name).write_bytes((FIXTURES / name).read_bytes())
    base = str(http.base_url).rstrip("/")
    remote = ragqa("add", str(folder), "-c", "scans", "--url", base, "--api-key", TEST_API_KEY)
    local = ragqa(
        "add",
        str(folder),
        "-c",
        "scans",
        env={"RAGQA_DATA_DIR": str(tmp_path / "data"), "RAGQA_IMPORT_CORPUS": "false"},
    )
    for run in (remote, local):
        assert run.returncode == 1, run.stdout + run.stderr  # the encrypted file was skipped
        lines = run.stdout.splitlines()
        assert lines[0] == "scans: 1 created, 0 replaced, 0 unchanged (not re-embedded), 1 skipped"
        assert f"  {folder / 'encrypted.pdf'}: encrypted.pdf: encrypted PDF: it needs a " in (
            run.stdout
        )
        assert lines[-1] == (
            "report: 1 added, 0 updated, 0 unchanged, 0 duplicates, 1 skipped, 1 OCR pages"
        )
    assert remote.stdout == local.stdout


def test_a_job_running_when_the_service_stopped_is_failed_when_it_starts_again(
    index_dir: Path, tmp_path: Path
) -> None:
    """The crash is simulated by a job row left `running` in the store; the next start marks
    it failed with the reason, and a finished job is shown as it was."""
    from contextlib import contextmanager

    from index.store.jobs import INTERRUPTED, JobReport, Jobs
    from tests.service.conftest import _docs_server

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = DocStore(sqlite_url(data_dir / "store.db"))
    jobs = Jobs(store)
    running = jobs.create("upload", "default", 300, "pages")
    jobs.start(running.job_id)
    jobs.progress(running.job_id, "reading", 120, 300, "pages")
    finished = jobs.create("upload", "default", 1, "pages")
    jobs.finish(finished.job_id, JobReport(added=1))
    store.close()
    with contextmanager(_docs_server)(index_dir, tmp_path) as (base, _):
        failed = httpx.get(f"{base}/v1/jobs/{running.job_id}", headers=AUTH).json()
        assert (failed["state"], failed["error"], failed["report"]) == ("failed", INTERRUPTED, None)
        assert failed["progress"] == {
            "phase": "finished",
            "done": 120,
            "total": 300,
            "unit": "pages",
        }
        assert failed["finished_at"] is not None
        done = httpx.get(f"{base}/v1/jobs/{finished.job_id}", headers=AUTH).json()
        assert done["state"] == "done" and done["report"]["added"] == 1
