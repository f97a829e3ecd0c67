"""From captured page text to paragraphs, keeping the blank-line gaps the layout left.

Seed captures come in two styles: newspaper-page captures with a blank line between
paragraphs (and wider gaps where a photo sat), and web captures with one paragraph per line,
sometimes indented. A line ending in two spaces is a Markdown hard break: the capture broke a
line inside a paragraph (``宇新材料公司  \\n总经理  \\n德高告诉记者``), so those lines are one
paragraph. Every other line starts a new paragraph; sentences broken across paragraphs are
re-joined later (`corpus.joining`), once captions and furniture are out of the way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from corpus.normalize import fold_characters, normalize_paragraph

HARD_BREAK = "  "


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of normalised text and the number of blank lines before it."""

    text: str
    gap_before: int = 0


def paragraphs(raw: str) -> list[Paragraph]:
    """Split `raw` into normalised paragraphs, joining Markdown hard-broken lines."""
    found: list[Paragraph] = []
    pending: list[str] = []
    gap = 0
    pending_gap = 0

    def flush() -> None:
        if pending:
            text = normalize_paragraph(_join_lines(pending))
            if text:
                found.append(Paragraph(text, pending_gap))
            pending.clear()

    for line in fold_characters(raw).split("\n"):
        if not line.strip():
            flush()
            gap += 1
            continue
        if not pending:
            pending_gap = gap
        pending.append(line)
        gap = 0
        if not line.endswith(HARD_BREAK):
            flush()
    flush()
    return found


def _join_lines(lines: list[str]) -> str:
    """Concatenate hard-broken lines; Chinese needs no space, Latin words do."""
    out = lines[0].strip()
    for line in lines[1:]:
        out = join_fragments(out, line.strip())
    return out


def join_fragments(left: str, right: str) -> str:
    """Join two pieces of one sentence: no space between Chinese, one between Latin words."""
    latin = left and right and all(c.isascii() and c.isalpha() for c in (left[-1], right[0]))
    return f"{left} {right}" if latin else left + right


def normal_gap(paras: list[Paragraph]) -> int:
    """The file's usual number of blank lines between paragraphs (the most common gap)."""
    gaps = Counter(p.gap_before for p in paras[1:])
    if not gaps:
        return 0
    return min(gap for gap, n in gaps.items() if n == max(gaps.values()))
