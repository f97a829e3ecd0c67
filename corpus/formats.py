"""Readers for the supported file formats: bytes in, articles and problems out.

* ``.txt`` - a captured page; cleaned and split into articles (`corpus.cleaning`).
* ``.md`` / ``.markdown`` - one article per ``#`` section (title = the ``#`` line), or, with
  no ``#`` heading, read like ``.txt``. Markdown markup is removed first.
* ``.html`` / ``.htm`` - the main text extracted with trafilatura; title, date and URL from
  the page's metadata when it states them.
* ``.jsonl`` - one article per line: ``{"title", "text", "published"?, "url"?}``; the
  article's position is its 1-based line number.
* ``.pdf`` - each page read in reading order (OCR where it has no usable text layer) and
  cleaned like a captured page; each article keeps its page and character boxes
  (`corpus.pdf`).
* ``.docx`` - one article per Heading 1 (or Title) section, else read like a page
  (`corpus.word`).
* ``.epub`` - one article per chapter, titled by its first heading (`corpus.epub`).

Every reader is pure given the bytes. A file that cannot be read at all yields one
`LoadProblem`; a bad JSONL line yields a problem naming its line and the rest still loads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from corpus.cleaning import clean_articles
from corpus.documents import LoadProblem, Parsed
from corpus.encoding import not_utf8_hint
from corpus.epub import read_epub
from corpus.newsmeta import parse_byline
from corpus.pdf import MAX_PDF_PAGES, PageCallback, read_pdf
from corpus.word import read_docx

BINARY_SNIFF_BYTES = 8192
MAX_ARTICLE_CHARS = 100_000
"""The longest article indexed, in characters of cleaned text (about 30 printed pages; a
long news feature is under 20,000). A longer one is refused with a problem naming its length:
it would cost thousands of embeddings (a 1.7-million-character line is 50,000 texts, most of
an hour) and is almost always a mis-split dump rather than one article."""


Reader = Callable[[str, str], tuple[list[Parsed], list[LoadProblem]]]
BinaryReader = Callable[[str, bytes], tuple[list[Parsed], list[LoadProblem]]]


def decode(name: str, data: bytes) -> str | LoadProblem:
    """The file's text (UTF-8, BOM allowed), or the problem that makes it unreadable."""
    if not data.strip():
        return LoadProblem(name, "empty file")
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return LoadProblem(name, "binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        bad = data[err.start : err.start + 1].hex()
        message = f"not valid UTF-8: undecodable byte 0x{bad} at byte offset {err.start}"
        return LoadProblem(name, message + not_utf8_hint(data), line)


def read_txt(name: str, text: str) -> tuple[list[Parsed], list[LoadProblem]]:
    """A captured page: every article on it."""
    articles = clean_articles(text)
    return [Parsed(n, a) for n, a in enumerate(articles)], []


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")
_MD_LINE_MARK = re.compile(r"^\s{0,3}(>\s?|[-*+]\s+|\d+[.)]\s+)")
_MD_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def strip_markdown(text: str) -> str:
    """Markdown to plain text: markup removed, lines and hard breaks kept."""
    text = _MD_COMMENT.sub("", text)
    lines = []
    for line in text.split("\n"):
        heading = _MD_HEADING.match(line)
        if heading:
            line = heading.group(2)
        line = _MD_LINE_MARK.sub("", line)
        line = _MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line)))
        lines.append(line)
    return "\n".join(lines)


def read_markdown(name: str, text: str) -> tuple[list[Parsed], list[LoadProblem]]:
    """One article per top-level ``#`` section; without one, the file reads like a page."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.split("\n"):
        heading = _MD_HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            sections.append((heading.group(2), []))
        else:
            sections[-1][1].append(line)
    if len(sections) == 1:
        return read_txt(name, strip_markdown(text))
    found: list[Parsed] = []
    for title, lines in sections:
        body = strip_markdown("\n".join(lines))
        for article in clean_articles(body, split=False, fallback_title=title):
            found.append(Parsed(len(found), article))
    return found, []


def read_html(name: str, text: str) -> tuple[list[Parsed], list[LoadProblem]]:
    """The page's main text (trafilatura), with the title, date and URL the page states."""
    try:
        import trafilatura
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise RuntimeError("reading .html needs trafilatura: pip install trafilatura") from err

    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        # only dates the page's markup states, never one guessed from the body text
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    body = getattr(doc, "text", None) if doc is not None else None
    if not body or not body.strip():
        return [], [LoadProblem(name, "no main text found in the HTML page")]
    title = getattr(doc, "title", None)
    articles = clean_articles(body, split=False, fallback_title=title)
    if not articles:
        return [], [LoadProblem(name, "no article text left after cleaning")]
    published = _iso_date(getattr(doc, "date", None)) or articles[0].published
    author = getattr(doc, "author", None)
    news = articles[0].news
    if isinstance(author, str) and author.strip():
        news = news.or_else(parse_byline([author]))
    article = replace(articles[0], published=published, news=news)
    return [Parsed(0, article, getattr(doc, "url", None) or None)], []


