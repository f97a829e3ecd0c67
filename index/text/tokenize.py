"""Word tokens for BM25 and keyword features: jieba for Chinese, lower-cased words for Latin.

`jieba.cut_for_search` emits a long word and its parts ("白银炉" → "白银", "银炉", "白银炉"),
which lets a question phrased with a shorter or longer form of a name still match.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"[\w%.]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")

STOPWORDS: frozenset[str] = frozenset(
    """的 了 是 在 和 与 及 或 也 都 而 并 等 把 被 从 对 为 以 于 上 中 下 个 这 那 其 之 有
    多少 几 什么 哪 哪些 哪个 怎么 怎样 如何 是否 吗 呢 呀 多 大 到 达 达到 年 月 日 今年 去年
    请问 一下 关于 约 每 之间 the a an of in on at to for by is are was were be been what which
    how many much who whom whose when where why did does do has have had it its this that with
    from as and or than into per each""".split()
)


@lru_cache(maxsize=1)
def _init() -> None:
    jieba.initialize()


def normalize(text: str) -> str:
    """NFKC and lower case: full-width digits/letters fold to ASCII, case is ignored."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """BM25 tokens of `text`: jieba search-mode words, numbers kept whole, punctuation dropped."""
    _init()
    tokens: list[str] = []
    for word in jieba.cut_for_search(normalize(text)):
        word = word.strip().strip(".")
        if not word or not _WORD.fullmatch(word):
            continue
        if not keep_stopwords and word in STOPWORDS:
            continue
        tokens.append(word)
    return tokens


def numbers(text: str) -> set[str]:
    """Numbers in `text` as written ("2025", "4.8%", "10.1%"), after NFKC."""
    return set(_NUMBER.findall(normalize(text)))


def has_cjk(text: str) -> bool:
    """True when `text` contains Chinese characters (BM25 can only help such questions)."""
    return bool(_CJK.search(text))
