"""News metadata read from what a page prints: byline and reporters, newspaper, page, place.

The page furniture that `corpus.furniture` keeps out of the text is where most of it lives:

* a byline block (``新甘肃·甘肃日报记者`` / ``马效军 谢晓玲 范海瑞``), a byline line
  (``新甘肃·甘肃日报记者 刘健``, ``记者 张三 李四``), the lone name signing a sidebar
  (``陈发明``) and the reporter credit of a dateline (``本报讯（记者 王五）``) give the byline,
  its reporters and, from the outlet, the newspaper (``甘肃日报``);
* the dateline gives the place: ``新华社兰州11月20日电`` and ``本报华池8月27日讯`` → 兰州, 华池;
* the e-paper's furniture gives the page (``版次：07``, ``第07版``), and a masthead line
  (``甘肃日报 2025年1月22日 星期三 第07版``) or a web page's source line
  (``2025-01-22 10:30 来源：甘肃日报``) gives the paper, the date and the page of every
  article on it.

The fields are stored in the document's metadata under `KEYS` (strings, as all metadata:
reporters joined by ``、``), where the shared filters (`service.scope`) match them. Nothing
is guessed: a field the page does not print stays absent (a dateline's ``8月27日`` has no
year, so it dates nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

BYLINE = "byline"
REPORTERS = "reporters"
NEWSPAPER = "newspaper"
PAPER_PAGE = "paper_page"
PLACE = "place"
KEYS = (BYLINE, REPORTERS, NEWSPAPER, PAPER_PAGE, PLACE)
"""The metadata keys of the news fields (``paper_page``: a PDF's own ``page`` is its page in
the file, not the newspaper's 版次)."""
REPORTER_SEPARATOR = "、"

_CJK = "\u4e00-\u9fff"
_ROLE = r"(?:特约记者|见习记者|首席记者|记者|通讯员)"
_LABEL = re.compile(rf"([{_CJK}·]{{0,14}}?){_ROLE}")
_NAME = re.compile(rf"[{_CJK}·]{{1,5}}")
_DATE = r"(\d{4})(?:年(\d{1,2})月(\d{1,2})日|[-/.](\d{1,2})[-/.](\d{1,2}))"
_MASTHEAD = re.compile(
    rf"^(?:([{_CJK}]{{2,10}}报)\s*)?{_DATE}\s*(?:(?:星期|周)[一二三四五六日天])?\s*"
    rf"(?:第\s*(\d{{1,3}})\s*版(?:[：:\s]*[{_CJK}]{{0,8}})?)?$"
)
_PAGE_LINE = re.compile(
    rf"^(?:版次：\s*(\d{{1,3}})|第\s*(\d{{1,3}})\s*版(?:[：\s]*[{_CJK}]{{0,8}})?)$"
)
_SOURCE_FIELD = re.compile(r"(来源|稿源|作者|发布时间|发布日期|时间|日期)：\s*")
_SOURCE_LINE = re.compile(
    rf"^(?:{_DATE}(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?\s*)?"
    r"(?:(?:来源|稿源|作者|发布时间|发布日期|时间|日期)：\s*[^：]{0,40}?\s*){1,4}$"
)
_DATELINE = re.compile(
    rf"^(本报|新华社|中新社|中新网|人民网|央视网)([{_CJK}]{{0,8}}?)"
    rf"(?:\d{{1,2}}月\d{{1,2}}日)?(?:讯|电)(?:（([^（）]{{0,40}})）)?"
)


@dataclass(frozen=True)
class NewsMeta:
    """What an article's page says about it besides its text, headline and date."""

    byline: str | None = None
    """As printed, one credit group per outlet: ``新甘肃·甘肃日报记者 刘健``."""
    reporters: tuple[str, ...] = ()
    newspaper: str | None = None
    paper_page: str | None = None
    """The newspaper's page (版次) without leading zeros: ``版次：07`` → ``7``."""
    place: str | None = None
    """The dateline's place: ``新华社兰州11月20日电`` → ``兰州``."""

    def as_metadata(self) -> dict[str, str]:
        """The fields the page states, as document metadata (strings)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = REPORTER_SEPARATOR.join(value)
            if value:
                out[f.name] = value
        return out

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str]) -> NewsMeta:
        """The news fields of a document's metadata (absent keys: None)."""
        reporters = metadata.get(REPORTERS) or ""
        return cls(
            byline=metadata.get(BYLINE) or None,
            reporters=tuple(r for r in reporters.split(REPORTER_SEPARATOR) if r),
            newspaper=metadata.get(NEWSPAPER) or None,
            paper_page=metadata.get(PAPER_PAGE) or None,
            place=metadata.get(PLACE) or None,
        )

    def or_else(self, other: NewsMeta) -> NewsMeta:
        """These fields, each missing one taken from `other` (the page's, for an article)."""
        return NewsMeta(
            byline=self.byline or other.byline,
            reporters=self.reporters or other.reporters,
            newspaper=self.newspaper or other.newspaper,
            paper_page=self.paper_page or other.paper_page,
            place=self.place or other.place,
        )


@dataclass(frozen=True)
class PageFacts:
    """What a page's furniture states for every article on it."""

    published: str | None = None
    news: NewsMeta = NewsMeta()


def iso(year: str, month: str, day: str) -> str | None:
    """``YYYY-MM-DD``, or None for an impossible month or day."""
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def _date_of(match: re.Match[str], first: int) -> str | None:
    year, m1, d1, m2, d2 = match.groups()[first : first + 5]
    month, day = (m1, d1) if m1 is not None else (m2, d2)
    return iso(year, month, day)


def _page(digits: str | None) -> str | None:
    return str(int(digits)) if digits else None


def newspaper_of(outlet: str) -> str | None:
    """The newspaper an outlet names: ``新甘肃·甘肃日报`` → ``甘肃日报``; ``本报`` names none,
    and neither does a website or an app (``每日甘肃网``)."""
    name = outlet.split("·")[-1].strip()
    return name if len(name) >= 3 and name.endswith("报") else None


def _names(text: str) -> list[str]:
    """Names in a credit: split on spaces and 、，; a name spaced for alignment (``尹 黛``)
    is joined again (no Chinese name is one character)."""
    parts = [p for p in re.split(r"[\s、，,]+", text) if _NAME.fullmatch(p)]
    names: list[str] = []
    i = 0
    while i < len(parts):
        if len(parts[i]) == 1 and i + 1 < len(parts) and len(parts[i + 1]) == 1:
            names.append(parts[i] + parts[i + 1])
            i += 2
            continue
        names.append(parts[i])
        i += 1
    return names


def parse_byline(lines: Iterable[str]) -> NewsMeta:
    """A byline block or line: each ``outlet + 记者/通讯员`` label and the names after it.

    A block without a label (a sidebar's lone ``陈发明``) is just names."""
    text = " ".join(line.strip() for line in lines if line.strip())
    labels = list(_LABEL.finditer(text))
    if not labels:
        names = _names(text)
        return NewsMeta(byline=" ".join(names) or None, reporters=tuple(names))
    groups: list[str] = []
    reporters: list[str] = []
    newspaper: str | None = None
    for i, label in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        names = _names(text[label.end() : end])
        if not names:
            continue
        groups.append(f"{label.group(0).strip()} {' '.join(names)}")
        reporters += [n for n in names if n not in reporters]
        newspaper = newspaper or newspaper_of(label.group(1))
    return NewsMeta(
        byline="；".join(groups) or None, reporters=tuple(reporters), newspaper=newspaper
    )


def parse_dateline(text: str) -> NewsMeta:
    """The place and reporter credit of a dateline: ``本报张掖讯（新甘肃·甘肃日报记者侯洪建）``."""
    m = _DATELINE.match(text)
    if m is None:
        return NewsMeta()
    credit = parse_byline([m.group(3)]) if m.group(3) else NewsMeta()
    if credit.byline is not None and not _LABEL.search(m.group(3) or ""):
        credit = NewsMeta()  # （图文）, （综合）: not a credit
    return NewsMeta(place=m.group(2) or None).or_else(credit)


def masthead(text: str) -> PageFacts | None:
    """A masthead or date header naming the paper or the page beside the date
    (``甘肃日报 2025年1月22日 星期三 第07版``); a bare date line is `corpus.furniture`'s."""
    m = _MASTHEAD.match(text)
    if m is None or (m.group(1) is None and m.group(7) is None):
        return None
    news = NewsMeta(newspaper=m.group(1), paper_page=_page(m.group(7)))
    return PageFacts(_date_of(m, 1), news)


def page_line(text: str) -> str | None:
    """The page of an e-paper page line (``版次：07``, ``第07版：要闻``), else None."""
    m = _PAGE_LINE.match(text)
    return _page(m.group(1) or m.group(2)) if m else None


def source_line(text: str) -> PageFacts | None:
    """A web page's source line: ``2025-01-22 10:30 来源：甘肃日报 作者：张三``."""
    if _SOURCE_LINE.match(text) is None or not _SOURCE_FIELD.search(text):
        return None
    values: dict[str, str] = {}
    parts = _SOURCE_FIELD.split(text)
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        values[key] = value.strip()
    published = None
    dated = re.search(_DATE, text)
    if dated is not None:
        published = iso(dated.group(1), *(g for g in dated.groups()[1:] if g is not None))
    author = values.get("作者")
    news = parse_byline([author]) if author else NewsMeta()
    source = values.get("来源") or values.get("稿源") or ""
    return PageFacts(published, news.or_else(NewsMeta(newspaper=newspaper_of(source))))


def page_facts(lines: Iterable[str]) -> PageFacts:
    """The page-wide facts among `lines` (the page's furniture), the first of each kind."""
    published: str | None = None
    news = NewsMeta()
    for line in lines:
        page = page_line(line)
        found = PageFacts(news=NewsMeta(paper_page=page)) if page else None
        found = found or masthead(line) or source_line(line)
        if found is not None:
            published = published or found.published
            news = news.or_else(found.news)
    return PageFacts(published, news)
