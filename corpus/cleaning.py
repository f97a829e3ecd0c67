"""Raw page text -> clean articles: the whole cleaning pipeline as one pure function.

Steps, each in its own module:

1. `corpus.layout` reads paragraphs and the blank-line gaps between them, and normalises
   characters, widths, punctuation and whitespace (the convention is documented in
   `corpus.normalize`);
2. `corpus.furniture` tags navigation, captions, credits, bylines, copyright and related-news
   lists (dropped) and page-jump markers, sidebar labels, datelines and date lines (markers);
3. `corpus.splitting` cuts the page into articles and finds each headline and date;
4. `corpus.joining` re-joins sentences the layout broke, lifting a headline printed inside a
   sentence into the title;
5. `corpus.newsmeta` reads each article's byline, reporters and dateline place, and the
   page's paper, page (版次) and date, from the lines the earlier steps kept out of the text.

The text produced here is final: document offsets point into it and no later stage may
change it. Paragraphs are separated by exactly one blank line (``\\n\\n``); a paragraph holds
no newline.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from corpus.furniture import Kind, Tagged, classify, iso_date
from corpus.joining import rejoin
from corpus.layout import paragraphs
from corpus.newsmeta import NewsMeta, page_facts, parse_byline, parse_dateline
from corpus.normalize import normalize_paragraph
from corpus.splitting import (
    Section,
    split_sections,
    title_from_heading,
    title_from_headline,
    title_from_text,
)

PARAGRAPH_BREAK = "\n\n"
_SPLIT_ONLY = {Kind.JUMP_IN: Kind.FURNITURE, Kind.JUMP_OUT: Kind.FURNITURE, Kind.SIDEBAR: Kind.BODY}


@dataclass(frozen=True)
class Article:
    """One cleaned article: its title, publication date if stated, its paragraphs, and what
    the page says of it besides (byline, reporters, paper, page, place)."""

    title: str
    published: str | None
    paragraphs: tuple[str, ...]
    news: NewsMeta = field(default_factory=NewsMeta)

    @property
    def text(self) -> str:
        """The final document text: paragraphs separated by a blank line."""
        return PARAGRAPH_BREAK.join(self.paragraphs)


def clean_articles(
    raw: str, *, split: bool = True, fallback_title: str | None = None
) -> list[Article]:
    """All articles of one page's text, cleaned; `split=False` keeps the page as one article.

    Formats that already delimit their articles (JSONL lines, Markdown ``#`` sections, an
    HTML page) pass ``split=False``: furniture is still removed and broken sentences joined.
    The title is the printed headline, else `fallback_title` (a format's own title field),
    else the article's first section heading (a capture that lost the headline still prints
    those), and only for text with no heading at all its first sentence, shortened.
    A date, paper or page the page states in its furniture (an e-paper header, a masthead,
    a date line above everything else) applies to every article on it that does not state its own.
    """
    tagged = classify(paragraphs(raw))
    page = page_facts(t.text for t in tagged if t.kind is Kind.FURNITURE)
    page_date = page.published or _header_date(tagged)
    if not split:
        tagged = [_unsplit(t) for t in tagged]
    articles: list[Article] = []
    for section in split_sections(tagged):
        result = rejoin(section.body, has_headline=bool(section.headline))
        paras = tuple(section.deck) + result.paragraphs
        if not result.paragraphs:
            continue
        headline = section.headline or list(result.displaced_headline)
        if headline:
            title = title_from_headline(headline)
        elif fallback_title and fallback_title.strip():
            title = normalize_paragraph(fallback_title)
        else:
            title = title_from_heading(result.paragraphs) or title_from_text(result.paragraphs)
        published = section.published or page_date
        articles.append(Article(title, published, paras, _news(section).or_else(page.news)))
    return articles


def _header_date(tagged: list[Tagged]) -> str | None:
    """A date line printed above everything else on the page (an e-paper page's header)."""
    for t in tagged:
        if t.kind is Kind.DATE:
            return iso_date(t.text)
        if not t.kind.dropped:
            return None
    return None


def _news(section: Section) -> NewsMeta:
    """The article's own byline, reporters, paper and place: its byline lines, else the
    reporter credit of its dateline."""
    dateline = parse_dateline(section.dateline) if section.dateline else NewsMeta()
    byline = parse_byline(section.bylines) if section.bylines else NewsMeta()
    return byline.or_else(dateline)


def under_heading(article: Article, heading: str | None) -> Article:
    """`article` titled by the heading a format marks (a Word Heading 1, an EPUB chapter's
    ``h1``): heading-shaped lines the cleaner took for its headline (a kicker, a subheading)
    go back to the top of the text, since the marked heading is the title."""
    if heading is None or article.title == normalize_paragraph(heading):
        return article
    paragraphs = (article.title, *article.paragraphs)
    return replace(article, title=normalize_paragraph(heading), paragraphs=paragraphs)


def _unsplit(t: Tagged) -> Tagged:
    kind = _SPLIT_ONLY.get(t.kind)
    if kind is None and t.kind is Kind.DATELINE:
        kind = Kind.BODY
    return replace(t, kind=kind) if kind is not None else t
