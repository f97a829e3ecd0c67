"""An article page, bytes in, one article out: its main text with trafilatura, its date from
the feed or htmldate, and what else the page states about itself.

The text is trafilatura's main-text extraction (boilerplate, menus and comments left out),
then the same cleaning as a `.html` file of the corpus (`corpus.cleaning`, one article, not
split). The date is the one the feed gave; else htmldate's reading of the page's markup
(`<meta property="article:published_time">`, `<time>`, JSON-LD, the URL), original date
first, never a date guessed from the body text (as `corpus.formats.read_html`). The title
is the feed's title for the item, else the page's. `metadata` keeps the page's `author` and
`sitename` when it states them (trafilatura's reading of its meta tags), strings as store
metadata is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from corpus.cleaning import clean_articles
from corpus.web.errors import FetchRefused


@dataclass(frozen=True)
class WebArticle:
    """One article read from a page."""

    url: str
    title: str
    text: str
    published: str | None
    metadata: dict[str, str] = field(default_factory=dict)


def read_page(
    body: bytes, url: str, *, title: str | None = None, published: str | None = None
) -> WebArticle:
    """The article of the page at `url` (FetchRefused when it holds no article text);
    `title` and `published`: what the feed says of it, preferred to the page's own."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        body,
        url=url,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise FetchRefused(url, "no article text found in the page")
    page_title = (getattr(doc, "title", None) or "").strip() or None
    articles = clean_articles(text, split=False, fallback_title=title or page_title)
    if not articles:
        raise FetchRefused(url, "no article text left after cleaning")
    article = articles[0]
    date = published or page_date(body, url)
    host = urlsplit(url).netloc
    metadata = {
        name: str(value).strip()
        for name in ("author", "sitename")
        # trafilatura falls back to the URL's host for a page that names no site: not a name
        if (value := getattr(doc, name, None)) and str(value).strip() not in ("", host)
    }
    return WebArticle(
        url=url,
        title=(title or page_title or article.title or url).strip(),
        text=article.text,
        published=date,
        metadata=metadata,
    )


def page_date(body: bytes, url: str) -> str | None:
    """The publication date the page's markup states (htmldate), or None."""
    from htmldate import find_date

    try:
        found = find_date(
            body, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d"
        )
    except (ValueError, TypeError):
        return None
    return str(found) if found else None
