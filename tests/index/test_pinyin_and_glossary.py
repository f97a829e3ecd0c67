"""English questions to Chinese words: pinyin of the corpus vocabulary and the glossary."""

from __future__ import annotations

import re

import pytest

from index.rank.glossary import glossary_terms
from index.rank.pinyin import PinyinBridge, pinyin_table

VOCABULARY = ["白银", "白银炉", "金昌", "兰州", "新区", "银", "gdp", "长城", "长城汽车"]


def test_pinyin_table_keys_multi_character_chinese_words_by_toneless_pinyin() -> None:
    assert pinyin_table(VOCABULARY) == {
        "baiyin": ["白银"],
        "baiyinlu": ["白银炉"],
        "jinchang": ["金昌"],
        "lanzhou": ["兰州"],
        "xinqu": ["新区"],
        "changcheng": ["长城"],
        "changchengqiche": ["长城汽车"],
    }


def test_homophones_share_a_key() -> None:
    assert pinyin_table(["金昌", "进场"]) == {"jinchang": ["进场", "金昌"]}


def test_bridge_reads_capitalised_names_whole_and_by_their_long_parts() -> None:
    bridge = PinyinBridge(pinyin_table(VOCABULARY))
    assert len(bridge) == 7
    assert bridge.expand("What is the GDP of Lanzhou New Area and Baiyin?") == ["兰州", "白银"]
    assert bridge.expand("Where is Jin-Chang?") == ["金昌"]  # a hyphenated name joined


def test_bridge_ignores_lower_case_and_short_words() -> None:
    bridge = PinyinBridge(pinyin_table(VOCABULARY))
    assert bridge.expand("how long is baiyin") == []
    assert bridge.expand("Xin Qu") == ["新区"]  # parts are too short alone, joined they match
    assert bridge.expand("") == []


def test_glossary_terms_prefer_the_longest_term_and_use_a_span_once() -> None:
    assert glossary_terms("What was the growth rate of Jinchang?") == ["增速", "增长"]
    assert glossary_terms("industrial value added") == ["工业增加值"]
    assert glossary_terms("GDP per capita") == ["人均", "地区生产总值", "生产总值", "GDP"]
    assert glossary_terms("nothing to see") == []


def test_the_glossary_is_a_setting_shipped_off_or_a_users_file(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from index.rank.glossary import GLOSSARY, glossary_of, glossary_setting

    assert glossary_setting(None) == GLOSSARY
    assert glossary_setting("off") is None
    assert glossary_setting("") is None
    own = tmp_path / "terms.tsv"
    own.write_text("# mine\nwind farm\t风电场\n", encoding="utf-8")
    assert glossary_setting(str(own)) == own
    with pytest.raises(ValueError, match=re.escape("RAGQA_GLOSSARY='nowhere.tsv': no such file")):
        glossary_setting("nowhere.tsv")
    assert glossary_terms("Where is the wind farm of GDP?", glossary_of(str(own))) == ["风电场"]
    assert glossary_terms("GDP per capita", glossary_of("off")) == []
    assert glossary_of(None) == glossary_of(str(GLOSSARY))


def test_settings_read_the_glossary_variable_that_library_code_no_longer_reads(
    tmp_path,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    # Library code reads no environment: the setting is read once, at the edge, and passed down.
    from index.rank.glossary import glossary_of
    from index.settings import Settings

    own = tmp_path / "terms.tsv"
    own.write_text("wind farm\t风电场\n", encoding="utf-8")
    monkeypatch.setenv("RAGQA_GLOSSARY", str(own))
    assert glossary_of(Settings().glossary) == glossary_of(str(own))