def read_jsonl(name: str, text: str) -> tuple[list[Parsed], list[LoadProblem]]:
    """One article per line; a bad line is reported with its number and skipped."""
    found: list[Parsed] = []
    problems: list[LoadProblem] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(LoadProblem(name, f"not valid JSON ({err.msg})", lineno))
            continue
        if not isinstance(record, dict):
            problems.append(LoadProblem(name, "expected a JSON object per line", lineno))
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            problems.append(LoadProblem(name, "missing or empty 'text' field", lineno))
            continue
        published = _iso_date(record.get("published"))
        if record.get("published") is not None and published is None:
            problems.append(
                LoadProblem(
                    name,
                    f"'published' is not an ISO date: {record['published']!r}; ignored",
                    lineno,
                )
            )
        title = record.get("title")
        articles = clean_articles(
            body, split=False, fallback_title=title if isinstance(title, str) else None
        )
        if not articles:
            problems.append(LoadProblem(name, "no article text left after cleaning", lineno))
            continue
        url = record.get("url")
        article = replace(articles[0], published=published)
        found.append(Parsed(lineno, article, url if isinstance(url, str) and url else None))
    return found, problems


def _iso_date(value: object) -> str | None:
    """``YYYY-MM-DD`` for an ISO date or datetime string, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    try:
        return (
            date.fromisoformat(raw[:10]).isoformat()
            if len(raw) == 10
            else (datetime.fromisoformat(raw.replace("Z", "+00:00")).date().isoformat())
        )
    except ValueError:
        return None


READERS: dict[str, Reader] = {
    ".txt": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".jsonl": read_jsonl,
}
"""Text formats: suffixes (lower case) and their readers, given the decoded text."""

BINARY_READERS: dict[str, BinaryReader] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".epub": read_epub,
}
"""Binary formats: suffixes and their readers, given the file's bytes."""

SUFFIXES = frozenset(READERS) | frozenset(BINARY_READERS)
"""Every supported file suffix (lower case)."""


def is_binary_format(name: str) -> bool:
    """True for a file read from its bytes (never decoded or re-encoded as text first)."""
    return _suffix(name) in BINARY_READERS


def read_articles(
    name: str,
    data: bytes,
    max_chars: int = MAX_ARTICLE_CHARS,
    *,
    max_pdf_pages: int = MAX_PDF_PAGES,
    on_page: PageCallback | None = None,
) -> tuple[list[Parsed], list[LoadProblem]]:
    """Every article of the file called `name` with contents `data`, and the problems met.

    An article longer than `max_chars` is refused (reported, not indexed); a PDF of more than
    `max_pdf_pages` pages too. `on_page(number, ocred)` is called after each PDF page is
    read (progress of a long ingestion)."""
    binary = BINARY_READERS.get(_suffix(name))
    reader = READERS.get(_suffix(name))
    if binary is not None:
        if not data.strip():
            return [], [LoadProblem(name, "empty file")]
        if _suffix(name) == ".pdf":
            found, problems = read_pdf(name, data, max_pages=max_pdf_pages, on_page=on_page)
        else:
            found, problems = binary(name, data)
    elif reader is not None:
        text = decode(name, data)
        if isinstance(text, LoadProblem):
            return [], [text]
        found, problems = reader(name, text)
    else:
        return [], [LoadProblem(name, "unsupported file type")]
    if not found and not problems:
        problems.append(LoadProblem(name, "no article text found"))
    found = [with_news(p) for p in found]
    kept, too_long = refuse_long_articles(name, found, max_chars)
    return kept, problems + too_long


def with_news(parsed: Parsed) -> Parsed:
    """`parsed` with its article's news fields in its metadata (`corpus.newsmeta.KEYS`);
    what the format itself set wins."""
    news = parsed.article.news.as_metadata()
    if not news:
        return parsed
    return replace(parsed, metadata={**news, **parsed.metadata})


def refuse_long_articles(
    name: str, found: list[Parsed], max_chars: int = MAX_ARTICLE_CHARS
) -> tuple[list[Parsed], list[LoadProblem]]:
    """The articles of `found` within `max_chars`, and one problem per longer article."""
    kept: list[Parsed] = []
    problems: list[LoadProblem] = []
    line_numbered = _suffix(name) == ".jsonl"
    for parsed in found:
        length = len(parsed.article.text)
        if length <= max_chars:
            kept.append(parsed)
            continue
        which = "the article" if line_numbered else f"article {parsed.position}"
        problems.append(
            LoadProblem(
                name,
                f"{which} is {length:,} characters long, over the limit of {max_chars:,} "
                "(MAX_ARTICLE_CHARS); split it into several articles",
                parsed.position if line_numbered else None,
            )
        )
    return kept, problems


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""
