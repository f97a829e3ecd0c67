"""EPUB books through the loader: one article per chapter, titled by its heading."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from corpus.formats import read_articles
from corpus.loader import load_file

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "two-chapters.epub"


def test_each_chapter_is_an_article_and_the_cover_and_contents_are_not() -> None:
    documents, problems = load_file(FIXTURE)
    assert problems == []
    assert [(d.doc_id, d.title, d.published) for d in documents] == [
        ("two-chapters.epub:0", "兰州新区氢能产业园开工建设", None),
        ("two-chapters.epub:1", "河西走廊风电项目并网发电", None),
    ]
    assert documents[1].text == (
        "本报酒泉讯 1月20日，河西走廊百万千瓦风电项目首批机组并网发电，每年可提供清洁电力约"
        "26亿千瓦时。\n\n"
        "该项目安装单机容量6.25兆瓦的风电机组160台，配套建设储能电站，每年可减少二氧化碳排放约"
        "200万吨。"
    )
    assert documents[0].text.startswith("1月21日，兰州新区氢能产业园开工建设，总投资52亿元，")


def test_files_that_are_not_an_epub_are_reported_naming_the_problem() -> None:
    def problem(name: str, data: bytes) -> str:
        found, problems = read_articles(name, data)
        assert found == []
        return str(problems[0])

    assert (
        problem("a.epub", b"%PDF-1.7 not an epub") == "a.epub: not an EPUB file (not a zip archive)"
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
    assert problem("b.epub", archive.getvalue()) == (
        "b.epub: not an EPUB file (the archive has no META-INF/container.xml)"
    )
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr("META-INF/container.xml", "<container/>")
    assert problem("c.epub", archive.getvalue()).startswith("c.epub: not a readable EPUB file (")
