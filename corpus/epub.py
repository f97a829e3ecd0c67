"""EPUB books (ebooklib): one article per chapter of the reading order.

Collections of reports and yearbooks come as EPUB. Each document of the spine (the book's
reading order) is one article: its first heading (``h1``..``h3``) is the title, its block
elements (paragraphs, lower headings, list items) are the paragraphs; a chapter without text
(a cover) gives nothing, and the navigation page (the table of contents) is skipped. The
text is then cleaned like any article. The archive is checked before ebooklib opens it
(`corpus.archives`). A book's date is not each chapter's publication date, so `published`
comes only from a date line in the text.
"""

from __future__ import annotations

import io
from typing import Any

from corpus.archives import archive_problem
from corpus.cleaning import clean_articles, under_heading
from corpus.documents import LoadProblem, Parsed

_HEADINGS = ("h1", "h2", "h3")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"}


def read_epub(name: str, data: bytes) -> tuple[list[Parsed], list[LoadProblem]]:
    """One article per chapter in reading order, titled by its first heading."""
    problem = archive_problem(data, "META-INF/container.xml", "an EPUB file")
    if problem is not None:
        return [], [LoadProblem(name, problem)]
    from ebooklib import epub

    try:
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except Exception as err:  # ebooklib raises EpubException, KeyError, lxml errors...
        return [], [LoadProblem(name, f"not a readable EPUB file ({str(err).strip() or err!r})")]
    found: list[Parsed] = []
    problems: list[LoadProblem] = []
    for idref, _ in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or not item.is_chapter():  # the navigation page is not an article
            continue
        try:
            title, paragraphs = _chapter(item.get_content())
        except Exception as err:  # a broken chapter must not lose the rest of the book
            problems.append(LoadProblem(name, f"chapter {idref}: unreadable ({err})"))
            continue
        for article in clean_articles("\n\n".join(paragraphs), split=False, fallback_title=title):
            found.append(Parsed(len(found), under_heading(article, title)))
    return found, problems


def _chapter(content: bytes) -> tuple[str | None, list[str]]:
    """The chapter's first heading and the text of its other block elements, in order."""
    import lxml.html

    root: Any = lxml.html.fromstring(content)
    title: str | None = None
    paragraphs: list[str] = []
    for element in root.iter(*_BLOCKS):
        if any(parent.tag in _BLOCKS for parent in element.iterancestors()):
            continue  # its text is part of the enclosing block's
        text = " ".join(element.text_content().split())
        if not text:
            continue
        if title is None and element.tag in _HEADINGS:
            title = text
        else:
            paragraphs.append(text)
    return title, paragraphs
