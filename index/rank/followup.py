"""Follow-up questions rewritten into standalone ones, by rules (there is no language model).

In a chat, "那么金昌呢？" after "白银炉能耗降低了多少" means "金昌能耗降低了多少". Retrieving with
the two turns put together finds the Baiyin passage again, so the follow-up is rewritten first:
the new piece takes the old one's place in the previous question. `standalone` does this
deterministically, with jieba's part-of-speech tags and a few patterns, in Chinese and English:

- entity: a name ("金昌", "金川集团", "Jinchang") replaces the previous question's name of the
  same kind (organisation: ends in 集团/公司/Group..., else a place or other name), a one-
  character suffix attached to the old name included ("白银炉" → "金昌"); added in front when
  the previous question has none;
- time: "去年", "2024年", "上半年", "last year", "in 2024" replace the previous question's time
  phrase (a part of a year keeps the previous year: "2025年上半年" + "一季度" → "2025年一季度"),
  or are added after its leading name or in front (Chinese), at the end (English), when it
  has none;
- pronoun: 它/它们/其/该公司/这家企业, "it", "its", "they" become the previous question's first
  name ("它的产能呢" → "酒钢集团的产能是多少"), and a question form is added when missing;
- aspect: a common noun ("那产值呢") asks the same about the previous question's first name
  ("金昌的产值是多少"); a name with its noun ("那么金昌的能耗呢") is an entity swap when the
  previous question asks about that noun, else the noun asked of the name;
- context: any other short follow-up ("那呢", a name jieba does not tag) is read after the
  previous question, as before.

A question that reads as complete (it has a question word and no pronoun) is returned as asked.
Earlier follow-ups are rewritten in turn, so a third turn reads the second one's rewrite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba
import jieba.posseg

jieba.setLogLevel(logging.WARNING)

MAX_CONTEXT = 5
"""Earlier questions read at most (the last ones); older turns rarely matter to a follow-up."""
SHORT_FOLLOW_UP = 6
"""A question of at most this many letters/digits/CJK characters is a follow-up (context)."""
COMMON_WORD = 50
"""jieba dictionary frequency from which a noun is a common word (an aspect), not a name."""

NAME_TAGS = frozenset({"nr", "ns", "nt", "nz", "nrt", "nrfg", "j"})
NOUN_TAGS = frozenset({"n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "j", "vn", "b", "eng", "ng"})
ASPECT_TAGS = frozenset({"n", "vn", "v", "an", "b", "ng"})
ORG_WORDS = (
    "股份有限公司",
    "有限公司",
    "集团",
    "公司",
    "企业",
    "银行",
    "大学",
    "学院",
    "研究院",
    "研究所",
    "医院",
    "分厂",
    "工厂",
)
SUFFIX_CHARS = frozenset("炉市省县区镇乡村州厂矿港站")
"""One-character suffixes glued to a name ("白银炉", "金昌市"): replaced with the name."""

_ZH_HEAD = re.compile(r"^[\s\W_]*(?:那么|那|还有|另外|而|然后|再问一下|再问|请问)?[\s,，、]*")
_ZH_TAIL = re.compile(r"(?:的?情况)?(?:又?(?:怎么样|怎样|如何)|呢|吗|啊|呀|哦|嘛|的)*[\s\W_]*$")
_ZH_QUESTION = re.compile(
    r"多少|几|什么|哪|谁|怎么|怎样|如何|为何|为什么|是否|吗|多大|多高|多久|多长"
)
_ZH_PRONOUN = re.compile(
    r"(?:该|这家|这座|这个|此)(?:公司|集团|企业|城市|市|省|县|区|厂|炉|项目)|它们|它|他们|其(?![他中余次实])"
)
_ZH_TIME = re.compile(
    r"(?P<moment>(?:今年|\d{4}年)以来|现在|目前|当前|如今|眼下|近年来?|近几年|近两年|此前|当时"
    r"|“?十[一二三四五六]五”?(?:期间|时期)?)"
    r"|(?P<year>\d{4}年度?|今年|去年|前年|明年|本年度?|同年|当年)"
    r"|(?P<part>[上下]半年|第?[一二三四1-4]季度|前?[一二三四五六七八九十\d]{1,3}个?月份?|年初|年底|年末|年中)"
)
_EN_HEAD = re.compile(
    r"^[\s\W_]*(?:(?:and|but|so|ok|okay|now|then)\b[\s,]*)?"
    r"(?:(?:what|how)\s+about\b|what\s+of\b|and\b)?[\s,]*",
    re.IGNORECASE,
)
_EN_TAIL = re.compile(r"(?:\s+(?:then|instead|too|as\s+well))?[\s\W_]*$", re.IGNORECASE)
_EN_QUESTION = re.compile(
    r"^(?:what|how|which|who|whom|whose|when|where|why|is|are|was|were|do|does|did|can|could|"
    r"will|would|has|have|had|tell|list|give|show)\b",
    re.IGNORECASE,
)
_EN_PRONOUN = re.compile(
    r"\b(?:(?P<owner>its|their)|it|they|them|(?:this|that|the\s+same)\s+"
    r"(?:company|city|group|furnace|plant|province|county|enterprise))\b",
    re.IGNORECASE,
)
_EN_TIME = re.compile(
    r"\b(?:(?:in|during|for)\s+)?(?:(?:this|last|next|the\s+previous|the\s+same)\s+year"
    r"|(?:19|20)\d{2}"
    r"|the\s+(?:first|second)\s+half(?:\s+of\s+(?:the\s+year|(?:19|20)\d{2}))?"
    r"|(?:the\s+)?(?:first|second|third|fourth)\s+quarter(?:\s+of\s+(?:19|20)\d{2})?"
    r"|q[1-4](?:\s+(?:19|20)\d{2})?|now|currently|today|these\s+days|at\s+present)\b",
    re.IGNORECASE,
)
_EN_WORD = re.compile(r"[A-Za-z][\w'’-]*|\S")
_EN_NOT_NAMES = frozenset(
    """how what which who whom whose when where why did does do is are was were in on at the a an
    and of for by to from with can could will would has have had i tell list give show please
    about than as""".split()
)
_EN_ORG_WORDS = frozenset(
    "group company co corporation corp inc ltd bank university plant factory smelter".split()
)
_EN_HEADS = frozenset(
    """furnace city province county district group company plant factory smelter mine park
    area zone""".split()
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Rewrite:
    """The question to retrieve with; `rewritten` says it differs from what was asked, and
    `kind` how ("entity", "time", "entity+time", "pronoun", "aspect", "context"; "" if not)."""

    question: str
    rewritten: bool
    kind: str


@dataclass(frozen=True)
class _Name:
    start: int
    end: int
    text: str
    org: bool


def standalone(previous_questions: Sequence[str], follow_up: str) -> Rewrite:
    """`follow_up` as a question that stands alone, read after `previous_questions` (oldest
    first; each earlier follow-up is rewritten against the ones before it)."""
    asked = follow_up.strip()
    context = ""
    for question in [q.strip() for q in previous_questions if q.strip()][-MAX_CONTEXT:]:
        context = _rewrite(context, question).question if context else question
    if not context or not asked:
        return Rewrite(asked, False, "")
    return _rewrite(context, asked)


def _rewrite(previous: str, asked: str) -> Rewrite:
    zh = bool(_CJK.search(asked))
    pronoun = _zh_pronoun(asked) if zh else _en_pronoun(asked)
    if pronoun is not None:
        names = _names(previous)
        if not names:
            return _context(previous, asked)
        return _done(asked, _with_pronoun(asked, pronoun, names[0].text, previous, zh), "pronoun")
    head = (_ZH_HEAD if zh else _EN_HEAD).match(asked)
    focus = asked[head.end() if head else 0 :]
    focus = focus[: (_ZH_TAIL if zh else _EN_TAIL).search(focus).start()]  # type: ignore[union-attr]
    if not focus or (_ZH_QUESTION.search(focus) if zh else _EN_QUESTION.match(focus)):
        return Rewrite(asked, False, "")
    times = list((_ZH_TIME if zh else _EN_TIME).finditer(focus))
    rest = focus
    for match in reversed(times):
        rest = rest[: match.start()] + " " + rest[match.end() :]
    rest = rest.strip(" 的,，、")
    question = previous
    if times:
        question = _with_time(question, [m for m in times], zh)
    if not rest:
        return _done(asked, question, "time")
    name = _whole_name(rest)
    if name is not None:
        return _done(asked, _with_name(question, name), "entity+time" if times else "entity")
    aspect = _aspect(rest, previous) if zh and not times else None
    if aspect is not None:
        return _done(asked, aspect, "aspect")
    owned = _owned_aspect(rest, question) if zh else None
    if owned is not None:
        return _done(asked, owned, "entity+time" if times else "entity")
    short = sum(c.isalnum() for c in asked) <= SHORT_FOLLOW_UP
    if (
        short
        or (head is not None and head.group().strip())
        or asked.rstrip("？?。 ").endswith("呢")
    ):
        return _context(previous, asked)
    return Rewrite(asked, False, "")


def _done(asked: str, question: str, kind: str) -> Rewrite:
    return Rewrite(question, True, kind) if question != asked else Rewrite(asked, False, "")


def _context(previous: str, asked: str) -> Rewrite:
    return Rewrite(f"{previous} {asked}", True, "context")


def warm() -> None:
    """Load jieba's part-of-speech model now (seconds on a busy core), so that the first
    follow-up question does not wait for it; the service runs this once after start-up."""
    jieba.posseg.lcut("白银炉能耗降低了多少")


@lru_cache(maxsize=256)
def _tags(text: str) -> tuple[tuple[str, str, int], ...]:
    """jieba's (word, tag, offset) for `text`."""
    found: list[tuple[str, str, int]] = []
    at = 0
    for pair in jieba.posseg.cut(text):
        start = text.find(pair.word, at)
        if start < 0:  # jieba changed the text; offsets are no longer trustworthy
            return ()
        found.append((pair.word, pair.flag, start))
        at = start + len(pair.word)
    return tuple(found)


