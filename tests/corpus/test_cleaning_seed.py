"""Cleaning rules, each shown on the real seed text where the page needs it."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from corpus.normalize import fold_characters
from tests.corpus.seed import F000, F001, F002, F003, F004, SEEDS, docs, raw, text, titled

# --- page furniture -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "furniture",
    ["网站首页", "数字报首页", "通版阅读请点击", "展开通版", "收缩通版", "字数", "版次"],
)
def test_site_navigation_and_page_metadata_are_dropped(furniture: str) -> None:
    assert furniture in raw(F002)
    assert furniture not in text(F002)


def test_photographer_credits_and_their_captions_are_dropped() -> None:
    assert "本报记者 陈发明摄" in raw(F000)
    assert "陈发明摄" not in text(F000)
    assert "兰石集团数字指挥中心" not in text(F000)
    assert "混合轧制生产线。" not in text(F000)
    assert "刘健" not in text(F003)
    assert "铝材料。" not in text(F003)
    assert "巨幅海报" not in text(F003)
    assert "后斌玉" not in text(F004)
    assert "千亩水稻长势喜人" not in text(F004)


def test_caption_ending_in_photographer_name_is_dropped_and_sentence_rejoined() -> None:
    assert "凉州城区美景如画" not in text(F001)
    assert "凉州区金山镇金山社区党支部书记陈晖说。" in titled(F001, "全域统筹").text


def test_photo_gallery_captions_atop_a_web_page_are_dropped() -> None:
    for caption in (
        "知豆汽车兰州工厂焊装车间",
        "兰州东金硅业有限公司厂区",
        "兰州宝航新能源材料有限公司\n",
    ):
        assert caption.strip() in raw(F002)
    assert "焊装车间" not in text(F002)
    assert "东金硅业" not in text(F002)
    assert not text(F002).split("\n\n")[0].startswith("宝武碳业")


def test_lone_caption_between_sections_is_dropped() -> None:
    body = text(F003)
    assert "建设现场。\n\n谋划未来" not in body
    assert "谋划未来 拓展空间\n\n来到嘉峪关1000兆瓦/2000兆瓦时电网侧独立储能项目建设现场，" in body


def test_copyright_notice_and_related_news_list_are_dropped() -> None:
    body = text(F003)
    for gone in ("版权声明", "每日甘肃网原创作品", "0931-8159799", "相关新闻", "逐日前行 乘风而起"):
        assert gone not in body


def test_byline_blocks_are_dropped() -> None:
    body = text(F004)
    for gone in ("马效军", "景永鹏", "尹 黛", "新甘肃·每日甘肃网记者"):
        assert gone not in body
    assert "新甘肃·甘肃日报记者 刘健" not in text(F003)
    sidebar = titled(F000, "依托厚底子")
    assert "陈发明" not in sidebar.text


def test_reporter_credit_after_a_dateline_is_dropped_but_the_dateline_stays() -> None:
    item = titled(F004, "任振鹤")
    assert item.text.startswith("本报华池8月27日讯 省生态及地质灾害避险搬迁工作领导小组")
    assert "金鑫" not in item.text


@pytest.mark.parametrize("name", [F001, F004])
def test_page_jump_markers_are_dropped(name: str) -> None:
    assert re.search(r"[(（](接|转)\d版[)）]", raw(name))
    assert not re.search(r"(接|转)\d版", text(name))


def test_ellipsis_separator_lines_are_dropped() -> None:
    assert "……………" in raw(F001)
    assert "……………" not in text(F001)
    assert "提升了国家高端铜合金材料自主保障能力……" in text(F001)  # text ellipsis stays


@pytest.mark.parametrize("name", SEEDS)
def test_done_criteria_strings_are_absent_from_every_document(name: str) -> None:
    for doc in docs(name):
        for gone in ("网站首页", "版权声明", "本报记者 陈发明摄", "(转4版)", "（转4版）"):
            assert gone not in doc.text


# --- sentences broken by layout ---------------------------------------------------------------


def test_degao_sentence_broken_over_three_blocks_is_whole() -> None:
    assert "酒钢集团宏宇新材料公司总经理德高告诉记者，这一创新推动板带产品结构向高端化" in text(
        F000
    )


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        (F001, "并联合开展“引大引强引头部”行动，共同洽谈引进项目百余，"),
        (F001, "从配件材料向装备应用产品的“三个跃升”，精心绘制产业链图"),
        (F001, "人居环境整治，难在长效，贵在持续。凉州区先后开展"),
        (F001, "在发放镇新兴村采摘园，温室大棚整齐排列，"),
        (F001, "在金川集团镍钴新材料公司，国内首套全自动小块剪切包装生产线高效运行"),
        (F000, "目前，白银有色集团40万吨电解铜中已有60%以上实现就地转化"),
        (F000, "通过资源整合、协同创新，带动产业链加快转型发展。"),
        (F004, "有色、稀土产能均较“十四五”翻番。"),
        (F004, "并向社会公布，以信用惩戒倒逼电梯维保规范化。"),
    ],
)
def test_sentence_broken_by_layout_is_rejoined(name: str, sentence: str) -> None:
    assert sentence in text(name)


def test_headline_inside_sentence_becomes_title() -> None:
    feature = docs(F004)[0]
    assert (
        "标志着这座传统工业城市在智能制造领域迈出坚实步伐。作为中国最大的镍钴生产基地，"
        "金昌正凭借丰富的有色金属资源和产业基础" in feature.text
    )
    assert "资源型城市转型的金昌实践样本" not in feature.text
    assert "破茧成蝶" not in feature.text
    assert feature.title == "资源型城市转型的金昌实践样本 中国镍都“破茧成蝶”"


def test_speech_attribution_cut_by_a_column_jump_is_not_guessed_at() -> None:
    # 000's columns are out of order after "李凯说，": the next block belongs elsewhere.
    assert "李凯说，\n\n升链、新兴建链" in docs(F000)[0].text


@pytest.mark.parametrize(
    "heading",
    ["创新引领，重塑“龙头”竞争力", "扬长补短，精准贯通上下游", "集链成群，优化提升价值链"],
)
def test_section_headings_stay_their_own_paragraph(heading: str) -> None:
    assert f"。\n\n{heading}\n\n" in docs(F000)[0].text


def test_sentence_final_paragraph_ends_stay_paragraph_breaks() -> None:
    body = titled(F001, "怎样炼成").text
    assert "全力支持金川集团打造‘万亿金川’和世界一流企业。”\n\n市企同心" in body
    assert "底气何来？\n\n“底气源于坚实的产业基础。”" in body


@pytest.mark.parametrize("name", SEEDS)
def test_paragraphs_are_separated_by_one_blank_line_and_trimmed(name: str) -> None:
    for doc in docs(name):
        assert "\n\n\n" not in doc.text
        for para in doc.text.split("\n\n"):
            assert para and para == para.strip() and "\n" not in para
            assert "  " not in para


# --- widths and punctuation -------------------------------------------------------------------


def test_half_width_punctuation_in_chinese_becomes_full_width() -> None:
    body = text(F001)
    assert "尤其是立足有色金属新材料的先天禀赋与产业根基，金昌锚定" in body
    assert "打造千亿级有色金属新材料产业链，底气何来？" in body
    assert "政企同心：融合赋能筑牢发展根基" in body
    assert not re.search(r"[\u4e00-\u9fff][,:;?!]|[,:;?!][\u4e00-\u9fff]", body)


def test_half_width_parentheses_around_chinese_become_full_width() -> None:
    assert "汇集仪器设备600余台（套）" in text(F004)
    assert "构建完善省、市、县、乡（所）四级" in text(F004)


def test_numbers_units_and_latin_names_are_unchanged() -> None:
    body = text(F000) + text(F001) + text(F004)
    for kept in (
        "99.993%",
        "0.05毫米",
        "A4纸",
        "AI算法",
        "4N5无氧铜板带材",
        "125MN快锻压机",
        "18650锂电池",
    ):
        assert kept in body


# Digit runs of dropped furniture, per file, with why; nothing else may lose a digit.
DROPPED_DIGITS: dict[str, Counter[str]] = {
    F000: Counter(),
    F001: Counter({"1": 2}),  # (接1版) twice
    F002: Counter(
        Counter({"2025": 1, "01": 1, "22": 1})  # the date line (it is `published`, not text)
        + Counter({"3": 1, "997": 1, "07": 1})  # 字数:3,997 / 版次:07
    ),
    F003: Counter(
        Counter(
            {"1": 1, "2": 1, "3": 1, "0931": 1, "8159799": 1}
        )  # copyright clauses, phone number
        + Counter({"2025": 4, "04": 4, "28": 1, "27": 1, "25": 2})  # related-news dates
        + Counter({"1000": 1, "2000": 1})  # caption 嘉峪关1000兆瓦/2000兆瓦时…建设现场。
    ),
    F004: Counter({"4": 1}),  # (转4版)
}


@pytest.mark.parametrize("name", SEEDS)
def test_every_digit_run_of_article_text_survives_cleaning(name: str) -> None:
    before = Counter(re.findall(r"\d+", fold_characters(raw(name))))
    after = Counter(re.findall(r"\d+", "\n".join(d.text for d in docs(name))))
    assert after - before == Counter()  # no digits invented or merged
    assert before - after == DROPPED_DIGITS[name]
