"""Bridge English questions to Chinese text where the encoder alone is weak: names and terms.

A romanised name in an English question ("Jinchang", "Baiyin", "Lanzhou New Area") is the
pinyin of a Chinese word of the corpus (金昌, 白银, 兰州). Matching the question's capitalised
words against the pinyin of the BM25 vocabulary recovers those words, so BM25 and the keyword
features can help an English question too. Only capitalised words of four letters or more
are tried, and only multi-character Chinese words are targets, which keeps ordinary English
words ("long", "fan") from matching Chinese homophones.

A glossary is an optional user dictionary, not the mechanism (the encoder's word bridge,
`index.rank.wordbridge`, is): the ``RAGQA_GLOSSARY`` setting (`Settings.glossary`, read at the edge
and passed down as `glossary_of(value)`) names a tab-separated file of English terms and
their Chinese words, ``off`` turns it off, and unset it is the small glossary of economic-news
terms shipped beside this module (`glossary_en_zh.tsv`, written for the seed articles:
"GDP" → 地区生产总值, "value added" → 增加值).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pypinyin import lazy_pinyin

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")
_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")
GLOSSARY = Path(__file__).with_name("glossary_en_zh.tsv")
GLOSSARY_ENV = "RAGQA_GLOSSARY"

Glossary = tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
"""(pattern, Chinese words) pairs, longest English term first (`load_glossary`)."""


def glossary_setting(value: str | None) -> Path | None:
    """The glossary file a ``RAGQA_GLOSSARY`` value names: unset → the shipped one, ``off``
    (or empty) → none; a file that does not exist is a ValueError naming the variable."""
    if value is None:
        return GLOSSARY
    if value.strip().lower() in ("", "off", "none", "0", "false"):
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(
            f"{GLOSSARY_ENV}={value!r}: no such file (a TSV of term<TAB>words, or off)"
        )
    return path


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY) -> Glossary:
    """(pattern, Chinese words) pairs, longest English term first so it wins."""
    entries: list[tuple[str, tuple[str, ...]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, _, chinese = line.partition("\t")
        entries.append((english.strip().lower(), tuple(chinese.split())))
    entries.sort(key=lambda e: -len(e[0]))
    return tuple(
        (re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.IGNORECASE), words)
        for term, words in entries
    )


@lru_cache(maxsize=4)
def glossary_of(value: str | None) -> Glossary:
    """The glossary a ``RAGQA_GLOSSARY`` value names (None: the shipped one), resolved and read
    once per value (not a file check on every question)."""
    path = glossary_setting(value)
    return () if path is None else load_glossary(path)


def glossary_terms(question: str, glossary: Glossary | None = None) -> list[str]:
    """Chinese words for the terms of `glossary` (None: the shipped one; empty when it is off)
    in `question`; a matched span is used once."""
    found: list[str] = []
    taken: list[tuple[int, int]] = []
    for pattern, words in glossary_of(None) if glossary is None else glossary:
        for match in pattern.finditer(question):
            span = match.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            found += [w for w in words if w not in found]
    return found


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