def _names(text: str) -> list[_Name]:
    """The names in `text`, in order: Chinese by jieba's tags, English by capitals."""
    return _zh_names(text) if _CJK.search(text) else _en_names(text)


def _zh_names(text: str) -> list[_Name]:
    tags = _tags(text)
    names: list[_Name] = []
    i = 0
    while i < len(tags):
        word, flag, start = tags[i]
        org_end = None
        j = i
        while j < len(tags) and j < i + 8 and tags[j][1] in NOUN_TAGS:
            if tags[j][0].endswith(ORG_WORDS) and (j > i or len(tags[j][0]) > 2):
                org_end = j
            j += 1
        if org_end is not None and (flag in NAME_TAGS or org_end > i):
            end = tags[org_end][2] + len(tags[org_end][0])
            names.append(_Name(start, end, text[start:end], True))
            i = org_end + 1
            continue
        if flag in NAME_TAGS and len(word) >= 2:
            end = start + len(word)
            following = tags[i + 1] if i + 1 < len(tags) else None
            if following and following[0] in SUFFIX_CHARS:
                end += 1
                i += 1
            names.append(_Name(start, end, text[start:end], False))
        i += 1
    return names


def _en_names(text: str) -> list[_Name]:
    words = list(_EN_WORD.finditer(text))
    names: list[_Name] = []
    i = 0
    while i < len(words):
        word = words[i].group()
        if not (word[0].isupper() and word.lower() not in _EN_NOT_NAMES):
            i += 1
            continue
        j = i
        while j + 1 < len(words):
            nxt = words[j + 1].group()
            if nxt[0].isupper() and nxt.lower() not in _EN_NOT_NAMES:
                j += 1
            elif (
                nxt.lower() in {"of", "and", "&"}
                and j + 2 < len(words)
                and words[j + 2].group()[0].isupper()
            ):
                j += 2
            else:
                break
        start, end = words[i].start(), words[j].end()
        last = words[j].group()
        if last.endswith(("'s", "’s")):
            end -= 2
            last = last[:-2]
        org = last.lower().rstrip(".") in _EN_ORG_WORDS
        if (
            j + 1 < len(words)
            and words[j + 1].group().lower() in _EN_HEADS
            and end == words[j].end()
        ):
            org = org or words[j + 1].group().lower() in _EN_ORG_WORDS
            end = words[j + 1].end()
            j += 1
        if i > 0 and words[i - 1].group().lower() == "the":
            start = words[i - 1].start()
        names.append(_Name(start, end, text[start:end], org))
        i = j + 1
    return names


