"""Sentence and clause spans: exact offsets, closing quotes kept, nothing over 200 chars."""

from index.text.sentences import MAX_SPAN_CHARS, split_sentences
from index.types import Span


def texts(text: str, spans: list[Span]) -> list[str]:
    return [text[s.char_start : s.char_end] for s in spans]


def test_sentence_keeps_its_closing_quote() -> None:
    text = "“现在生产每吨铜的综合能耗降至210公斤标煤以内。”吴克富说。"
    assert texts(text, split_sentences(text)) == [
        "“现在生产每吨铜的综合能耗降至210公斤标煤以内。”",
        "吴克富说。",
    ]


def test_decimal_points_do_not_end_sentences() -> None:
    text = "年均增长4.8%和9.9%。下一句。"
    assert texts(text, split_sentences(text)) == ["年均增长4.8%和9.9%。", "下一句。"]


def test_paragraph_break_ends_a_sentence_and_whitespace_is_trimmed() -> None:
    text = "  标题行\n\n正文第一句；正文第二句！"
    assert texts(text, split_sentences(text)) == ["标题行", "正文第一句；", "正文第二句！"]


def test_long_sentence_is_cut_at_clauses_under_the_limit() -> None:
    text = "，".join(["这是一个相当长的分句用来测试切分"] * 30) + "。"
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(s.char_end - s.char_start <= MAX_SPAN_CHARS for s in spans)
    assert "".join(texts(text, spans)) == text


def test_spans_are_relative_to_the_whole_text() -> None:
    text = "前言。甲乙丙。丁戊。"
    assert texts(text, split_sentences(text, 3, 10)) == ["甲乙丙。", "丁戊。"]


def test_quotation_marks_whose_partner_is_in_another_sentence_are_left_out() -> None:
    text = "“现在生产每吨铜的综合能耗降至210公斤标煤以内。智能化后作业效率提高。”吴克富介绍。"
    assert texts(text, split_sentences(text)) == [
        "现在生产每吨铜的综合能耗降至210公斤标煤以内。",
        "智能化后作业效率提高。",
        "吴克富介绍。",
    ]
