"""PDF files: each page's text layer (pypdfium2), OCR where it has none, read like a page.

Why pypdfium2: it binds PDFium, the PDF engine of Chromium, maintained by Google and shipped
as a self-contained wheel (no system library, no MuPDF AGPL licence), it is several times
faster than the pure-Python pdfminer under pdfplumber, and its text page gives every
character's box, which is all the layout work here needs.

Per page:

1. the characters of the text layer with their boxes (`_text_glyphs`);
2. OCR instead (`corpus.ocr`) when the layer is not usable (`needs_ocr`): fewer than
   `MIN_TEXT_CHARS` characters on a page that holds an image (a scan), or more than
   `GARBLED_SHARE` of its characters outside the scripts a Chinese news page prints (CJK,
   Latin, digits, punctuation) or flagged by PDFium as having no Unicode mapping: the
   mojibake and private-use codes of broken font encodings;
3. the glyphs in reading order (`corpus.reading_order`: columns by x, then y) as page text,
   cleaned and split into articles exactly as a captured ``.txt`` page is;
4. each article's characters aligned back to their glyphs (`corpus.charboxes`).

Every article's metadata holds ``page`` (1-based), ``layout`` (its `Layout` as JSON: the
page and box of each character, to highlight a citation on the page) and ``ocr: "true"``
when its page was OCRed. An encrypted or broken file, or one over `MAX_PDF_PAGES`, is one
`LoadProblem` naming what is wrong; a page that fails is reported and the rest still loads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corpus.charboxes import METADATA_KEY, Box, Glyph, PageText, layout_of
from corpus.cleaning import clean_articles
from corpus.documents import LoadProblem, Parsed
from corpus.normalize import is_chinese_context
from corpus.reading_order import page_text

MAX_PDF_PAGES = 500
"""Pages read from one file (an e-paper issue has 8 to 100); a longer file is refused."""
MIN_TEXT_CHARS = 10
"""A page with an image and fewer text-layer characters than this is a scan: OCR it."""
GARBLED_SHARE = 0.2
"""A text layer with more than this share of unexpected characters is garbled: OCR it.
Mojibake (UTF-8 read as Latin-1: ``å…°å·ž``) scores over 0.5 (the garbled fixture 0.93),
private-use codes 1.0; the 13 seed articles score 0.0, and a Chinese text would need one
character in five to be pinyin with tone marks or kana to reach it."""
OCR_SCALE = 2.5
"""Pixels per point the page is rendered at for OCR (180 dpi: 10 pt type is 25 px high)."""


PageCallback = Callable[[int, bool], None]
"""Called with (page number, whether it was OCRed) after each page is read."""


def read_pdf(
    name: str,
    data: bytes,
    *,
    max_pages: int = MAX_PDF_PAGES,
    on_page: PageCallback | None = None,
) -> tuple[list[Parsed], list[LoadProblem]]:
    """Every article of every page of the PDF `data`, and the problems met; a file of more
    than `max_pages` pages is refused before any page is read."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        return [], [LoadProblem(name, _open_problem(str(err)))]
    try:
        pages = len(pdf)
        if pages > max_pages:
            return [], [LoadProblem(name, too_many_pages(pages, max_pages))]
        found: list[Parsed] = []
        problems: list[LoadProblem] = []
        for index in range(pages):
            try:
                text, ocred = read_page(pdf[index], index + 1)
            except Exception as err:  # a broken page must not lose the rest of the file
                problems.append(LoadProblem(name, f"page {index + 1}: unreadable ({err})"))
                if on_page is not None:
                    on_page(index + 1, False)
                continue
            if on_page is not None:
                on_page(index + 1, ocred)
            for article in clean_articles(text.text):
                metadata = {
                    "page": str(text.page),
                    METADATA_KEY: layout_of(article.text, [text]).to_json(),
                }
                if ocred:
                    metadata["ocr"] = "true"
                found.append(Parsed(len(found), article, metadata=metadata))
        return found, problems
    finally:
        pdf.close()


def too_many_pages(pages: int, limit: int) -> str:
    return f"{pages:,} pages, over the limit of {limit:,} per file (RAGQA_MAX_PDF_PAGES)"


def page_count(data: bytes) -> int | None:
    """The number of pages of the PDF `data`, without reading any page; None when it cannot
    be opened (encrypted or broken: `read_pdf` says which)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        return len(pdf)
    finally:
        pdf.close()


def _open_problem(message: str) -> str:
    if "password" in message.lower():
        return "encrypted PDF: it needs a password; send a decrypted copy"
    return f"not a readable PDF ({message})"


def read_page(page: Any, number: int) -> tuple[PageText, bool]:
    """One page's text with its glyphs, and whether it was OCRed."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        glyphs, unmapped = _text_glyphs(textpage, height)
    finally:
        textpage.close()
    ocred = needs_ocr(glyphs, unmapped, _has_image(page))
    if ocred:
        from corpus.ocr import ocr_glyphs

        image = page.render(scale=OCR_SCALE).to_pil().convert("RGB")
        import numpy as np

        glyphs = ocr_glyphs(np.asarray(image), OCR_SCALE)
    return page_text(number, glyphs, width, height), ocred


def _text_glyphs(textpage: Any, page_height: float) -> tuple[list[Glyph], int]:
    """The text layer's characters with loose boxes (top-left origin), and how many PDFium
    flags as having no Unicode mapping."""
    import pypdfium2.raw as raw

    glyphs: list[Glyph] = []
    unmapped = 0
    count = textpage.count_chars()
    i = 0
    while i < count:
        code = raw.FPDFText_GetUnicode(textpage, i)
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        if 0xD800 <= code < 0xDC00 and i + 1 < count:  # a surrogate pair: one character
            low = raw.FPDFText_GetUnicode(textpage, i + 1)
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            i += 1
        unmapped += bool(raw.FPDFText_HasUnicodeMapError(textpage, i))
        i += 1
        if code == 0:
            continue
        box = Box(left, page_height - top, right, page_height - bottom)
        glyphs.append(Glyph(chr(code), box))
    return glyphs, unmapped


def _has_image(page: Any) -> bool:
    import pypdfium2.raw as raw

    return any(True for _ in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3))


def needs_ocr(glyphs: list[Glyph], unmapped: int, has_image: bool) -> bool:
    """True when the page's text layer is missing (on a page with an image) or garbled."""
    chars = [g.char for g in glyphs if not g.char.isspace()]
    if len(chars) < MIN_TEXT_CHARS:
        return has_image
    return (unexpected_share("".join(chars)) + unmapped / len(chars)) > GARBLED_SHARE


def unexpected_share(text: str) -> float:
    """The share of non-space characters outside the scripts of Chinese news."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(not _expected(c) for c in chars) / len(chars)


def _expected(ch: str) -> bool:
    code = ord(ch)
    return (
        0x21 <= code <= 0x7E  # ASCII letters, digits, punctuation
        or is_chinese_context(ch)  # ideographs, CJK and full-width punctuation, “”…—·
        or 0x2010 <= code <= 0x2027  # dashes, quotes, bullets, ellipsis
        or 0x2100 <= code <= 0x2BFF  # ℃, №, arrows, circled numbers, geometric shapes
        or 0x3200 <= code <= 0x33FF  # enclosed CJK, CJK compatibility (㎡)
        or ch in "°×÷±§¥"
    )
