"""Links a reader can follow from a citation: the article's own `url`, else ragqa's read page.

Every passage and answer of the HTTP API carries a `url`. A document that came with a `url`
(an upload's metadata) links there; any other links to `/read/{doc_id}?start=&end=#cited`
(`service.routes.read`), which shows the article with the cited span highlighted and
scrolled into view. The URL is absolute, built on the base URL the request came in on, so it
can be pasted or opened from a chat client or another page.
"""

from __future__ import annotations

from fastapi import Request

from index.engine import Engine
from index.errors import DocumentNotFoundError
from service.schemas import AnswerOut, OutletOut, PassageOut
from service.urls import api_path

READ_ANCHOR = "cited"
"""The `id` of the read page's `<mark>`: the fragment of a read link scrolls to it."""


def base_url(request: Request) -> str:
    """The scheme, host and root path the request came in on, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def read_path(doc_id: str, start: int, end: int) -> str:
    """The read page of `doc_id` with `[start, end)` highlighted (path, query and fragment)."""
    return f"{api_path('read', doc_id)}?start={start}&end={end}#{READ_ANCHOR}"


def own_url(engine: Engine, doc_id: str) -> str | None:
    """The `url` the document came with, if any."""
    try:
        return engine.contents.document(doc_id).url or None
    except DocumentNotFoundError:  # deleted since it was retrieved: the read page says so
        return None


def cited_url(engine: Engine, base: str, doc_id: str, start: int, end: int) -> str:
    """The document's own `url` if it has one, else the absolute read page of the span."""
    return own_url(engine, doc_id) or base + read_path(doc_id, start, end)


def maybe_url(engine: Engine, base: str | None, doc_id: str, start: int, end: int) -> str | None:
    """`cited_url`; without a `base` (MCP over stdio: no server to link to), the document's
    own `url` or None."""
    if base is None:
        return own_url(engine, doc_id)
    return cited_url(engine, base, doc_id, start, end)


def outlets(engine: Engine, doc_id: str) -> list[OutletOut]:
    """The other outlets that ran the document (its aliases: reprints, `index.dedup`), whose
    links a citation shows beside its own."""
    return [OutletOut.model_validate(a) for a in engine.contents.aliases_of(doc_id)]


def link_passages(engine: Engine, base: str | None, passages: list[PassageOut]) -> None:
    """Set each passage's `url`, to the passage's span: the same link whether the passage
    comes from search, the stream's first event or the answer (the answer's own `url`
    marks the answer span); and its `aliases`, the other outlets that ran it."""
    for passage in passages:
        passage.url = maybe_url(engine, base, passage.doc_id, passage.char_start, passage.char_end)
        passage.aliases = outlets(engine, passage.doc_id)


def link_answer(engine: Engine, base: str | None, answer: AnswerOut | None) -> None:
    """Set the answer's `url` (to the answer span) and its `aliases`."""
    if answer is not None:
        answer.url = maybe_url(engine, base, answer.doc_id, answer.char_start, answer.char_end)
        answer.aliases = outlets(engine, answer.doc_id)
