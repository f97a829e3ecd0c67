"""Follow-up questions rewritten into standalone ones (`index.rank.followup`), by kind."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.rank.followup import Rewrite, standalone

BAIYIN = "白银炉能耗降低了多少"
JISCO = "酒钢集团的产品种类扩展到了多少个"
JIAYUGUAN = "嘉峪关2025年一季度规模以上工业增加值增长多少"
BAIYIN_EN = "How much did the Baiyin furnace cut energy use?"
JIAYUGUAN_EN = "How much did Jiayuguan's industrial value added grow in the first quarter of 2025?"
JISCO_EN = "How many product types does Jiuquan Iron and Steel Group make?"
FOLLOW_UP_LETTERS = "那么呢它的其该公司金昌白银炉去年2024年 ?？WhatboutIsJ"


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        # entity: the new name takes the old one's place, its 1-character suffix included
        ([BAIYIN], "那么金昌呢？", Rewrite("金昌能耗降低了多少", True, "entity")),
        ([BAIYIN], "金昌呢", Rewrite("金昌能耗降低了多少", True, "entity")),
        ([JISCO], "那金川集团呢", Rewrite("金川集团的产品种类扩展到了多少个", True, "entity")),
        (
            ["白银市上半年地区生产总值增长多少"],
            "那么嘉峪关呢",
            Rewrite("嘉峪关上半年地区生产总值增长多少", True, "entity"),
        ),
        (["能耗降低了多少"], "那金昌呢", Rewrite("金昌能耗降低了多少", True, "entity")),
        ([BAIYIN], "金昌去年呢", Rewrite("金昌去年能耗降低了多少", True, "entity+time")),
        ([BAIYIN], "那么金昌的能耗呢", Rewrite("金昌能耗降低了多少", True, "entity")),
        ([BAIYIN], "那么金昌的产值呢", Rewrite("金昌的产值是多少", True, "entity")),
        # time: the new time phrase replaces the old one, or is added after the leading name
        ([JIAYUGUAN], "那去年呢", Rewrite("嘉峪关去年规模以上工业增加值增长多少", True, "time")),
        (
            [JIAYUGUAN],
            "那2024年呢？",
            Rewrite("嘉峪关2024年规模以上工业增加值增长多少", True, "time"),
        ),
        (
            ["金昌2025年上半年规上工业增加值增长多少"],
            "那一季度呢",
            Rewrite("金昌2025年一季度规上工业增加值增长多少", True, "time"),
        ),
        (
            ["今年无氧铜杆目标产量是多少"],
            "去年呢",
            Rewrite("去年无氧铜杆目标产量是多少", True, "time"),
        ),
        ([JISCO], "那现在呢？", Rewrite("酒钢集团现在的产品种类扩展到了多少个", True, "time")),
        # pronoun: the previous question's first name, and a question form when missing
        ([JISCO], "它的产能呢", Rewrite("酒钢集团的产能是多少", True, "pronoun")),
        ([JISCO], "它的高端品种占比呢？", Rewrite("酒钢集团的高端品种占比是多少", True, "pronoun")),
        ([JISCO], "该集团开发了多少新品种", Rewrite("酒钢集团开发了多少新品种", True, "pronoun")),
        ([BAIYIN], "它是哪一年开始研发的", Rewrite("白银炉是哪一年开始研发的", True, "pronoun")),
        # aspect: a common noun asked of the previous question's first name
        (["金昌规上工业增加值增长多少"], "那产值呢", Rewrite("金昌的产值是多少", True, "aspect")),
        # context: a short follow-up the rules cannot read is read after the previous question
        ([BAIYIN], "酒钢呢", Rewrite("白银炉能耗降低了多少 酒钢呢", True, "context")),
        # English
        (
            [BAIYIN_EN],
            "What about Jinchang?",
            Rewrite("How much did Jinchang cut energy use?", True, "entity"),
        ),
        (
            [BAIYIN_EN],
            "and the Jinchuan Group?",
            Rewrite("How much did the Jinchuan Group cut energy use?", True, "entity"),
        ),
        (
            [JIAYUGUAN_EN],
            "And last year?",
            Rewrite(
                "How much did Jiayuguan's industrial value added grow last year?", True, "time"
            ),
        ),
        (
            [JIAYUGUAN_EN],
            "What about 2024?",
            Rewrite("How much did Jiayuguan's industrial value added grow in 2024?", True, "time"),
        ),
        (
            ["How much did Jiayuguan grow in 2025?"],
            "And 2024?",
            Rewrite("How much did Jiayuguan grow in 2024?", True, "time"),
        ),
        (
            [BAIYIN_EN],
            "And last year?",
            Rewrite("How much did the Baiyin furnace cut energy use last year?", True, "time"),
        ),
        (
            [JISCO_EN],
            "What about its production capacity?",
            Rewrite("What is Jiuquan Iron and Steel Group's production capacity?", True, "pronoun"),
        ),
        (
            [JISCO_EN],
            "How much did it invest?",
            Rewrite("How much did Jiuquan Iron and Steel Group invest?", True, "pronoun"),
        ),
    ],
)
def test_a_follow_up_is_rewritten_into_a_standalone_question(
    previous: list[str], follow_up: str, expected: Rewrite
) -> None:
    assert standalone(previous, follow_up) == expected


def test_earlier_follow_ups_are_rewritten_in_turn() -> None:
    turns = [BAIYIN, "那么金昌呢？"]
    assert standalone(turns, "那去年呢") == Rewrite("金昌去年能耗降低了多少", True, "time")
    turns = [BAIYIN_EN, "What about Jinchang?"]
    assert standalone(turns, "And last year?") == Rewrite(
        "How much did Jinchang cut energy use last year?", True, "time"
    )


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        ([BAIYIN], "金昌能耗降低了多少"),
        ([BAIYIN], "那么金昌的能耗降低了多少？"),
        ([BAIYIN], "白银炉是哪一年开始研发的"),
        ([JISCO], "其他企业的产品种类有多少"),
        ([], "那么金昌呢？"),
        (["   "], "那么金昌呢？"),
        ([BAIYIN], "介绍一下金昌市的镍钴产业链布局"),
        ([BAIYIN_EN], "How much did Jinchang cut energy use?"),
        ([BAIYIN_EN], "Which company makes copper rods in Baiyin?"),
    ],
)
def test_a_full_question_is_returned_as_asked(previous: list[str], question: str) -> None:
    assert standalone(previous, question) == Rewrite(question, False, "")


@pytest.mark.parametrize(
    "odd",
    [
        "",
        "   ",
        "？？？",
        "呢",
        "那",
        "……",
        "!!!",
        "\n\t",
        "a" * 5000,
        "那" * 3000 + "呢",
        "它" * 50,
        "its its it",
        "那么 Jinchang 呢？",
        "What about 金昌?",
        "\x00\x01",
        "😀呢",
        "2024",
        "What about",
        "and",
        "它们的",
        "The",
        "THE THE THE",
        "呢?" * 100,
        "那2024年2025年呢",
    ],
)
def test_odd_input_never_breaks_it(odd: str) -> None:
    for previous in ([BAIYIN], [BAIYIN_EN], [odd], [odd, odd], []):
        rewrite = standalone(previous, odd)
        assert isinstance(rewrite.question, str)
        assert rewrite.rewritten == (rewrite.question != odd.strip())


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.text(max_size=60), max_size=3),
    st.text(alphabet=st.sampled_from(FOLLOW_UP_LETTERS), max_size=20) | st.text(max_size=40),
)
def test_any_text_is_rewritten_without_error(previous: list[str], follow_up: str) -> None:
    rewrite = standalone(previous, follow_up)
    assert rewrite.rewritten == (rewrite.question != follow_up.strip())
    if not rewrite.rewritten:
        assert rewrite.kind == "" and rewrite.question == follow_up.strip()
