"""A page's glyphs in reading order: lines, columns and paragraphs, as a captured page's text.

E-paper pages print articles in columns under headlines that span them. Glyphs are grouped
into printed lines (same baseline band, no wide gap), then the page is cut recursively where
whitespace crosses it from edge to edge (a recursive X-Y cut): a vertical gutter first, so
columns read left to right, else a horizontal gap wider than the line spacing, so bands read
top to bottom. Within a block, a line starts a new paragraph when it is indented (Chinese
paragraphs start two characters in), when the line before it ended a sentence short of the
column's right edge, or after a gap wider than the line spacing. The result is text the
cleaning pipeline reads like a captured page: one paragraph per line, blank lines between,
with every character's glyph kept beside it (`PageText`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from statistics import median

from corpus.charboxes import Box, Glyph, PageText
from corpus.layout import join_fragments

WORD_GAP = 0.8
"""A horizontal gap wider than this many line heights splits a row of glyphs into two lines
(the gutter between two columns printed on the same baseline; a word space is ~0.3)."""
GUTTER = 0.8
"""A vertical cut needs a clear strip at least this many line heights wide."""
BAND_GAP = 0.5
"""A horizontal cut needs a clear strip at least this many line heights high (between the
loose boxes of a paragraph's lines there is little or no space)."""
INDENT = 1.5
"""A line starting this many character widths (the block's median glyph width: one em for
Chinese) right of its block's left edge is indented."""
SHORT_LINE = 1.5
"""A line ending this many character widths left of its block's right edge is short."""
_ENDS_SENTENCE = "。！？：…”』」）"


@dataclass(frozen=True)
class Line:
    """One printed line: its glyphs left to right and their bounding box."""

    glyphs: tuple[Glyph, ...]
    box: Box

    @property
    def text(self) -> str:
        return "".join(g.char for g in self.glyphs)


def _bounds(glyphs: Sequence[Glyph]) -> Box:
    return Box(
        min(g.box.x0 for g in glyphs),
        min(g.box.top for g in glyphs),
        max(g.box.x1 for g in glyphs),
        max(g.box.bottom for g in glyphs),
    )


def group_lines(glyphs: Sequence[Glyph]) -> list[Line]:
    """Glyphs into printed lines by position alone (content-stream order is not reading
    order): rows of glyphs whose vertical centres fall in one band, each row cut where a
    gap wider than `WORD_GAP` line heights (a column gutter) separates its glyphs."""
    placed = [g for g in glyphs if g.char not in "\r\n" and g.box.height > 0]
    placed.sort(key=lambda g: (g.box.top + g.box.bottom) / 2)
    rows: list[list[Glyph]] = []
    for glyph in placed:
        centre = (glyph.box.top + glyph.box.bottom) / 2
        if rows and rows[-1][0].box.top <= centre <= rows[-1][0].box.bottom:
            rows[-1].append(glyph)
        else:
            rows.append([glyph])
    found: list[Line] = []
    for row in rows:
        row.sort(key=lambda g: g.box.x0)
        height = median(g.box.height for g in row)
        segment: list[Glyph] = []
        for glyph in row:
            if segment and glyph.box.x0 - max(g.box.x1 for g in segment) > WORD_GAP * height:
                found += _line(segment)
                segment = []
            segment.append(glyph)
        found += _line(segment)
    return found


def _line(members: list[Glyph]) -> list[Line]:
    while members and members[-1].char.isspace():
        members = members[:-1]
    while members and members[0].char.isspace():
        members = members[1:]
    return [Line(tuple(members), _bounds(members))] if members else []


def reading_order(lines: Sequence[Line]) -> list[list[Line]]:
    """The page's blocks in reading order, each block's lines top to bottom (X-Y cut)."""
    if not lines:
        return []
    unit = median(line.box.height for line in lines)
    blocks: list[list[Line]] = []
    _cut(list(lines), unit, blocks)
    return blocks


def _cut(lines: list[Line], unit: float, out: list[list[Line]]) -> None:
    for axis, gap in (("x", GUTTER), ("y", BAND_GAP)):
        parts = _split(lines, axis, gap * unit)
        if len(parts) > 1:
            for part in parts:
                _cut(part, unit, out)
            return
    out.append(sorted(lines, key=lambda line: (line.box.top, line.box.x0)))


def _split(lines: list[Line], axis: str, min_gap: float) -> list[list[Line]]:
    """`lines` cut at every clear strip of at least `min_gap` across the whole group."""

    def span(line: Line) -> tuple[float, float]:
        b = line.box
        return (b.x0, b.x1) if axis == "x" else (b.top, b.bottom)

    ordered = sorted(lines, key=span)
    parts: list[list[Line]] = [[ordered[0]]]
    reach = span(ordered[0])[1]
    for line in ordered[1:]:
        lo, hi = span(line)
        if lo - reach >= min_gap:
            parts.append([])
        parts[-1].append(line)
        reach = max(reach, hi)
    return parts


def paragraphs(block: Sequence[Line]) -> list[list[Line]]:
    """A block's lines grouped into paragraphs (indent, a short finished line, a wide gap)."""
    if not block:
        return []
    left = min(line.box.x0 for line in block)
    right = max(line.box.x1 for line in block)
    em = median(g.box.x1 - g.box.x0 for line in block for g in line.glyphs)
    found: list[list[Line]] = [[block[0]]]
    for prev, line in pairwise(block):
        indented = line.box.x0 - left >= INDENT * em
        short_end = (
            right - prev.box.x1 >= SHORT_LINE * em and prev.text.rstrip()[-1:] in _ENDS_SENTENCE
        )
        gap = line.box.top - prev.box.bottom >= BAND_GAP * max(line.box.height, 1e-6)
        if indented or short_end or gap:
            found.append([])
        found[-1].append(line)
    return found


def page_text(page: int, glyphs: Sequence[Glyph], width: float, height: float) -> PageText:
    """The page's text in reading order, one paragraph per line with blank lines between,
    each character beside its glyph (None for separators)."""
    numbered = _number_lines(group_lines(glyphs))
    text: list[str] = []
    kept: list[Glyph | None] = []
    for block in reading_order(numbered):
        for para in paragraphs(block):
            if text:
                text.append("\n\n")
                kept += [None, None]
            previous = ""
            for line in para:
                joined = join_fragments(previous, line.text) if previous else line.text
                if previous and len(joined) > len(previous) + len(line.text):
                    text.append(" ")
                    kept.append(None)
                text.append(line.text)
                kept += list(line.glyphs)
                previous = line.text
    return PageText(page, "".join(text), tuple(kept), width, height)


def _number_lines(lines: list[Line]) -> list[Line]:
    return [
        Line(tuple(replace(g, line=n) for g in line.glyphs), line.box)
        for n, line in enumerate(lines)
    ]
