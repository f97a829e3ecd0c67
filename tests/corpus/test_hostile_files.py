"""Hostile files are refused by the readers with a clear reason, in bounded time and memory
(issue 24, item 7); `tests/service/test_upload_jobs.py` sends the same files to the server."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from corpus.formats import read_articles
from tests.corpus import hostile_files

CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "locked.pdf": (
        hostile_files.encrypted_pdf,
        "encrypted PDF: it needs a password; send a decrypted copy",
    ),
    "cut.pdf": (
        hostile_files.truncated_pdf,
        "not a readable PDF (Failed to load document (PDFium: Data format error).)",
    ),
    "issue.pdf": (
        lambda: hostile_files.blank_pdf(2000),
        "2,000 pages, over the limit of 500 per file (RAGQA_MAX_PDF_PAGES)",
    ),
    "bomb.docx": (
        hostile_files.zip_bomb_docx,
        "unpacks to 83,886,101 bytes, over the limit of 67,108,864 (MAX_UNZIPPED_BYTES)",
    ),
    "old.docx": (
        hostile_files.not_a_zip_docx,
        "not a Word .docx file (not a zip archive; save an old .doc as .docx)",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_file_is_refused_in_bounded_time_and_memory(name: str) -> None:
    make, reason = CASES[name]
    data = make()
    assert len(data) < 300_000  # small fixtures: the 2,000 pages are 250 KB, the bomb 80 KB
    tracemalloc.start()
    started = time.monotonic()
    try:
        found, problems = read_articles(name, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 16 << 20, peak  # nothing unpacked, no page rendered
    assert found == []
    assert [(p.source, p.message) for p in problems] == [(name, reason)]


def test_the_page_limit_is_a_setting_of_the_reader() -> None:
    data = hostile_files.blank_pdf(12)
    found, problems = read_articles("twelve.pdf", data, max_pdf_pages=10)
    assert found == []
    assert [p.message for p in problems] == [
        "12 pages, over the limit of 10 per file (RAGQA_MAX_PDF_PAGES)"
    ]
    pages: list[tuple[int, bool]] = []
    found, problems = read_articles("twelve.pdf", data, on_page=lambda n, o: pages.append((n, o)))
    assert pages == [(n, False) for n in range(1, 13)]  # blank pages: read, nothing to OCR
    assert (found, [p.message for p in problems]) == ([], ["no article text found"])
