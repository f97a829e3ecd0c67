"""PDF files through the loader: reading order, articles, page numbers and character boxes.

The fixtures are made by tests/corpus/make_fixtures.py (committed with them). Boxes are in
points from the page's top-left corner; a character's box spans from its left edge to the
next character's (the layout's edges), top to bottom of its printed line.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pypdfium2 as pdfium

from corpus.charboxes import Box, Layout, PageBoxes, align
from corpus.formats import read_articles
from corpus.loader import load_corpus, load_file
from corpus.pdf import _text_glyphs, needs_ocr, unexpected_share

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EPAPER = FIXTURES / "epaper-two-columns.pdf"

FIRST_TEXT = (
    "1月21日，兰州新区氢能产业园开工建设，总投资52亿元，规划建设制氢、储氢和加氢装备生产线。"
    "项目建成后，年产值预计超过80亿元，成为西北地区规模最大的氢能装备制造基地。"
    "园区一期占地1200亩，已有9家企业签约。\n\n"
    "园区负责人介绍，首期工程将在2026年底前投产，可带动上下游企业30余家入驻，"
    "新增就业岗位2000多个。\n\n"
    "据了解，兰州新区已累计引进新能源项目47个，氢能产业链正在加快形成。"
)
SECOND_TEXT = (
    "本报酒泉讯 1月20日，河西走廊百万千瓦风电项目首批机组并网发电，每年可提供清洁电力约"
    "26亿千瓦时。\n\n"
    "该项目安装单机容量6.25兆瓦的风电机组160台，配套建设储能电站，每年可减少二氧化碳排放约"
    "200万吨。"
)


def layout_of(metadata: object) -> Layout:
    assert isinstance(metadata, dict)
    return Layout.from_json(metadata["layout"])


def test_a_two_column_epaper_page_reads_in_order_and_splits_into_its_articles() -> None:
    documents, problems = load_file(EPAPER)
    assert problems == []
    assert [(d.doc_id, d.title, d.published, d.source) for d in documents] == [
        ("epaper-two-columns.pdf:0", "兰州新区氢能产业园开工建设", "2025-01-22", EPAPER.name),
        # the page's date line, above both articles, dates both
        ("epaper-two-columns.pdf:1", "河西走廊风电项目并网发电", "2025-01-22", EPAPER.name),
    ]
    # The first paragraph runs from the foot of the left column ("园区一") to the top of the
    # right one ("期占地"): columns are read left to right, and the break is re-joined.
    assert documents[0].text == FIRST_TEXT
    assert documents[1].text == SECOND_TEXT
    assert [{k: v for k, v in d.metadata.items() if k != "layout"} for d in documents] == [
        {"page": "1"},
        {"page": "1", "place": "酒泉"},  # 本报酒泉讯
    ]


def test_every_printed_character_has_its_page_and_box() -> None:
    documents, _ = load_file(EPAPER)
    for document in documents:
        layout = layout_of(document.metadata)
        assert layout.pages == (1,)
        for i, char in enumerate(document.text):
            located = layout.locate(i, i + 1)
            assert (located != []) == (not char.isspace()), (document.doc_id, i, char)
    first = documents[0]
    start = first.text.index("园区一期")
    assert start == 84
    assert layout_of(first.metadata).locate(start, start + 4) == [
        PageBoxes(
            1,
            (
                Box(166.8, 146.4, 176.8, 160.9),  # 园区一: the left column's last line
                Box(176.8, 146.4, 186.8, 160.9),
                Box(186.8, 146.4, 196.8, 160.9),
                Box(221.8, 86.4, 231.8, 100.9),  # 期: the top of the right column
            ),
        )
    ]
    second = documents[1]
    assert layout_of(second.metadata).locate(0, 2) == [
        PageBoxes(1, (Box(46.8, 242.4, 56.8, 256.9), Box(56.8, 242.4, 66.8, 256.9)))
    ]
    assert layout_of(second.metadata).page_of(0, len(second.text)) == 1


def test_the_layout_round_trips_through_its_json() -> None:
    documents, _ = load_file(EPAPER)
    layout = layout_of(documents[0].metadata)
    assert Layout.from_json(layout.to_json()) == layout
    assert len(layout.runs) == 11  # one per printed line of the article


def test_a_pdf_in_a_corpus_directory_loads_beside_text_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("短讯\n\n今天兰州晴，最高气温12度。", encoding="utf-8")
    (tmp_path / EPAPER.name).write_bytes(EPAPER.read_bytes())
    corpus = load_corpus(tmp_path)
    assert corpus.problems == []
    assert [d.doc_id for d in corpus.documents] == [
        "a.txt:0",
        "epaper-two-columns.pdf:0",
        "epaper-two-columns.pdf:1",
    ]
    assert corpus.documents[0].metadata == {}


def _layer_share(path: Path) -> tuple[float, bool]:
    pdf = pdfium.PdfDocument(path)
    try:
        page = pdf[0]
        glyphs, unmapped = _text_glyphs(page.get_textpage(), page.get_size()[1])
        text = "".join(g.char for g in glyphs)
        return unexpected_share(text), needs_ocr(glyphs, unmapped, has_image=True)
    finally:
        pdf.close()


def test_a_garbled_text_layer_is_told_from_a_good_one() -> None:
    share, ocr = _layer_share(FIXTURES / "garbled-text-layer.pdf")
    assert round(share, 3) == 0.931 and ocr  # mojibake: æ²³è¥¿èµ°å»...
    assert _layer_share(EPAPER) == (0.0, False)
    assert unexpected_share("兰州新区，GDP增长6.5%（同比）“好”……") == 0.0
    assert unexpected_share("\ue001\ue002兰州") == 0.5


def test_an_image_page_with_no_text_layer_needs_ocr_and_a_blank_page_does_not() -> None:
    assert needs_ocr([], 0, has_image=True)
    assert not needs_ocr([], 0, has_image=False)


def test_alignment_maps_cleaned_characters_back_to_the_page() -> None:
    raw = "版次：07\n\n今天,Ａ股(上证)上涨"
    cleaned = "今天，A股（上证）上涨"
    assert align(raw, cleaned) == list(range(7, 18))


def test_bad_pdfs_are_reported_naming_the_file_and_the_problem() -> None:
    encrypted = (FIXTURES / "encrypted.pdf").read_bytes()
    assert read_articles("secret.pdf", encrypted)[1][0].message == (
        "encrypted PDF: it needs a password; send a decrypted copy"
    )
    found, problems = read_articles("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> garbage")
    assert found == []
    assert str(problems[0]).startswith("broken.pdf: not a readable PDF (")
    assert [str(p) for p in read_articles("empty.pdf", b"")[1]] == ["empty.pdf: empty file"]
    not_pdf = io.BytesIO()
    with zipfile.ZipFile(not_pdf, "w") as archive:
        archive.writestr("a.txt", "x")
    assert str(read_articles("zip.pdf", not_pdf.getvalue())[1][0]).startswith(
        "zip.pdf: not a readable PDF ("
    )


def test_a_bad_pdf_in_a_corpus_is_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("短讯\n\n今天兰州晴，最高气温12度。", encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes((FIXTURES / "encrypted.pdf").read_bytes())
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a.txt:0"]
    assert [str(p) for p in corpus.problems] == [
        "b.pdf: encrypted PDF: it needs a password; send a decrypted copy"
    ]
