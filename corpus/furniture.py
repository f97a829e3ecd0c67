"""Recognise page furniture: what a page prints around articles that is not article text.

Each paragraph gets a `Kind`. Dropped kinds (`Kind.dropped`) never reach a document:
site navigation and page metadata, photo captions and photographer credits, byline blocks,
copyright notices and "related news" lists, ellipsis separator lines. Marker kinds
(page jumps, sidebar labels, the dateline of a short news item, a stand-alone date) are not
text either, but tell the splitter where articles begin and end. What the dropped bylines,
page lines and mastheads say is read by `corpus.newsmeta` before they go.

Rules are patterns over whole paragraphs, so one rule serves every page of the same kind; the
tests show each on the seed file where it occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

from corpus.layout import Paragraph, normal_gap
from corpus.newsmeta import iso, masthead, page_line, source_line

CAPTION_MAX_CHARS = 40
"""Photo captions are one short line; body paragraphs are longer or carry several sentences."""


class Kind(Enum):
    """What a paragraph is."""

    BODY = "body"
    DATELINE = "dateline"  # body text that opens a news item: 本报张掖讯…
    DATE = "date"  # a stand-alone publication date line
    JUMP_IN = "jump_in"  # (接1版): the article continues from another page
    JUMP_OUT = "jump_out"  # (转4版): the article continues on another page
    SIDEBAR = "sidebar"  # 调查手记 / 记者手记: a signed sidebar starts
    FURNITURE = "furniture"
    CAPTION = "caption"
    CREDIT = "credit"
    BYLINE = "byline"

    @property
    def dropped(self) -> bool:
        """True for kinds whose text never reaches a document."""
        return self in _DROPPED


_DROPPED = {Kind.FURNITURE, Kind.CAPTION, Kind.CREDIT, Kind.BYLINE, Kind.JUMP_IN, Kind.JUMP_OUT}


@dataclass(frozen=True)
class Tagged:
    """A paragraph and what it is."""

    text: str
    kind: Kind
    gap_before: int = 0
    printed: str = ""
    """The paragraph as printed when `text` dropped part of it (a dateline's reporter
    credit, which `corpus.newsmeta` reads); else empty."""


_NAV = re.compile(
    r"^(网站首页|数字报首页|首页|通版阅读请点击：?|展开通版|收缩通版|上一版|下一版|上一期|下一期"
    r"|上一篇|下一篇|返回目录|返回首页|打印本页|关闭窗口|PDF版|本版导航|分享到：?.*"
    r"|字数：\s*[\d,]+|版次：\s*\w+|版名：.*|责任编辑：.*|责编：.*|编辑：.{0,12}|校对：.{0,12})$"
)
_ELLIPSIS_LINE = re.compile(r"^[.…。·•\-—_=~*]{3,}$")
_COPYRIGHT = re.compile(r"^(版权声明|免责声明|版权所有.*|Copyright.*|©.*)$", re.IGNORECASE)
_RELATED = re.compile(r"^(相关新闻|相关阅读|相关链接|相关报道|推荐阅读|热点推荐)$")
_NUMBERED_ITEM = re.compile(r"^\d{1,2}[.、．]")
_LIST_ITEM = re.compile(r"^[-•·*]\s|^\d{4}年\d{1,2}月\d{1,2}日\s*【")
_JUMP = re.compile(r"（\s*(上接|下转|接|转)第?\s*\d+\s*版\s*）")
_DATE_LINE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(?:星期|周)[一二三四五六日天])?$|^(\d{4})-(\d{2})-(\d{2})$"
)
_SIDEBAR = re.compile(
    r"^(调查手记|记者手记|采访手记|编辑手记|手记|短评|快评|述评|编后|编后语|记者观察|记者点评)$"
)
_DATELINE = re.compile(r"^(本报[^，。（]{0,12}讯|(新华社|中新社)[^，。（]{0,12}电)")
_DATELINE_CREDIT = re.compile(
    r"^(本报[^，。（]{0,12}讯|(?:新华社|中新社)[^，。（]{0,12}电)（[^（）]{0,30}）"
)
_NAME = r"[\u4e00-\u9fff]{1,4}"
_NAMES = rf"{_NAME}(?:\s{_NAME})*"
_OUTLET = r"[\u4e00-\u9fff·]{0,14}?"
_CREDIT = re.compile(rf"^{_OUTLET}(记者|通讯员|摄影)\s?{_NAMES}\s?摄?$")
_CREDIT_LABEL = re.compile(rf"^{_OUTLET}(记者|通讯员)$")
_NAMES_LINE = re.compile(rf"^{_NAMES}$")
_CAPTION_CREDIT = re.compile(rf"。\s?{_OUTLET}(记者|通讯员|摄影)\s?{_NAMES}\s?摄$")
_CAPTION_NAME = re.compile(r"。[\u4e00-\u9fff]{2,3}$")
_SENTENCE_END = re.compile(r"[。！？]")


def dateline_without_credit(text: str) -> str:
    """Drop the reporter credit after a dateline: 本报张掖讯（…记者侯洪建）8月 -> 本报张掖讯 8月."""
    return _DATELINE_CREDIT.sub(lambda m: m.group(1) + " ", text, count=1).strip()


def iso_date(text: str) -> str | None:
    """``2025-01-22`` for a paragraph that is only a date (2025年01月22日), else None."""
    m = _DATE_LINE.match(text)
    if not m:
        return None
    year, month, day = (g for g in m.groups() if g is not None)
    return iso(year, month, day)


def classify(paras: list[Paragraph]) -> list[Tagged]:
    """Tag every paragraph; captions need their neighbours, so this sees the whole file."""
    wide = normal_gap(paras) + 1
    tagged = _split_jump_markers([_tag_alone(p, wide) for p in paras])
    tagged = _tail_lists(tagged)
    tagged = _byline_names(tagged)
    tagged = _captions_before_credits(tagged)
    tagged = _bylines_among_credits(tagged)
    return _caption_strips(tagged, wide)


def _tag_alone(p: Paragraph, wide: int) -> Tagged:
    t = p.text
    if _is_furniture(t):
        kind = Kind.FURNITURE
    elif _SIDEBAR.match(t):
        kind = Kind.SIDEBAR
    elif iso_date(t):
        kind = Kind.DATE
    elif _CREDIT.match(t):
        kind = Kind.CREDIT
    elif _CREDIT_LABEL.match(t):
        kind = Kind.BYLINE
    elif _is_credited_caption(t, wide_gap_before=p.gap_before >= wide):
        kind = Kind.CAPTION
    elif _DATELINE.match(t):
        return Tagged(dateline_without_credit(t), Kind.DATELINE, p.gap_before, printed=t)
    else:
        kind = Kind.BODY
    return Tagged(t, kind, p.gap_before)


def _is_furniture(t: str) -> bool:
    """Navigation, separators, notices; page lines and mastheads (read by `corpus.newsmeta`)."""
    return bool(
        _NAV.match(t)
        or _ELLIPSIS_LINE.match(t)
        or _COPYRIGHT.match(t)
        or _RELATED.match(t)
        or page_line(t)
        or masthead(t)
        or source_line(t)
    )


def _is_credited_caption(text: str, wide_gap_before: bool) -> bool:
    """One caption sentence with its credit appended.

    ``…生产的铝材料。新甘肃·甘肃日报记者 刘健 摄``; or, after a photo's wide gap, just the
    photographer's name: ``凉州城区美景如画。金奉乾``.
    """
    m = _CAPTION_CREDIT.search(text)
    if m is None and wide_gap_before:
        m = _CAPTION_NAME.search(text)
    if m is None or len(text) > 2 * CAPTION_MAX_CHARS:
        return False
    return not _SENTENCE_END.search(text[: m.start()])


def _split_jump_markers(tagged: list[Tagged]) -> list[Tagged]:
    """(接1版)/(转4版) become marker paragraphs, also when printed inside a paragraph."""
    out: list[Tagged] = []
    for t in tagged:
        if t.kind is not Kind.BODY or not _JUMP.search(t.text):
            out.append(t)
            continue
        rest = t.text
        for m in list(_JUMP.finditer(t.text)):
            kind = Kind.JUMP_IN if m.group(1) in ("接", "上接") else Kind.JUMP_OUT
            before, rest = rest.split(m.group(0), 1)
            if before.strip():
                out.append(Tagged(before.strip(), Kind.BODY, t.gap_before))
            out.append(Tagged(m.group(0), kind, t.gap_before))
        if rest.strip():
            out.append(Tagged(rest.strip(), Kind.BODY, 0))
    return out


def _tail_lists(tagged: list[Tagged]) -> list[Tagged]:
    """The numbered clauses of a copyright notice and the items of a related-news list."""
    out: list[Tagged] = []
    in_list = False
    for t in tagged:
        if t.kind is Kind.FURNITURE and (_COPYRIGHT.match(t.text) or _RELATED.match(t.text)):
            in_list = True
        elif in_list and (_NUMBERED_ITEM.match(t.text) or _LIST_ITEM.match(t.text)):
            t = replace(t, kind=Kind.FURNITURE)
        else:
            in_list = False
        out.append(t)
    return out


def _byline_names(tagged: list[Tagged]) -> list[Tagged]:
    """Names printed under a byline label (新甘肃·甘肃日报记者 / 马效军 谢晓玲 范海瑞)."""
    out = list(tagged)
    for i in range(1, len(out)):
        after_label = out[i - 1].kind is Kind.BYLINE and out[i].kind is Kind.BODY
        if after_label and _NAMES_LINE.match(out[i].text) and len(out[i].text) <= 24:
            out[i] = replace(out[i], kind=Kind.BYLINE)
    return out


def _bylines_among_credits(tagged: list[Tagged]) -> list[Tagged]:
    """A credit without 摄 that credits no photo is the article's byline.

    ``新甘肃·甘肃日报记者 刘健`` under a caption that carries its own credit (``…铝材料。
    新甘肃·甘肃日报记者 刘健 摄``), or under a headline, signs the article; under a caption
    sentence that has no credit (``…丰收在望。`` / ``新甘肃·甘肃日报通讯员 后斌玉``) it is
    that photo's credit."""
    out = list(tagged)
    for i, t in enumerate(out):
        if t.kind is not Kind.CREDIT or t.text.endswith("摄"):
            continue
        prev = out[i - 1] if i > 0 else None
        uncredited_photo = prev is not None and (
            (prev.kind is Kind.CAPTION and not _CAPTION_CREDIT.search(prev.text))
            or (prev.kind is Kind.BODY and _is_caption_sentence(prev.text))
        )
        if not uncredited_photo:
            out[i] = replace(t, kind=Kind.BYLINE)
    return out


