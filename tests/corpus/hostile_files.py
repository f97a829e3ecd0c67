"""Generators of hostile files (issue 24, item 7), made in code so they stay small in the
repository and their making is reviewable: each is refused by the readers with a clear
reason, in bounded time and memory.

* `blank_pdf(2000)`: 2,000 empty pages (about 100 KB), over the page limit;
* `truncated_pdf()`: the first half of a real text-layer PDF (a broken download);
* `encrypted_pdf()`: the text page of `make_fixtures.encrypted` (needs a user password);
* `zip_bomb_docx()`: a real .docx shape whose media entry unpacks to 80 MB of zeros from
  about 80 KB, over `MAX_UNZIPPED_BYTES`;
* `not_a_zip_docx()`: an old binary Word file's signature, named .docx.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def blank_pdf(pages: int) -> bytes:
    """A PDF of `pages` blank A4 pages, written by pypdfium2 (PDFium)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    try:
        for _ in range(pages):
            pdf.new_page(595, 842)
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()
    finally:
        pdf.close()


def truncated_pdf() -> bytes:
    """The first half of the two-column e-paper fixture: no cross-reference table, no end."""
    data = (FIXTURES / "epaper-two-columns.pdf").read_bytes()
    return data[: len(data) // 2]


def encrypted_pdf() -> bytes:
    return (FIXTURES / "encrypted.pdf").read_bytes()


def zip_bomb_docx(unpacked_mb: int = 80) -> bytes:
    """A .docx (it has word/document.xml) with a deflated entry of `unpacked_mb` MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"<w:document/>")
        with archive.open("word/media/image1.png", "w") as entry:
            block = bytes(1 << 20)
            for _ in range(unpacked_mb):
                entry.write(block)
    return buffer.getvalue()


def not_a_zip_docx() -> bytes:
    """The OLE2 signature of an old binary .doc, then filler: not a zip at all."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
