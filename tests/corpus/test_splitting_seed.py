"""Splitting pages into articles, with titles and dates, on the real seed files."""

from __future__ import annotations

from tests.corpus.seed import F000, F001, F002, F003, F004, SEEDS, docs, titled


def test_document_ids_are_file_name_and_position() -> None:
    for name in SEEDS:
        assert [d.doc_id for d in docs(name)] == [f"{name}:{n}" for n in range(len(docs(name)))]
        assert {d.source for d in docs(name)} == {name}


def test_001_holds_the_feature_the_sidebar_and_the_liangzhou_article() -> None:
    titles = [d.title for d in docs(F001)]
    assert titles == [
        "千亿级产业是怎样炼成的",
        "“镍都”千亿级产业跨越的启示",
        "全域统筹 推进全面整治",
    ]


def test_liangzhou_article_is_its_own_document() -> None:
    jinchang, sidebar, liangzhou = docs(F001)
    assert liangzhou.title == "全域统筹 推进全面整治"  # its headline is on page 1
    assert liangzhou.text.startswith("全域统筹 推进全面整治\n\n3月的凉州")
    assert "凉州" not in jinchang.text
    assert "凉州" not in sidebar.text
    assert "金川集团" not in liangzhou.text


def test_jump_marker_after_a_headline_gives_the_headline_as_title() -> None:
    feature = docs(F001)[0]
    assert feature.title == "千亿级产业是怎样炼成的"
    assert feature.text.startswith("尤其是立足有色金属新材料的先天禀赋与产业根基")
    assert feature.text.endswith("将企业的")  # the page ends mid-sentence; kept as printed


def test_signed_sidebar_is_its_own_document_without_its_byline() -> None:
    sidebar = docs(F001)[1]
    assert sidebar.text.startswith("记者手记\n\n金昌的故事，是一部资源型城市的“破局史诗”。")
    assert "谢晓玲" not in sidebar.text
    survey = docs(F000)[1]
    assert survey.title == "依托厚底子 闯出新路子"
    assert survey.text.startswith("调查手记\n\n甘肃以“强龙头、补链条、聚集群”为方法论")
    assert "依托厚底子" not in docs(F000)[0].text


def test_000_headline_block_gives_title_and_keeps_kicker_and_subtitle_as_text() -> None:
    main = docs(F000)[0]
    assert main.title == "老工业基地焕新转型如何发力"
    assert main.text.startswith(
        "牢记总书记的嘱托·高质量发展进行时\n\n——甘肃做强特色优势产业调查\n\n一手推动"
    )


def test_004_splits_into_the_feature_and_five_news_items() -> None:
    titles = [d.title for d in docs(F004)]
    assert len(titles) == 6
    for part, title in zip(
        [
            "金昌实践样本",
            "职业教育东中西部协作对接会",
            "任振鹤",
            "红十字事业",
            "特种设备安全监管",
            "白银市工业经济",
        ],
        titles,
        strict=True,
    ):
        assert part in title


def test_news_items_start_at_their_dateline_and_keep_their_own_text() -> None:
    items = docs(F004)[1:]
    assert [d.text[:6] for d in items] == [
        "本报张掖讯 ",
        "本报华池8月",
        "本报兰州讯 ",
        "本报兰州讯 ",
        "本报白银8月",
    ]
    assert "张世珍" in items[0].text and "张世珍" not in items[1].text
    assert "梅鹏成" in docs(F004)[0].text and "梅鹏成" not in items[0].text


def test_long_news_headline_with_spaces_is_the_whole_title() -> None:
    assert titled(F004, "任振鹤").title == (
        "任振鹤在省生态及地质灾害避险搬迁工作领导小组第十二次会议暨工作推进会上强调 "
        "用过硬责任担当保进度提质效 以深厚为民情怀完成好一期搬迁任务"
    )


def test_web_page_title_and_published_date_come_from_its_header() -> None:
    (page,) = docs(F002)
    assert page.title == "延链条聚集群 产业焕发新气象"
    assert page.published == "2025-01-22"
    assert page.text.startswith("——兰州新区推进产业发展综述\n\n时间的刻度里，潜藏着发展的力量。")


def test_articles_without_a_stated_date_have_none() -> None:
    # 003 mentions 4月27日 and 004 本报华池8月27日讯: dates in the text, not publication dates.
    for name in (F000, F001, F003, F004):
        assert all(d.published is None for d in docs(name))


def test_article_without_headline_is_titled_by_its_first_section_heading() -> None:
    # The capture lost the headline; the paper's own heading names it, never a first sentence.
    (page,) = docs(F003)
    assert page.title == "强基筑项 提质增效"
    assert page.text.startswith("在西北戈壁之上，嘉峪关市因钢而生、依钢而兴。")


def test_every_seed_file_yields_the_expected_number_of_documents() -> None:
    assert [len(docs(name)) for name in SEEDS] == [2, 3, 1, 1, 6]
