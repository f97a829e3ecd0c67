"""The width, punctuation and whitespace convention, on tiny inline strings."""

from __future__ import annotations

import pytest

from corpus.cleaning import clean_articles
from corpus.normalize import normalize_paragraph


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("２０２４年增长１５．２％", "2024年增长15.2%"),
        ("ＧＤＰ增速第一", "GDP增速第一"),
        ("产业根基,金昌锚定", "产业根基，金昌锚定"),
        ("底气何来?", "底气何来？"),
        ("政企同心:融合赋能", "政企同心：融合赋能"),
        ("字数:3,997", "字数：3,997"),
        ("上午10:30开会", "上午10:30开会"),
        ("(接1版)", "（接1版）"),
        ("（接1版）", "（接1版）"),
        ("600余台(套)、专家", "600余台（套）、专家"),
        ("CSP (compact strip production)", "CSP (compact strip production)"),
        ("遗体 and 人体器官", "遗体 and 人体器官"),
        ("  时间的刻度里\u3000潜藏着  力量。 ", "时间的刻度里 潜藏着 力量。"),
        ("依托厚底子 闯出新路子", "依托厚底子 闯出新路子"),
        ("零\u200b宽\ufeff字符", "零宽字符"),
    ],
)
def test_paragraph_follows_the_house_convention(raw: str, clean: str) -> None:
    assert normalize_paragraph(raw) == clean


@pytest.mark.parametrize("raw", ["产业根基,金昌(铜杆)项目?", "２０２４年 ，３,９９７字", "a , b"])
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_paragraph(raw)
    assert normalize_paragraph(once) == once


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "\n\n",
        "（接1版）",
        "(转4版)\n\n(接2版)",
        "调查手记",
        "2025年01月22日",
        "网站首页\n字数:12",
    ],
)
def test_pages_without_article_text_yield_no_article(raw: str) -> None:
    assert clean_articles(raw) == []


def test_dateline_alone_keeps_no_trailing_space() -> None:
    (article,) = clean_articles("本报兰州讯(新甘肃·甘肃日报记者王君洁)")
    assert article.text == "本报兰州讯"
