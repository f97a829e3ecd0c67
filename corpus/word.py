"""Word ``.docx`` files (python-docx): one article per Heading 1 section.

Reporters file stories as Word documents, often several to a file, each under its headline.
A paragraph styled Title or Heading 1 starts an article and is its title; Heading 2 and
lower stay in the text as section headings; a document without any such heading is read like
a captured page (cleaned, split where the page prints markers). Tables, headers, footers and
comments are not article text and are left out.

A .docx is a zip: its entries' declared sizes are checked before python-docx opens it, so a
zip bomb is refused (`MAX_UNZIPPED_BYTES`) instead of filling memory.
"""

from __future__ import annotations

import io
import zipfile

from corpus.cleaning import Article, clean_articles
from corpus.documents import LoadProblem, Parsed
from corpus.normalize import normalize_paragraph

MAX_UNZIPPED_BYTES = 64 << 20
"""The most a .docx may unpack to (a long feature with photos is a few MB)."""
TITLE_STYLES = frozenset({"title", "heading 1", "标题", "标题 1", "标题1"})
"""Paragraph style names (lower case) that start an article: English and Chinese Word."""


def read_docx(name: str, data: bytes) -> tuple[list[Parsed], list[LoadProblem]]:
    """One article per Title / Heading 1 section; without one, the file reads like a page."""
    problem = _zip_problem(data)
    if problem is not None:
        return [], [LoadProblem(name, problem)]
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises KeyError, ValueError, lxml errors...
        return [], [LoadProblem(name, f"not a readable Word .docx file ({_reason(err)})")]
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "").strip().lower() if paragraph.style else ""
        if style in TITLE_STYLES:
            sections.append((text, []))
        else:
            sections[-1][1].append(text)
    if len(sections) == 1:
        body = "\n\n".join(sections[0][1])
        fallback = (document.core_properties.title or "").strip() or None
        articles = clean_articles(body, split=True, fallback_title=fallback)
        return [Parsed(n, a) for n, a in enumerate(articles)], []
    found: list[Parsed] = []
    for title, lines in sections:
        for article in clean_articles("\n\n".join(lines), split=False, fallback_title=title):
            found.append(Parsed(len(found), _titled(article, title)))
    return found, []


def _titled(article: Article, heading: str | None) -> Article:
    """`article` under its Heading 1: heading-shaped lines the cleaner took for a headline
    (a kicker, a Heading 2) go back to the top of the text."""
    if heading is None or article.title == normalize_paragraph(heading):
        return article
    paragraphs = (article.title, *article.paragraphs)
    return Article(normalize_paragraph(heading), article.published, paragraphs)


def _zip_problem(data: bytes) -> str | None:
    """Why `data` is not a .docx container that is safe to open, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        return "not a Word .docx file (not a zip archive; save an old .doc as .docx)"
    if not any(e.filename == "word/document.xml" for e in entries):
        return "not a Word .docx file (the archive has no word/document.xml)"
    unzipped = sum(e.file_size for e in entries)
    if unzipped > MAX_UNZIPPED_BYTES:
        return (
            f"unpacks to {unzipped:,} bytes, over the limit of {MAX_UNZIPPED_BYTES:,} "
            "(MAX_UNZIPPED_BYTES)"
        )
    return None


def _reason(err: Exception) -> str:
    return str(err).strip() or type(err).__name__
