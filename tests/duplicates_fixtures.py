"""One wire story as its outlets and uploaders make it, for the duplicate tests: the same article
as UTF-8 `.txt`, GBK `.txt`, an `.html` page and another outlet's reprint (its own headline,
page furniture and sign-off), and a different article on the same subject.

`story_files()` returns (file name, bytes) pairs; the tests write or upload them."""

from __future__ import annotations

TITLE = "兰州新区氢能产业园开工建设"
PARAGRAPHS = (
    "新华社兰州3月1日电 3月1日，兰州新区氢能产业园项目集中开工，总投资50亿元，"
    "规划建设电解水制氢、储运加注和燃料电池系统三大板块，预计2027年全面投产。",
    "据介绍，产业园一期建设年产2万吨绿氢的电解水制氢装置，配套建设3座加氢站，"
    "所需电力全部来自新区周边的风电和光伏电站。项目建成后，每年可减少二氧化碳排放约20万吨。",
    "兰州新区管委会有关负责人表示，新区将围绕氢能“制、储、运、用”全链条招引企业，"
    "力争到2030年形成产值超过300亿元的氢能产业集群，为甘肃能源结构转型提供有力支撑。",
)
"""The story as the wire sent it (three paragraphs)."""
BODY = "\n\n".join(PARAGRAPHS)

OTHER_TITLE = "兰州新区首座加氢站投入运营"
OTHER = (
    "记者从兰州新区获悉，新区首座加氢站日前正式投入运营，日加氢能力为1000公斤，"
    "可满足80辆氢燃料电池公交车的用氢需求。",
    "这座加氢站由省属能源企业投资建设，采用35兆帕加注工艺，单车加注时间约10分钟。"
    "新区公交公司计划年内投放氢燃料电池公交车50辆，开通3条氢能公交示范线路。",
    "业内人士认为，加氢站的建成运营将带动新区氢能交通应用场景加快落地，"
    "为氢能产业发展积累运营经验。",
)
"""A different article on the same subject (兰州新区's hydrogen industry): not a copy."""


def story_txt() -> str:
    return f"{TITLE}\n\n{BODY}\n\n（责任编辑：王五）\n"


def reprint_txt() -> str:
    """Another outlet's page: its furniture, its headline, its sign-off."""
    return (
        "数字报首页\n\n版次：05\n\n字数：1,024\n\n"
        f"50亿元氢能产业园在兰州新区开工\n\n{BODY}\n\n编辑：李四\n\n来源：新华社\n\n"
        "上一篇\n\n下一篇\n"
    )


def story_html() -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{TITLE}</title></head><body><article><h1>{TITLE}</h1>{paragraphs}"
        "<p>（责任编辑：赵六）</p></article></body></html>"
    )


def other_txt() -> str:
    return f"{OTHER_TITLE}\n\n" + "\n\n".join(OTHER) + "\n"


def story_files() -> list[tuple[str, bytes]]:
    """The story four ways, first the one that becomes the document, then the copies."""
    return [
        ("hydrogen.txt", story_txt().encode("utf-8")),
        ("hydrogen-gbk.txt", story_txt().encode("gbk")),
        ("hydrogen.html", story_html().encode("utf-8")),
        ("reprint-of-hydrogen.txt", reprint_txt().encode("utf-8")),
    ]
