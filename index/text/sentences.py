"""Split text into sentence (and, for long sentences, clause) spans with exact offsets.

Answers are quoted sentences, so a span never crosses a paragraph break and keeps its closing
quotation marks: "…降至210公斤标煤以内。”" ends after the quote, not before it.
"""

from __future__ import annotations

import re

from index.types import Span

MAX_SPAN_CHARS = 200
"""Longest answer the API may return; longer sentences are cut at clause boundaries."""

_SENTENCE_END = re.compile(r"(?:[。！？；!?;]+|\.(?=\s))[”’」』）)\"']*|\n+")
_CLAUSE_END = re.compile(r"[，、：:,]")


_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")"}
_CLOSERS = {closer: opener for opener, closer in _PAIRS.items()}


def _trim(text: str, start: int, end: int) -> Span | None:
    """Strip whitespace, and a quotation mark whose partner lies outside the span.

    A quoted speech of several sentences is cut into sentences; the first keeps an opening
    “ whose ” is in a later sentence. Quoting “现在…以内。 with a dangling mark reads as a
    mistake, so the unmatched mark is left outside the span (offsets stay exact).
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start > 1 and text[start] in _PAIRS and _PAIRS[text[start]] not in text[start:end]:
        start += 1
    if (
        end - start > 1
        and text[end - 1] in _CLOSERS
        and _CLOSERS[text[end - 1]] not in text[start:end]
    ):
        end -= 1
    return Span(start, end) if end > start else None


def _cut_long(text: str, span: Span, max_chars: int) -> list[Span]:
    """Cut a span longer than `max_chars` at the last clause mark that keeps pieces short."""
    pieces: list[Span] = []
    start = span.char_start
    while span.char_end - start > max_chars:
        window = text[start : start + max_chars]
        cuts = [m.end() for m in _CLAUSE_END.finditer(window)]
        cut = start + (cuts[-1] if cuts and cuts[-1] > max_chars // 4 else max_chars)
        piece = _trim(text, start, cut)
        if piece:
            pieces.append(piece)
        start = cut
    last = _trim(text, start, span.char_end)
    if last:
        pieces.append(last)
    return pieces


def split_sentences(
    text: str, start: int = 0, end: int | None = None, *, max_chars: int = MAX_SPAN_CHARS
) -> list[Span]:
    """Sentence spans of `text[start:end]`, offsets relative to `text`, none over `max_chars`."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        span = _trim(text, pos, match.end())
        pos = match.end()
        if span:
            spans.extend(_cut_long(text, span, max_chars))
    tail = _trim(text, pos, end)
    if tail:
        spans.extend(_cut_long(text, tail, max_chars))
    return spans
