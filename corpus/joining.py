"""Re-join sentences that the page layout broke across paragraphs.

A paragraph that does not end a sentence (``…酒钢集团宏``) continues in the next paragraph
(``宇新材料公司总经理德高告诉记者，这`` -> ``一创新推动…``). Three things look like such a
break but are not, and the rules below keep them apart:

* section headings (``创新引领，重塑“龙头”竞争力``): short, unpunctuated, and they follow a
  finished paragraph. A short piece that follows a heading is instead the first line of a
  broken paragraph (``人居环境整治，难在长效，贵在持`` + ``续。``);
* a headline printed inside a sentence (004: ``…金昌`` / ``资源型城市转型的金昌实践样本`` /
  ``中国镍都“破茧成蝶”`` / ``正凭借…``): short lines without any sentence punctuation
  between the two halves. They are lifted out and become the article's title - but only when
  the article has no headline yet; otherwise they stay where they are;
* a speech attribution cut off by a column jump (000: ``…李凯说，`` followed by text from
  another column). Joining would put other words in the speaker's mouth, so a paragraph
  ending in ``说，`` / ``表示：`` stays a fragment rather than be guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.layout import join_fragments
from corpus.normalize import normalize_paragraph

HEADING_MAX_CHARS = 40
_FINAL = "。！？…"
_CLOSERS = "”’」』）》"
_ATTRIBUTION = re.compile(r"(说|表示|介绍|指出|强调|认为|坦言|告诉记者|称)[，：]$")
_SENTENCE_PUNCT = re.compile(r"[。！？；、]")


def is_terminated(text: str) -> bool:
    """True when the paragraph ends a sentence: 。！？… optionally inside closing quotes.

    A closing quote alone is not enough: ``较“十四五”`` closes a quoted term mid-sentence.
    """
    stripped = text.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _FINAL


def is_heading_like(text: str, max_chars: int = HEADING_MAX_CHARS) -> bool:
    """Short, unfinished, without sentence punctuation: a heading's shape.

    A heading may hold one comma between two parallel phrases led by a short set phrase
    (``创新引领，重塑“龙头”竞争力``); a longer or shorter lead before the comma is the start
    of a sentence (``目前，白银有色集团40万吨电``, ``在金川集团镍钴新材料公司，国内首套全自``).
    """
    if len(text) > max_chars or is_terminated(text) or _SENTENCE_PUNCT.search(text):
        return False
    if text.endswith(("，", "：")):
        return False
    lead, comma, _ = text.partition("，")
    return not comma or ("，" not in _ and 3 <= len(lead) <= 5)


def is_bare_heading(text: str) -> bool:
    """Heading-shaped and without even a comma: what a displaced headline looks like."""
    return is_heading_like(text) and "，" not in text


@dataclass(frozen=True)
class Rejoined:
    """Body paragraphs after re-joining, and a headline lifted out of a sentence, if any."""

    paragraphs: tuple[str, ...]
    displaced_headline: tuple[str, ...] = ()


def rejoin(paragraphs: list[str], *, has_headline: bool) -> Rejoined:
    """Join layout-broken sentences; see the module docstring for what is never joined."""
    out: list[str] = []
    headings: list[bool] = []
    displaced: list[str] = []
    i = 0
    while i < len(paragraphs):
        cur = paragraphs[i]
        i += 1
        heading = is_heading_like(cur) and not (headings and headings[-1])
        while not heading and not is_terminated(cur) and not _ATTRIBUTION.search(cur):
            j = i
            while j < len(paragraphs) and is_bare_heading(paragraphs[j]):
                j += 1
            lifted = paragraphs[i:j]
            if j >= len(paragraphs) or (lifted and (has_headline or displaced)):
                break
            cur = normalize_paragraph(join_fragments(cur, paragraphs[j]))
            displaced += lifted
            i = j + 1
        out.append(cur)
        headings.append(heading)
    return Rejoined(tuple(out), tuple(displaced))
