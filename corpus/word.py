"""Word ``.docx`` files (python-docx): one article per Heading 1 section.

Reporters file stories as Word documents, often several to a file, each under its headline.
A paragraph styled Title or Heading 1 starts an article and is its title; Heading 2 and
lower stay in the text as section headings; a document without any such heading is read like
a captured page (cleaned, split where the page prints markers). Tables, headers, footers and
comments are not article text and are left out.

A .docx is a zip: it is checked before python-docx opens it (`corpus.archives`), so a zip
bomb is refused instead of filling memory.
"""

from __future__ import annotations

import io

from corpus.archives import archive_problem
from corpus.cleaning import clean_articles, under_heading
from corpus.documents import LoadProblem, Parsed

TITLE_STYLES = frozenset({"title", "heading 1", "标题", "标题 1", "标题1"})
"""Paragraph style names (lower case) that start an article: English and Chinese Word."""


def read_docx(name: str, data: bytes) -> tuple[list[Parsed], list[LoadProblem]]:
    """One article per Title / Heading 1 section; without one, the file reads like a page."""
    problem = archive_problem(
        data, "word/document.xml", "a Word .docx file", "; save an old .doc as .docx"
    )
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
            found.append(Parsed(len(found), under_heading(article, title)))
    return found, []


def _reason(err: Exception) -> str:
    return str(err).strip() or type(err).__name__
