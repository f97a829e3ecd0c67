"""News metadata (date, headline title, byline, reporters, paper, page, place), read from what
the page prints: made-up pages of each kind, and every document of the real seed corpus."""

from __future__ import annotations

from corpus.formats import read_articles
from corpus.newsmeta import NewsMeta, parse_byline, parse_dateline
from tests.corpus.seed import SEEDS, docs

EPAPER_PAGE = """网站首页
数字报首页
兰州新区新能源产业加速集聚
2025年01月22日
字数：1,200
版次：07

本报讯（记者 张三 李四）1月21日，记者从兰州新区获悉，新区新能源装备产业链已集聚企业42家。

新区今年将再引进配套项目10个，力争产值突破300亿元。
"""


def one(name: str, text: str) -> tuple[str, str | None, dict[str, str], str]:
    (parsed,), problems = read_articles(name, text.encode())
    assert problems == []
    return (
        parsed.article.title,
        parsed.article.published,
        dict(parsed.metadata),
        parsed.article.text,
    )


def test_an_epaper_page_gives_its_date_headline_byline_and_page() -> None:
    title, published, metadata, text = one("page.txt", EPAPER_PAGE)
    assert title == "兰州新区新能源产业加速集聚"
    assert published == "2025-01-22"
    assert metadata == {"byline": "记者 张三 李四", "reporters": "张三、李四", "paper_page": "7"}
    # the credit is metadata now, not text; the dateline stays as printed without it
    assert text.startswith("本报讯 1月21日，记者从兰州新区获悉")


def test_a_masthead_dates_the_page_and_names_paper_and_page() -> None:
    page = (
        "甘肃日报 2024年11月21日 星期四 第3版\n\n"
        "兰州至中川机场城际铁路延长线开通\n\n"
        "新华社兰州11月20日电（记者 王五）兰州至中川机场城际铁路延长线20日开通运营，"
        "全线设车站6座。\n\n开通后，兰州市区至机场最快只需31分钟。\n"
    )
    title, published, metadata, text = one("masthead.txt", page)
    assert title == "兰州至中川机场城际铁路延长线开通"
    assert published == "2024-11-21"
    assert metadata == {
        "byline": "记者 王五",
        "reporters": "王五",
        "newspaper": "甘肃日报",
        "paper_page": "3",
        "place": "兰州",
    }
    assert "甘肃日报 2024年" not in text


def test_a_web_pages_source_line_gives_date_paper_and_author() -> None:
    page = (
        "敦煌文旅迎来客流高峰\n\n2025-01-22 10:30 来源：甘肃日报 作者：赵六\n\n"
        "春节假期前夕，敦煌莫高窟单日接待游客超过6000人次，同比增长两成。\n"
    )
    title, published, metadata, text = one("web.txt", page)
    assert (title, published) == ("敦煌文旅迎来客流高峰", "2025-01-22")
    assert metadata == {"byline": "赵六", "reporters": "赵六", "newspaper": "甘肃日报"}
    assert text == "春节假期前夕，敦煌莫高窟单日接待游客超过6000人次，同比增长两成。"


def test_an_html_pages_author_is_its_byline() -> None:
    page = (
        '<html><head><title>敦煌文旅迎来客流高峰</title><meta name="author" content="记者 赵六">'
        '<meta property="article:published_time" content="2025-01-22T10:30:00+08:00"></head>'
        "<body><article><h1>敦煌文旅迎来客流高峰</h1><p>春节假期前夕，敦煌莫高窟单日接待游客"
        "超过6000人次，同比增长两成。景区已开放12个洞窟，游客可在线预约参观时段。</p></article>"
        "</body></html>"
    )
    title, published, metadata, _ = one("page.html", page)
    assert (title, published) == ("敦煌文旅迎来客流高峰", "2025-01-22")
    assert metadata == {"byline": "记者 赵六", "reporters": "赵六"}


def test_a_photo_credit_is_not_a_byline() -> None:
    page = (
        "陇南水稻丰收在望\n\n"
        "本报陇南讯 今年以来，陇南市武都区推广水稻新品种，千亩水稻长势喜人。\n\n"
        "初秋时节，武都区角弓镇千亩水稻丰收在望。\n\n"
        "新甘肃·甘肃日报通讯员 后斌玉\n"
    )
    _, _, metadata, _ = one("photo.txt", page)
    assert metadata == {"place": "陇南"}


