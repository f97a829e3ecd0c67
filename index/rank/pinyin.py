"""Romanised names in English questions, matched to the Chinese words of the corpus.

A romanised name in an English question ("Jinchang", "Baiyin", "Lanzhou New Area") is the
pinyin of a Chinese word of the corpus (金昌, 白银, 兰州). Matching the question's capitalised
words against the pinyin of the BM25 vocabulary recovers those words, so BM25 and the keyword
features can help an English question too. Only capitalised words of four letters or more
are tried, and only multi-character Chinese words are targets, which keeps ordinary English
words ("long", "fan") from matching Chinese homophones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pypinyin import lazy_pinyin

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")
_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")


def pinyin_table(vocabulary: Iterable[str]) -> dict[str, list[str]]:
    """Pinyin (toneless, joined, lower case) → the vocabulary words written that way.

    Computed at build time and stored in the index (it takes seconds on a large vocabulary).
    """
    table: dict[str, list[str]] = {}
    for word in sorted(vocabulary):
        if _CJK_WORD.fullmatch(word):
            table.setdefault("".join(lazy_pinyin(word)), []).append(word)
    return table


class PinyinBridge:
    """Finds the corpus words an English question names in pinyin."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self._words = table

    def __len__(self) -> int:
        return len(self._words)

    def expand(self, question: str) -> list[str]:
        """Chinese corpus words named in romanised form in `question` (may be empty)."""
        found: list[str] = []
        for run in _NAME_RUN.findall(question):
            parts = [p.lower() for p in re.split(r"[ -]", run)]
            candidates = ["".join(parts)] + [p for p in parts if len(p) >= 4]
            for key in candidates:
                for word in self._words.get(key, []):
                    if word not in found:
                        found.append(word)
        return found
