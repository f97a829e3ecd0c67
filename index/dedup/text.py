"""What two copies of one article have in common: its text without what outlets change.

Wire services' stories are reprinted with another headline, the outlet's own page furniture
and an editor's sign-off (``（责任编辑：王五）``, ``编辑：李四``, ``来源：新华社``); an upload of
the same story may come as GBK or UTF-8, as `.txt` or `.html`, under any file name. The
encodings and formats are undone by the readers (`corpus.formats`; the text reaching the store
is decoded and cleaned), so here only the words are compared: width-folded (NFKC), furniture
paragraphs and sign-off lines dropped (the rules of `corpus.furniture` plus the sign-offs
below), and every character that is not a letter or digit removed, so whitespace, line breaks
and punctuation style never tell two copies apart. The title is not part of it: a reprint often
gets a new headline; nor is a stand-alone date line (an outlet prints its own issue's date).

A copy never changes a figure. Reports written from one template (a daily price list, the
weather, "第8号风电场…" and "第108号风电场…") share most of their words and are still
different news, so `figures` gives the numbers of a text in order, and two texts are copies
only when the figures of one, in order, are figures of the other (an editor's cut may drop
some; a template's articles change some, or put the same ones elsewhere).
"""

from __future__ import annotations

import re
import unicodedata

from corpus.furniture import Kind, classify
from corpus.layout import Paragraph

_SIGN_OFF_WORDS = (
    r"责任编辑|责编|编辑|主编|校对|审核|审校|审签|监制|签发|统筹|终审|初审|复审|值班编辑"
    r"|来源|稿件来源|原标题|作者|文|图|供稿|转载自|本文来源"
)
_INLINE_SIGN_OFF = re.compile(rf"[（(【\[]\s*(?:{_SIGN_OFF_WORDS})\s*[：:｜|].{{0,60}}?[）)】\]]")
"""A sign-off in brackets, anywhere (usually closing the last paragraph): （责任编辑：王五）."""
_SIGN_OFF_LINE = re.compile(rf"^\s*[【\[]?\s*(?:{_SIGN_OFF_WORDS})\s*[：:｜|]")
"""A paragraph that is only a sign-off or credit line: 编辑：李四, 来源：新华社, 原标题：…"""
_SIGN_OFF_LINE_MAX_CHARS = 80
"""A longer paragraph that happens to start with 作者： or 文： is body text."""


def comparable_text(text: str) -> str:
    """The words of `text` as copies of one article share them (see the module docstring)."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    kept = [
        unicodedata.normalize("NFKC", tagged.text)  # after the rules: they match "：", not ":"
        for tagged in classify([Paragraph(p) for p in paragraphs])
        if not tagged.kind.dropped and tagged.kind is not Kind.DATE
    ]
    words = []
    for paragraph in kept:
        if len(paragraph) <= _SIGN_OFF_LINE_MAX_CHARS and _SIGN_OFF_LINE.match(paragraph):
            continue
        paragraph = _INLINE_SIGN_OFF.sub("", paragraph)
        words.append("".join(ch for ch in paragraph if ch.isalnum()).lower())
    return "".join(words)


_FIGURE = re.compile(r"\d+")


def figures(comparable: str) -> tuple[str, ...]:
    """The numbers of a comparable text in order (`comparable_text`; "6.25" reads as 625)."""
    return tuple(_FIGURE.findall(comparable))


def same_figures(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True when the figures of one text, in order, are figures of the other (one sequence
    is a subsequence of the other)."""
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    rest = iter(longer)
    return all(figure in rest for figure in shorter)
