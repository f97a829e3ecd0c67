"""Split one page's tagged paragraphs into articles, each with its own headline and date.

A page often holds several articles: the end of a feature continued from page 1, a signed
sidebar, short news items. Boundaries come from what the page prints, never from a guess:

* ``（转4版）`` ends the article (it continues on a page we do not have);
* ``（接1版）`` starts one; headline lines printed just before the marker are its headline,
  and a heading just after it is the first section heading, not the headline;
* a sidebar label (``调查手记``, ``记者手记``) starts one; the next heading is its headline
  and a lone name under it is the author's byline (dropped);
* a dateline (``本报张掖讯…``) starts a news item; the headline lines just above it are its
  headline;
* at the start of a file, of a sidebar or after ``（转N版）``, the leading heading lines are
  the headline block.

In a headline block, a line starting with ``——`` is a subtitle and the line above it the
headline; lines above that are a kicker. Kicker and subtitle stay as the first paragraphs of
the text (they say what the article is), the headline becomes the title. A stand-alone date
line in the headline block is the publication date. Each section also keeps the byline lines
and the dateline printed with it (dropped from the text), for `corpus.newsmeta`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from corpus.furniture import Kind, Tagged, iso_date
from corpus.joining import is_heading_like

HEADLINE_MAX_CHARS = 90
"""Headlines of news items can be long (任振鹤在…上强调 用过硬责任担当… runs to 70)."""
_AUTHOR = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


class Start(Enum):
    """What opened a section; it decides whether leading headings are its headline."""

    FILE = "file"
    JUMP_OUT = "jump_out"
    JUMP_IN = "jump_in"
    SIDEBAR = "sidebar"
    DATELINE = "dateline"


@dataclass
class Section:
    """The paragraphs of one article before titles and re-joining (mutable while splitting)."""

    start: Start
    headline: list[str] = field(default_factory=list)
    deck: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    published: str | None = None
    bylines: list[str] = field(default_factory=list)
    """Byline lines and a sidebar's signature, as printed (not part of the text)."""
    dateline: str | None = None
    """The first dateline, as printed with its reporter credit."""

    def has_text(self) -> bool:
        """True once a paragraph that is not heading-shaped has been seen."""
        return any(not _headline_line(p) for p in self.body)


def _headline_line(text: str) -> bool:
    return is_heading_like(text, HEADLINE_MAX_CHARS) or text.startswith("—")


def split_sections(tagged: list[Tagged]) -> list[Section]:
    """Cut the tagged paragraphs of one file into article sections."""
    sections: list[Section] = []
    cur = Section(Start.FILE)
    author_expected = False
    for t in tagged:
        if t.kind is Kind.JUMP_OUT:
            sections.append(cur)
            cur = Section(Start.JUMP_OUT)
        elif t.kind is Kind.JUMP_IN:
            headline = _pop_trailing_headlines(cur)
            sections.append(cur)
            cur = Section(Start.JUMP_IN, headline=headline)
        elif t.kind is Kind.SIDEBAR:
            sections.append(cur)
            cur = Section(Start.SIDEBAR, deck=[t.text])
            author_expected = True
            continue
        elif t.kind is Kind.DATELINE and cur.has_text():
            headline = _pop_trailing_headlines(cur)
            sections.append(cur)
            cur = Section(Start.DATELINE, headline=headline, body=[t.text], dateline=t.printed)
        elif t.kind is Kind.DATE and not cur.has_text() and cur.published is None:
            cur.published = iso_date(t.text)
        elif t.kind is Kind.BYLINE:
            cur.bylines.append(t.text)
        elif not t.kind.dropped:
            if author_expected and cur.body and _AUTHOR.match(t.text):
                author_expected = False  # the sidebar's byline: 陈发明
                cur.bylines.append(t.text)
                continue
            if t.printed and cur.dateline is None:
                cur.dateline = t.printed
            cur.body.append(t.text)
        author_expected = author_expected and cur.start is Start.SIDEBAR and len(cur.body) < 2
    sections.append(cur)
    for section in sections:
        if section.start in (Start.FILE, Start.JUMP_OUT, Start.SIDEBAR) and not section.headline:
            _take_leading_headlines(section)
        _split_headline_block(section)
    return [s for s in sections if s.body or s.headline]


def _pop_trailing_headlines(section: Section) -> list[str]:
    """Remove and return the headline lines at the end of `section` (above a marker)."""
    n = 0
    while n < min(3, len(section.body)) and _headline_line(section.body[-1 - n]):
        n += 1
    if n == 0:
        return []
    lines = section.body[-n:]
    del section.body[-n:]
    return lines


def _take_leading_headlines(section: Section) -> None:
    n = 0
    while n < len(section.body) - 1 and _headline_line(section.body[n]):
        n += 1
    section.headline, section.body = section.body[:n], section.body[n:]


def _split_headline_block(section: Section) -> None:
    """Headline lines -> headline (title) and deck (kicker, subtitle: kept as text)."""
    lines = section.headline
    subtitle = next((i for i, line in enumerate(lines) if line.startswith("—")), None)
    if subtitle is None:
        return
    main = max(subtitle - 1, 0)
    section.deck += lines[:main] + lines[subtitle:]
    section.headline = lines[main:subtitle]


def title_from_headline(lines: list[str] | tuple[str, ...]) -> str:
    """Headline lines as one title; printed line breaks become spaces."""
    return " ".join(line.strip() for line in lines if line.strip())


def title_from_heading(paragraphs: tuple[str, ...]) -> str | None:
    """The first section heading of a text that printed no headline (``强基筑项 提质增效``):
    the paper's own words for the article, where a first sentence is only its opening."""
    for para in paragraphs:
        if is_heading_like(para) and not para.startswith("—"):
            return para
    return None


def title_from_text(paragraphs: tuple[str, ...], max_chars: int = 30) -> str:
    """The first sentence of the first real paragraph, shortened at a comma if too long."""
    para = next(
        (p for p in paragraphs if not is_heading_like(p)), paragraphs[0] if paragraphs else ""
    )
    sentence = re.split(r"(?<=[。！？])", para, maxsplit=1)[0].rstrip("。！？")
    if len(sentence) <= max_chars:
        return sentence
    cut = max(sentence.rfind(c, 0, max_chars) for c in "，；：、")
    return sentence[:cut] if cut >= 8 else sentence[:max_chars] + "…"