def test_byline_parsing() -> None:
    assert parse_byline(["新甘肃·甘肃日报记者 刘健"]) == NewsMeta(
        byline="新甘肃·甘肃日报记者 刘健", reporters=("刘健",), newspaper="甘肃日报"
    )
    # a two-character name spaced out for alignment is one name
    assert parse_byline(["新甘肃·每日甘肃网记者", "景永鹏 尹 黛"]) == NewsMeta(
        byline="新甘肃·每日甘肃网记者 景永鹏 尹黛", reporters=("景永鹏", "尹黛")
    )
    assert parse_byline(["本报记者 陈发明"]).reporters == ("陈发明",)
    assert parse_byline(["本报记者 陈发明"]).newspaper is None


def test_dateline_parsing() -> None:
    assert parse_dateline("新华社兰州11月20日电") == NewsMeta(place="兰州")
    assert parse_dateline("本报讯（记者 王五）") == NewsMeta(
        byline="记者 王五", reporters=("王五",)
    )
    assert parse_dateline("本报华池8月27日讯（新甘肃·甘肃日报记者金鑫）") == NewsMeta(
        byline="新甘肃·甘肃日报记者 金鑫",
        reporters=("金鑫",),
        newspaper="甘肃日报",
        place="华池",
    )


GANSU = "新甘肃·甘肃日报记者"
SEED_FIELDS = [
    ("000_0ad1dae646fc90f2.txt:0", "老工业基地焕新转型如何发力", None, {}),
    (
        "000_0ad1dae646fc90f2.txt:1",
        "依托厚底子 闯出新路子",
        None,
        {"byline": "陈发明", "reporters": "陈发明"},
    ),
    ("001_8546bbd5f1ad3438.txt:0", "千亿级产业是怎样炼成的", None, {}),
    (
        "001_8546bbd5f1ad3438.txt:1",
        "“镍都”千亿级产业跨越的启示",
        None,
        {"byline": "谢晓玲", "reporters": "谢晓玲"},
    ),
    ("001_8546bbd5f1ad3438.txt:2", "全域统筹 推进全面整治", None, {}),
    (
        "002_a6192bb7d02a95be.txt:0",
        "延链条聚集群 产业焕发新气象",
        "2025-01-22",
        {"paper_page": "7"},
    ),
    (
        "003_9e92c380d67ef266.txt:0",
        "强基筑项 提质增效",
        None,
        {"byline": f"{GANSU} 刘健", "reporters": "刘健", "newspaper": "甘肃日报"},
    ),
    (
        "004_0ab705ec73a87017.txt:0",
        "资源型城市转型的金昌实践样本 中国镍都“破茧成蝶”",
        None,
        {
            "byline": f"{GANSU} 马效军 谢晓玲 范海瑞；新甘肃·每日甘肃网记者 景永鹏 尹黛",
            "reporters": "马效军、谢晓玲、范海瑞、景永鹏、尹黛",
            "newspaper": "甘肃日报",
        },
    ),
    *[
        (
            f"004_0ab705ec73a87017.txt:{n}",
            title,
            None,
            {"byline": f"{GANSU} {who}", "reporters": who, "newspaper": "甘肃日报", "place": place},
        )
        for n, title, who, place in [
            (1, "职业教育东中西部协作对接会举行 郝明金出席并讲话", "侯洪建", "张掖"),
            (
                2,
                "任振鹤在省生态及地质灾害避险搬迁工作领导小组第十二次会议暨工作推进会上强调 "
                "用过硬责任担当保进度提质效 以深厚为民情怀完成好一期搬迁任务",
                "金鑫",
                "华池",
            ),
            (3, "我省印发《意见》促进红十字事业高质量发展", "王君洁", "兰州"),
            (4, "甘肃全面强化特种设备安全监管", "范海瑞", "兰州"),
            (5, "白银市工业经济稳中有进量质齐升", "彭雯", "白银"),
        ]
    ],
]


def test_every_seed_document_gets_what_its_page_states() -> None:
    # Dates: only 002 prints one (2025年01月22日); 004's datelines say 8月27日 without a year,
    # and 003's dates belong to its related-news list. No headline is a first sentence: 003's
    # capture lost its headline and 001:2's is on page 1, so their first heading titles them.
    found = [(d.doc_id, d.title, d.published, dict(d.metadata)) for n in SEEDS for d in docs(n)]
    assert found == SEED_FIELDS
