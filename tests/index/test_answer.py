"""Answer features on tiny inline sentences, with exact results."""

from __future__ import annotations

import pytest

from index.rank.answer import answer_type_match, beyond_title, novelty
from index.rank.matching import QueryTerms


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # a quantity is asked: the sentence needs a number the question does not already hold
        ("白银炉能耗降低了多少", "综合能耗从300公斤标煤降至210公斤标煤以内。", 1.0),
        ("白银炉能耗降低了多少", "白银炉的能耗明显降低。", 0.0),
        ("2025年产量是多少", "2025年产量创新高。", 0.0),  # only the question's own year
        ("How many projects were carried out?", "企业实施29项重大科技课题。", 1.0),
        ("增速是多少", "全年增长十分明显。", 0.0),  # 十分 (very): no counter after 十
        ("有几个项目", "共有十个项目。", 1.0),
        # a person is asked: a title or a speech verb
        ("谁介绍了这项技术", "公司总经理王明介绍。", 1.0),
        ("Who runs the plant?", "这家工厂于1972年建成。", 0.0),
        # a time is asked: a year or a month
        ("白银炉是哪一年研发的", "第一代白银炉自1972年开始研发。", 1.0),
        ("When did it open?", "它对游人开放。", 0.0),
        # nothing specific is asked
        ("白银炉是什么", "白银炉是一种炼铜炉。", 1.0),
    ],
)
def test_answer_type_match(question: str, sentence: str, expected: float) -> None:
    assert answer_type_match(question, sentence, frozenset({"2025"})) == expected


def test_novelty_is_the_share_of_content_characters_the_question_lacks() -> None:
    # content characters 白银炉能耗降至210公斤 (12); not in the question: 降至210公斤 (7)
    assert novelty("白银炉能耗", "白银炉能耗降至210公斤。") == pytest.approx(7 / 12)
    assert novelty("白银炉能耗", "白银炉能耗。") == 0.0  # a restatement
    assert novelty("白银炉能耗", "。”") == 0.0  # no content at all
    assert novelty("What is it?", "ＷＨＡＴ") == 0.0  # NFKC and case folded


def test_beyond_title_keeps_the_keywords_the_title_does_not_name() -> None:
    terms = QueryTerms(
        tokens=frozenset({"黄鳍", "紫鱼", "体长"}),
        weights={"黄鳍": 5.0, "紫鱼": 5.0, "体长": 2.0},
        focus=frozenset({"体长"}),
        numbers=frozenset(),
        lexical_share=1.0,
    )
    assert beyond_title(terms, "黄鳍紫鱼") == frozenset({"体长"})
    assert beyond_title(terms, "鱼类图鉴") == frozenset({"黄鳍", "紫鱼", "体长"})
    assert beyond_title(terms, "黄鳍紫鱼的体长") == frozenset()
