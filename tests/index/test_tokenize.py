"""Tokens for BM25 and the keyword features, on tiny inline texts with exact results."""

from __future__ import annotations

from index.text.tokenize import STOPWORDS, has_cjk, normalize, numbers, tokenize


def test_normalize_folds_full_width_forms_and_case() -> None:
    assert normalize("ＧＤＰ增长４．８％") == "gdp增长4.8%"
    assert normalize("Lanzhou") == "lanzhou"


def test_chinese_is_cut_into_jieba_search_words_without_stopwords() -> None:
    # 了 and 多少 are stopwords; jieba does not know 白银炉 as one word.
    assert tokenize("白银炉能耗降低了多少") == ["白银", "炉", "能耗", "降低"]
    assert tokenize("白银炉能耗降低了多少", keep_stopwords=True) == [
        "白银",
        "炉",
        "能耗",
        "降低",
        "了",
        "多少",
    ]


def test_numbers_and_latin_words_stay_whole_and_lower_case() -> None:
    assert tokenize("兰州新区的GDP增长了4.8%") == ["兰州", "新区", "gdp", "增长", "4.8%"]
    assert tokenize("What is the GDP of Lanzhou?") == ["gdp", "lanzhou"]


def test_punctuation_and_whitespace_are_not_tokens() -> None:
    assert tokenize("“金昌”，（镍）！ ...") == ["金昌", "镍"]
    assert tokenize("") == []


def test_numbers_are_read_after_nfkc_with_their_percent_sign() -> None:
    assert numbers("２０２５年增长４．８%，达到10.1%") == {"2025", "4.8%", "10.1%"}
    assert numbers("没有数字") == set()


def test_has_cjk_is_true_for_any_chinese_character() -> None:
    assert has_cjk("Where is 金昌?")
    assert not has_cjk("Where is Jinchang?")
    assert not has_cjk("")


def test_question_words_of_both_languages_are_stopwords() -> None:
    assert {"多少", "什么", "哪些", "how", "many", "what", "the"} <= STOPWORDS
    assert "能耗" not in STOPWORDS