def _is_caption_sentence(text: str) -> bool:
    """One short sentence ending in 。 (酒钢集团宏宇新材料公司…混合轧制生产线。)."""
    body = text[:-1]
    return len(text) <= CAPTION_MAX_CHARS and text.endswith("。") and not _SENTENCE_END.search(body)


def _captions_before_credits(tagged: list[Tagged]) -> list[Tagged]:
    """A photographer credit claims the caption sentences printed right above it."""
    out = list(tagged)
    for i, t in enumerate(out):
        if t.kind is not Kind.CREDIT:
            continue
        j = i - 1
        while (
            j >= 0 and i - j <= 3 and out[j].kind is Kind.BODY and _is_caption_sentence(out[j].text)
        ):
            out[j] = replace(out[j], kind=Kind.CAPTION)
            j -= 1
    return out


def _is_label(text: str) -> bool:
    """Short text without any sentence punctuation: a heading, a caption or a label."""
    return len(text) <= CAPTION_MAX_CHARS and not re.search(r"[，。；！？、]", text)


def _caption_strips(tagged: list[Tagged], wide: int) -> list[Tagged]:
    """Photo captions set apart by wide gaps, where no credit names them.

    * a strip of two or more label-like lines, each separated from the next by a gap wider
      than the file's usual paragraph gap (the photo gallery atop a web capture);
    * one short caption sentence after a wide gap, followed by a heading or another wide gap
      (a figure dropped between two sections).
    """
    out = list(tagged)
    i = 0
    while i < len(out):
        j = i
        while (
            j + 1 < len(out)
            and all(t.kind is Kind.BODY and _is_label(t.text) for t in (out[j], out[j + 1]))
            and out[j + 1].gap_before >= wide
        ):
            j += 1
        if j > i:
            for k in range(i, j + 1):
                out[k] = replace(out[k], kind=Kind.CAPTION)
        i = j + 1
    for i, t in enumerate(out):
        if t.kind is not Kind.BODY or t.gap_before < wide or not _is_caption_sentence(t.text):
            continue
        if "，" in t.text:
            continue
        nxt = out[i + 1] if i + 1 < len(out) else None
        if nxt is None or nxt.gap_before >= wide or (nxt.kind is Kind.BODY and _is_label(nxt.text)):
            out[i] = replace(t, kind=Kind.CAPTION)
    return out