def _whole_name(rest: str) -> _Name | None:
    """`rest` as one name, when it is one (a bare name a follow-up brings in)."""
    names = _names(rest)
    if len(names) == 1 and names[0].start == 0 and names[0].end == len(rest):
        return names[0]
    if len(names) == 1 and _CJK.search(rest) and rest.startswith(names[0].text):
        tail = rest[names[0].end :].lstrip("的")
        if not tail:
            return names[0]
    if not _CJK.search(rest) and rest[:1].isupper() and len(rest.split()) <= 4:
        return _Name(0, len(rest), rest, rest.split()[-1].lower() in _EN_ORG_WORDS)
    return None


def _with_name(question: str, name: _Name) -> str:
    """`question` with `name` in place of its name of the same kind (else its first name),
    or `name` in front when it has none."""
    names = _names(question)
    if not names:
        return f"{name.text}{'' if _CJK.search(question) else ' '}{question}"
    old = next((n for n in names if n.org == name.org), names[0])
    return question[: old.start] + name.text + question[old.end :]


def _with_time(question: str, times: list[re.Match[str]], zh: bool) -> str:
    """`question` with the follow-up's time phrase in place of its own (see the docstring)."""
    new = "".join(m.group() for m in times) if zh else " ".join(m.group() for m in times)
    found = list((_ZH_TIME if zh else _EN_TIME).finditer(question))
    if not found:
        if zh:
            names = _names(question)
            at = names[0].end if names and names[0].start == 0 else 0
            return question[:at] + new + question[at:]
        body = question.rstrip("?？.! ")
        return f"{body} {new}{question[len(body) :]}"
    span = [found[0]]
    for match in found[1:]:
        if question[span[-1].end() : match.start()].strip():
            break
        span.append(match)
    start, end = span[0].start(), span[-1].end()
    if zh and all(m.lastgroup == "part" for m in times):
        years = [m for m in span if m.lastgroup == "year"]
        if years:
            new = years[0].group() + new
    elif not zh and re.match(r"(?:19|20)\d{2}$", new) and re.match(r"in\s", span[0].group(), re.I):
        new = "in " + new
    return question[:start] + new + question[end:]


