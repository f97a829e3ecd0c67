"""Word .docx files through the loader: Heading 1 sections become articles."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx

from corpus.archives import MAX_UNZIPPED_BYTES
from corpus.formats import read_articles
from corpus.loader import load_file

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "two-articles.docx"


def test_each_heading_1_section_is_an_article_titled_by_its_heading() -> None:
    documents, problems = load_file(FIXTURE)
    assert problems == []
    assert [(d.doc_id, d.title, d.published, d.metadata) for d in documents] == [
        ("two-articles.docx:0", "兰州新区氢能产业园开工建设", None, {}),
        ("two-articles.docx:1", "河西走廊风电项目并网发电", None, {"place": "酒泉"}),
    ]
    assert documents[0].text == (
        "1月21日，兰州新区氢能产业园开工建设，总投资52亿元，规划建设制氢、储氢和加氢装备生产线。"
        "项目建成后，年产值预计超过80亿元，成为西北地区规模最大的氢能装备制造基地。"
        "园区一期占地1200亩，已有9家企业签约。\n\n"
        "园区负责人介绍，首期工程将在2026年底前投产，可带动上下游企业30余家入驻，"
        "新增就业岗位2000多个。\n\n"
        "据了解，兰州新区已累计引进新能源项目47个，氢能产业链正在加快形成。"
    )
    # A Heading 2 stays in the text as a section heading.
    assert documents[1].text == (
        "本报酒泉讯 1月20日，河西走廊百万千瓦风电项目首批机组并网发电，每年可提供清洁电力约"
        "26亿千瓦时。\n\n项目配套储能电站\n\n"
        "该项目安装单机容量6.25兆瓦的风电机组160台，配套建设储能电站，每年可减少二氧化碳排放约"
        "200万吨。"
    )


def _docx(build: object) -> bytes:
    document = docx.Document()
    assert callable(build)
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_kicker_under_the_heading_stays_text_and_the_heading_stays_the_title() -> None:
    def build(document: docx.document.Document) -> None:
        document.add_heading("酒泉风电装机突破两千万千瓦", level=1)
        document.add_paragraph("新能源")
        document.add_paragraph("截至6月底，酒泉市风电装机容量达到2150万千瓦。")

    found, problems = read_articles("k.docx", _docx(build))
    assert problems == []
    assert [(p.article.title, p.article.text) for p in found] == [
        ("酒泉风电装机突破两千万千瓦", "新能源\n\n截至6月底，酒泉市风电装机容量达到2150万千瓦。")
    ]


def test_a_docx_without_headings_reads_like_a_page() -> None:
    def build(document: docx.document.Document) -> None:
        document.add_paragraph("定西马铃薯丰收")
        document.add_paragraph("今年定西市马铃薯种植面积达到300万亩，")
        document.add_paragraph("总产量580万吨。")

    found, _ = read_articles("page.docx", _docx(build))
    assert [(p.article.title, p.article.text) for p in found] == [
        ("定西马铃薯丰收", "今年定西市马铃薯种植面积达到300万亩，总产量580万吨。")
    ]


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_files_that_are_not_a_docx_are_reported_naming_the_problem() -> None:
    def problem(name: str, data: bytes) -> str:
        found, problems = read_articles(name, data)
        assert found == []
        return str(problems[0])

    assert problem("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100) == (
        "old.docx: not a Word .docx file (not a zip archive; save an old .doc as .docx)"
    )
    assert problem("other.docx", _zip({"a.txt": b"x"})) == (
        "other.docx: not a Word .docx file (the archive has no word/document.xml)"
    )
    assert problem("bad.docx", _zip({"word/document.xml": b"<not xml"})).startswith(
        "bad.docx: not a readable Word .docx file ("
    )


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w/>")
        with archive.open("word/media/zeros.bin", "w") as entry:
            block = bytes(1 << 20)
            for _ in range((MAX_UNZIPPED_BYTES >> 20) + 1):
                entry.write(block)
    data = buffer.getvalue()
    assert len(data) < 200_000
    found, problems = read_articles("bomb.docx", data)
    assert found == []
    assert str(problems[0]) == (
        "bomb.docx: unpacks to 68,157,444 bytes, over the limit of 67,108,864 (MAX_UNZIPPED_BYTES)"
    )
