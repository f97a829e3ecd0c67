"""The glossary: an optional user dictionary of English terms and their Chinese words.

It is not the mechanism that bridges English questions to Chinese text (the encoder's word
bridge, `index.rank.wordbridge`, is; and romanised names go through `index.rank.pinyin`): the
``RAGQA_GLOSSARY`` setting (`Settings.glossary`, read at the edge and passed down as
`glossary_of(value)`) names a tab-separated file of English terms and their Chinese words,
``off`` turns it off, and unset it is the small glossary of economic-news terms shipped beside
this module (`glossary_en_zh.tsv`, written for the seed articles: "GDP" → 地区生产总值,
"value added" → 增加值).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

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