def _zh_pronoun(text: str) -> re.Match[str] | None:
    return _ZH_PRONOUN.search(text)


def _en_pronoun(text: str) -> re.Match[str] | None:
    return _EN_PRONOUN.search(text)


def _with_pronoun(asked: str, pronoun: re.Match[str], name: str, previous: str, zh: bool) -> str:
    """`asked` with the previous question's first name for its pronoun, as a question."""
    if zh:
        text = asked[: pronoun.start()] + name + asked[pronoun.end() :]
        if _ZH_QUESTION.search(text):
            return text
        body = _ZH_HEAD.sub("", text)
        body = body[: _ZH_TAIL.search(body).start()]  # type: ignore[union-attr]
        return body + _zh_ask(previous)
    owner = pronoun.group("owner") is not None
    text = asked[: pronoun.start()] + (f"{name}'s" if owner else name) + asked[pronoun.end() :]
    body = _EN_HEAD.sub("", text)
    if _EN_QUESTION.match(body):
        return text
    body = body[: _EN_TAIL.search(body).start()]  # type: ignore[union-attr]
    return f"What is {body}?" if owner else f"What about {body}?"


def _zh_ask(previous: str) -> str:
    """The question form to end a rewritten Chinese question with, after the previous one's."""
    for pattern, form in (
        ("谁", "是谁"),
        ("哪些", "有哪些"),
        ("哪里|哪儿|在哪", "在哪里"),
        ("什么时候|何时", "是什么时候"),
        ("什么", "是什么"),
        ("如何|怎么|怎样", "如何"),
    ):
        if re.search(pattern, previous):
            return form
    return "是多少"


def _aspect(rest: str, previous: str) -> str | None:
    """ "那产值呢": the same asked of the previous question's first name (None: not a common
    noun, or no name to ask about)."""
    tags = _tags(rest)
    common = tags and all(
        flag in ASPECT_TAGS and jieba.dt.FREQ.get(word, 0) >= COMMON_WORD for word, flag, _ in tags
    )
    names = _names(previous)
    if not common or not names:
        return None
    return f"{names[0].text}的{rest}{_zh_ask(previous)}"


def _owned_aspect(rest: str, previous: str) -> str | None:
    """ "那么金昌的能耗呢": the previous question about the new name when it already asks about
    that noun ("白银炉能耗降低了多少" → "金昌能耗降低了多少"), else the noun asked of the name
    ("金昌的产值是多少"); None when `rest` is not a name, 的 and common nouns."""
    names = _names(rest)
    if not names or names[0].start != 0 or rest[names[0].end : names[0].end + 1] != "的":
        return None
    noun = rest[names[0].end + 1 :]
    tags = _tags(noun)
    if not tags or not all(flag in ASPECT_TAGS for _, flag, _ in tags):
        return None
    if noun in previous:
        return _with_name(previous, names[0])
    return f"{names[0].text}的{noun}{_zh_ask(previous)}"
