"""Where each character of a document's text sits on its page: glyphs, runs and alignment.

A PDF page is read into `Glyph`s (a character and its box in points, origin at the page's
top-left corner, y growing down, as in an image of the page). The page text built from them
is then cleaned like any captured page (`corpus.cleaning`), which drops furniture, folds
widths and re-joins lines, so the final text is not the glyph string. `align` finds, for every
character of the final text, the glyph it came from (a longest-common-subsequence match on
width-folded characters: cleaning only deletes, folds or inserts separators, it never
reorders), and `Layout` stores the result compactly as runs: consecutive characters of one
printed line, with the line's top and bottom and each character's left edge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from corpus.normalize import fold_characters

METADATA_KEY = "layout"
"""The document metadata key that holds a `Layout` as JSON (PDF documents). It can run to
hundreds of kilobytes and is never a filter: copies of metadata kept per passage (Milvus'
rows) leave it out."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a page, in points from the top-left corner."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Glyph:
    """One character read from a page and its box; `line` numbers the printed line."""

    char: str
    box: Box
    line: int = 0


@dataclass(frozen=True)
class PageText:
    """A page's text as read (before cleaning) and, per character, its glyph or None for a
    separator the reader inserted (paragraph breaks, a space joining two Latin words)."""

    page: int
    """1-based page number."""
    text: str
    glyphs: tuple[Glyph | None, ...]
    width: float = 0.0
    height: float = 0.0


_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}


def _key(ch: str) -> str:
    """A character as cleaning may have rewritten it (widths folded, punctuation widened)."""
    folded = fold_characters(ch) or " "
    return _PUNCT.get(folded, folded)


def align(raw: str, text: str) -> list[int | None]:
    """For each character of `text` (a cleaned version of `raw`), its index in `raw`, or None
    for a character cleaning inserted. Matching blocks of a longest-common-subsequence style
    match, so a character of dropped furniture never captures a body character's place."""
    a = "".join(_key(c) for c in raw)
    b = "".join(_key(c) for c in text)
    found: list[int | None] = [None] * len(text)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            if not text[block.b + k].isspace():
                found[block.b + k] = block.a + k
    return found


@dataclass(frozen=True)
class Run:
    """Characters ``[start, end)`` of a document's text printed on one line of `page`:
    char ``start + i`` spans ``edges[i]`` to ``edges[i + 1]`` horizontally, `top` to `bottom`."""

    start: int
    end: int
    page: int
    top: float
    bottom: float
    edges: tuple[float, ...]

    def boxes(self, start: int, end: int) -> list[Box]:
        """The boxes of the characters ``[start, end)`` of the text that lie in this run."""
        lo, hi = max(start, self.start), min(end, self.end)
        return [
            Box(self.edges[i - self.start], self.top, self.edges[i - self.start + 1], self.bottom)
            for i in range(lo, hi)
        ]


@dataclass(frozen=True)
class PageBoxes:
    """The part of a span printed on one page: its page number and character boxes."""

    page: int
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class Layout:
    """Where a document's characters are printed (characters without a box are separators)."""

    runs: tuple[Run, ...]
    pages: tuple[int, ...]
    """Pages the document is printed on, in order."""

    def locate(self, start: int, end: int) -> list[PageBoxes]:
        """The pages and character boxes of the text span ``[start, end)``."""
        found: dict[int, list[Box]] = {}
        for run in self.runs:
            if run.start < end and start < run.end:
                found.setdefault(run.page, []).extend(run.boxes(start, end))
        return [PageBoxes(page, tuple(boxes)) for page, boxes in found.items()]

    def page_of(self, start: int, end: int) -> int | None:
        """The page where the span ``[start, end)`` starts (None: no printed character)."""
        located = self.locate(start, end)
        return located[0].page if located else None

    def to_json(self) -> str:
        """Compact JSON: ``{"v": 1, "pages": [...], "runs": [[start, end, page, top, bottom,
        x0, x1, ..., xn], ...]}``, coordinates in points rounded to 0.1."""
        runs = [
            [r.start, r.end, r.page, _r(r.top), _r(r.bottom), *(_r(x) for x in r.edges)]
            for r in self.runs
        ]
        return json.dumps({"v": 1, "pages": list(self.pages), "runs": runs}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Layout:
        data = json.loads(raw)
        runs = tuple(
            Run(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], tuple(r[5:])) for r in data["runs"]
        )
        return cls(runs, tuple(data["pages"]))


def _r(value: float) -> float:
    return round(value, 1)


def layout_of(text: str, source: Sequence[PageText]) -> Layout:
    """The layout of `text`, cleaned from the concatenated texts of `source` pages."""
    raw = "".join(p.text for p in source)
    where: list[tuple[int, Glyph | None]] = [(p.page, g) for p in source for g in p.glyphs]
    runs: list[Run] = []
    current: list[tuple[int, int, Glyph]] = []

    def flush() -> None:
        if current:
            first_page = current[0][1]
            glyphs = [g for _, _, g in current]
            edges = [g.box.x0 for g in glyphs] + [glyphs[-1].box.x1]
            runs.append(
                Run(
                    current[0][0],
                    current[-1][0] + 1,
                    first_page,
                    min(g.box.top for g in glyphs),
                    max(g.box.bottom for g in glyphs),
                    tuple(edges),
                )
            )
            current.clear()

    for i, j in enumerate(align(raw, text)):
        page, glyph = where[j] if j is not None else (0, None)
        if glyph is None:
            flush()
            continue
        if current:
            last_i, last_page, last = current[-1]
            if last_i != i - 1 or last_page != page or last.line != glyph.line:
                flush()
        current.append((i, page, glyph))
    flush()
    pages = tuple(dict.fromkeys(r.page for r in runs))
    return Layout(tuple(runs), pages)
