"""Character-level normalisation: one convention for widths, punctuation and whitespace.

The convention (every cleaned document follows it; offsets point into the result):

* Full-width digits, Latin letters and ``％`` become ASCII (``２０２４`` -> ``2024``,
  ``ＧＤＰ`` -> ``GDP``); ``．`` between digits becomes ``.``. Nothing else is width-folded,
  so no digit, unit or name changes value or spelling.
* Chinese text keeps full-width punctuation ``，。；：？！（）“”``. A half-width ``, ; : ? !``
  touching a CJK character or CJK punctuation becomes full-width; between two digits it
  stays ASCII (``3,997``, ``10:30``). A half-width ``( )`` pair becomes ``（ ）`` when its
  content or its outside neighbours are Chinese (``(接1版)`` -> ``（接1版）``), and stays
  ASCII around purely Latin text. ``.`` and ASCII quotes are never changed (decimals,
  abbreviations and numbered lists use them).
* Whitespace: ``\\r\\n``/``\\r`` -> ``\\n``; zero-width characters, the BOM and control
  characters are removed; full-width, no-break and other wide spaces become one ASCII space;
  runs of spaces collapse to one and paragraphs are stripped. A single space between Chinese
  phrases is kept: headlines use it as a separator (``依托厚底子 闯出新路子``).
"""

from __future__ import annotations

import re

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WIDE_SPACES = re.compile("[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN = re.compile(" {2,}")
_FULLWIDTH_ALNUM = {
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    **{chr(0xFF21 + i): chr(ord("A") + i) for i in range(26)},
    **{chr(0xFF41 + i): chr(ord("a") + i) for i in range(26)},
    "％": "%",
}
_FULLWIDTH_TABLE = str.maketrans(_FULLWIDTH_ALNUM)
_DECIMAL_POINT = re.compile(r"(?<=\d)．(?=\d)")
_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_HALF_PUNCT = re.compile(r"[,;:?!]")
_PAREN_PAIR = re.compile(r"\(([^()\n]*)\)")


def is_cjk(ch: str) -> bool:
    """True for a CJK ideograph (the characters Chinese words are made of)."""
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FFFF


def is_chinese_context(ch: str) -> bool:
    """True for an ideograph or CJK/full-width punctuation, including curly quotes."""
    code = ord(ch)
    return is_cjk(ch) or 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF60 or ch in "“”‘’…—·"


def fold_characters(raw: str) -> str:
    """Newlines, invisible characters and full-width alphanumerics, before any layout work.

    Leading and trailing spaces of lines are kept: the layout step reads indentation and
    Markdown hard breaks (two trailing spaces) from them.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _CONTROL.sub("", text)
    text = _WIDE_SPACES.sub(" ", text)
    text = text.translate(_FULLWIDTH_TABLE)
    return _DECIMAL_POINT.sub(".", text)


def normalize_paragraph(text: str) -> str:
    """One paragraph in the house convention (idempotent; see the module docstring)."""
    text = _SPACE_RUN.sub(" ", fold_characters(text).replace("\n", " ")).strip()
    text = _PAREN_PAIR.sub(_paren_pair, text)
    return _HALF_PUNCT.sub(lambda m: _punct(text, m.start()), text)


def _punct(text: str, i: int) -> str:
    ch = text[i]
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if ch in ",:" and before.isdigit() and after.isdigit():
        return ch  # thousands separator or clock time
    if (before and is_chinese_context(before)) or (after and is_chinese_context(after)):
        return _TO_FULL[ch]
    return ch


def _paren_pair(match: re.Match[str]) -> str:
    text = match.string
    start, end = match.span()
    outside = text[start - 1 : start] + text[end : end + 1]
    if any(is_chinese_context(c) for c in match.group(1) + outside):
        return f"（{match.group(1)}）"
    return match.group(0)
