"""`GET /read/{doc_id}?start=&end=`: the article as a reader sees it, the cited span marked.

Citations link here when a document has no `url` of its own (`service.links`). The page is
plain server-rendered HTML without scripts: the title, date and source as a header, the text
with `[start, end)` wrapped in `<mark id="cited">`, so a link ending in `#cited` scrolls to
it. Offsets are code points into the document's text, as everywhere in the API. The article
text is never HTML: every piece is escaped. Public like `GET /v1/documents/{doc_id}`, and
not in the OpenAPI schema (it is a page, not an API): an unknown document is the usual JSON
404, bad offsets a 400 naming them.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from index.engine import Engine
from service.deps import EngineDep
from service.errors import MalformedRequest
from service.links import READ_ANCHOR
from service.routing import api_router

UNDATED = "未注明日期"

router = api_router(include_in_schema=False)

STYLE = """
body{margin:0;background:#fafafa;color:#222;font:17px/1.75 system-ui,sans-serif}
article{max-width:42rem;margin:0 auto;padding:1.5rem 1rem 40vh}
h1{font-size:1.5rem;line-height:1.4;margin:0 0 .4rem}
.meta{color:#666;font-size:.9rem;margin:0 0 1.2rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
mark{background:#ffe58a;padding:.1em 0;scroll-margin-top:30vh}
"""


@router.get("/read/{doc_id}", response_class=HTMLResponse)
async def read(
    doc_id: str, engine: EngineDep, start: str | None = None, end: str | None = None
) -> HTMLResponse:
    """The article page; `start` and `end` (both or neither) mark the cited span."""
    return HTMLResponse(
        read_page(engine, doc_id, start, end), headers={"Cache-Control": "no-cache"}
    )


def read_page(engine: Engine, doc_id: str, start: str | None, end: str | None) -> str:
    """The page's HTML (DocumentNotFoundError → 404 in service/errors.py)."""
    document = engine.contents.document(doc_id)
    text = document.text
    span = _span(start, end, len(text))
    if span is None:
        body = escape(text)
    else:
        a, b = span
        marked = f'<mark id="{READ_ANCHOR}">{escape(text[a:b])}</mark>'
        body = escape(text[:a]) + marked + escape(text[b:])
    meta = " · ".join(escape(part) for part in (document.published or UNDATED, document.source))
    if document.url:
        meta += f' · <a href="{escape(document.url)}" rel="noopener">原文</a>'
    title = escape(document.title)
    return (
        '<!doctype html>\n<html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>\n"
        f'<body><article><header><h1>{title}</h1><p class="meta">{meta}</p></header>\n'
        f'<div class="text">{body}</div></article></body></html>\n'
    )


def _span(start: str | None, end: str | None, n_chars: int) -> tuple[int, int] | None:
    """`[start, end)` checked against the text: 0 ≤ start < end ≤ n_chars, or a 400."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise MalformedRequest("start, end: give both offsets or neither")
    if not all(v.isascii() and v.isdigit() for v in (start, end)):
        raise MalformedRequest(
            f"start, end: must be whole numbers (got {start[:20]!r}, {end[:20]!r})"
        )
    a, b = int(start), int(end)
    if not 0 <= a < b <= n_chars:
        raise MalformedRequest(
            f"start, end: need 0 <= start < end <= {n_chars} (the document's length), "
            f"got start={a}, end={b}"
        )
    return a, b
