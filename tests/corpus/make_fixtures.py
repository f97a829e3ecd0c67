"""Make the small PDF and Word files of tests/corpus/fixtures/ (committed; CI never runs this).

    .venv/bin/python tests/corpus/make_fixtures.py

Needs fpdf2, Pillow, python-docx, ebooklib and a CJK font (Debian's fonts-noto-cjk, which
scripts/test installs for the browser tests). Every date, id and zip timestamp is fixed, so the same
inputs give the same files.

* ``epaper-two-columns.pdf``: an e-paper page with a text layer: a date line, then two
  articles, each a headline across the page over two columns of text; the first article's
  first paragraph runs from the foot of the left column to the top of the right one.
* ``scanned-page.pdf``: one page that is only an image of a headline and a sentence.
* ``garbled-text-layer.pdf``: an image of a sentence under an invisible text layer of
  mojibake (the sentence's UTF-8 bytes read as Latin-1), as broken font encodings leave.
* ``long-article.pdf``: one article of about 13,000 characters in four columns, whose
  character layout is over Milvus' 64 KiB JSON limit.
* ``encrypted.pdf``: a text page that needs a user password.
* ``two-articles.docx``: two Heading 1 articles; the second has a Heading 2 section.
* ``two-chapters.epub``: the same two articles as chapters of a book, with a cover page.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent / "fixtures"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_SC = 2  # Simplified Chinese face in the collection
FIXED = datetime(2025, 1, 22, 8, 0, 0, tzinfo=UTC)

DATE_LINE = "2025年01月22日"
ARTICLES = [
    (
        "兰州新区氢能产业园开工建设",
        [
            "1月21日，兰州新区氢能产业园开工建设，总投资52亿元，规划建设制氢、储氢和"
            "加氢装备生产线。项目建成后，年产值预计超过80亿元，成为西北地区规模最大的"
            "氢能装备制造基地。园区一期占地1200亩，已有9家企业签约。",
            "园区负责人介绍，首期工程将在2026年底前投产，可带动上下游企业30余家入驻，"
            "新增就业岗位2000多个。",
            "据了解，兰州新区已累计引进新能源项目47个，氢能产业链正在加快形成。",
        ],
    ),
    (
        "河西走廊风电项目并网发电",
        [
            "本报酒泉讯 1月20日，河西走廊百万千瓦风电项目首批机组并网发电，每年可提供"
            "清洁电力约26亿千瓦时。",
            "该项目安装单机容量6.25兆瓦的风电机组160台，配套建设储能电站，每年可减少"
            "二氧化碳排放约200万吨。",
        ],
    ),
]
SCANNED_HEADLINE = "氢能产业园开工"
SCANNED_SENTENCE = "兰州新区氢能产业园开工建设，总投资52亿元。"
GARBLED_SENTENCE = "河西走廊风电项目并网发电。"


class _Pdf(FPDF):
    def __init__(self, width: float, height: float) -> None:
        super().__init__(unit="pt", format=(width, height))
        self.set_creation_date(FIXED)
        self.set_producer("ragqa tests/corpus/make_fixtures.py")
        self.set_auto_page_break(False)
        self.set_margin(0)

    def file_id(self) -> str:  # the same bytes every run
        return "<00000000000000000000000000000000><00000000000000000000000000000000>"


def _cjk(pdf: FPDF) -> None:
    pdf.add_font("noto", fname=str(FONT), collection_font_number=FONT_SC)


def _wrap(pdf: FPDF, text: str, width: float, indent: float) -> list[tuple[float, str]]:
    """`text` broken into lines of at most `width` points, the first one indented."""
    lines: list[tuple[float, str]] = []
    current, offset = "", indent
    for ch in text:
        too_wide = pdf.get_string_width(current + ch) > width - offset
        if current and too_wide and ch not in "，。、；：！？”）":  # no line starts with these
            lines.append((offset, current))
            current, offset = "", 0.0
        current += ch
    if current:
        lines.append((offset, current))
    return lines


def epaper() -> bytes:
    width, margin, gutter = 420.0, 24.0, 18.0
    column = (width - 2 * margin - gutter) / 2
    size, leading = 10.0, 15.0
    pdf = _Pdf(width, 560)
    _cjk(pdf)
    pdf.add_page()
    y = 24.0
    pdf.set_font("noto", size=9)
    pdf.set_xy(margin, y)
    pdf.cell(text=DATE_LINE)
    y += 30
    for headline, paragraphs in ARTICLES:
        pdf.set_font("noto", size=18)
        pdf.set_xy(margin, y)
        pdf.cell(text=headline)
        y += 36
        pdf.set_font("noto", size=size)
        lines = [ln for p in paragraphs for ln in _wrap(pdf, p, column, 2 * size)]
        half = max(len(lines) // 2, 1)
        for n, (offset, text) in enumerate(lines):
            col, row = (0, n) if n < half else (1, n - half)
            pdf.set_xy(margin + col * (column + gutter) + offset, y + row * leading)
            pdf.cell(text=text)
        y += (len(lines) - half) * leading + 30
    return bytes(pdf.output())


LONG_PARAGRAPH = (
    "兰州新区持续推进产业项目建设，新能源和新材料产业加快集聚。园区企业生产繁忙，"
    "一批重点项目建成投产，带动就业和税收稳步增长。"
)


def long_article() -> bytes:
    width, height, margin, gutter, columns = 842.0, 1191.0, 24.0, 10.0, 4
    column = (width - 2 * margin - gutter * (columns - 1)) / columns
    size, leading = 6.0, 7.6
    pdf = _Pdf(width, height)
    _cjk(pdf)
    pdf.add_page()
    pdf.set_font("noto", size=16)
    pdf.set_xy(margin, 24)
    pdf.cell(text="兰州新区产业项目建设综述")
    pdf.set_font("noto", size=size)
    lines = [ln for _ in range(190) for ln in _wrap(pdf, LONG_PARAGRAPH, column, 2 * size)]
    per_column = -(-len(lines) // columns)
    for n, (offset, text) in enumerate(lines):
        col, row = divmod(n, per_column)
        pdf.set_xy(margin + col * (column + gutter) + offset, 60 + row * leading)
        pdf.cell(text=text)
    return bytes(pdf.output())


def _text_image(lines: list[tuple[str, int]], width: int) -> Image.Image:
    """Black text on white, one (text, pixel size) per line, at 150 dpi."""
    height = 40 + sum(int(px * 1.8) for _, px in lines)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = 30
    for text, px in lines:
        font = ImageFont.truetype(str(FONT), px, index=FONT_SC)
        draw.text((30, y), text, font=font, fill=0)
        y += int(px * 1.8)
    return image


def _image_page(pdf: FPDF, image: Image.Image) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    buffer.seek(0)
    pdf.add_page()
    pdf.image(buffer, x=0, y=0, w=image.width * 72 / 150, h=image.height * 72 / 150)


def scanned() -> bytes:
    image = _text_image([(SCANNED_HEADLINE, 48), (SCANNED_SENTENCE, 36)], 900)
    pdf = _Pdf(image.width * 72 / 150, image.height * 72 / 150)
    _image_page(pdf, image)
    return bytes(pdf.output())


def garbled() -> bytes:
    image = _text_image([(GARBLED_SENTENCE, 36)], 600)
    pdf = _Pdf(image.width * 72 / 150, image.height * 72 / 150)
    _image_page(pdf, image)
    latin1 = GARBLED_SENTENCE.encode("utf-8").decode("latin-1")
    mojibake = "".join(c for c in latin1 if c.isprintable())
    pdf.set_font("helvetica", size=12)
    pdf.text_mode = "INVISIBLE"
    pdf.set_xy(14, 14)
    pdf.cell(text=mojibake)
    return bytes(pdf.output())


def encrypted() -> bytes:
    pdf = _Pdf(300, 200)
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.set_xy(20, 20)
    pdf.cell(text="Confidential")
    return bytes(pdf.output())


def two_articles_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.created = FIXED.replace(tzinfo=None)
    document.core_properties.modified = FIXED.replace(tzinfo=None)
    document.core_properties.last_modified_by = "ragqa"
    document.core_properties.author = "ragqa"
    title, paragraphs = ARTICLES[0]
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    title, paragraphs = ARTICLES[1]
    document.add_heading(title, level=1)
    document.add_paragraph(paragraphs[0])
    document.add_heading("项目配套储能电站", level=2)
    document.add_paragraph(paragraphs[1])
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def two_chapters_epub() -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("ragqa-fixture-two-chapters")
    book.set_title("甘肃经济报道")
    book.set_language("zh")
    book.add_metadata("DC", "date", "2025-01-22")
    cover = epub.EpubHtml(title="封面", file_name="cover.xhtml", lang="zh")
    cover.content = "<html><body><div><img src='cover.png' alt=''/></div></body></html>"
    chapters = [cover]
    for n, (title, paragraphs) in enumerate(ARTICLES, start=1):
        chapter = epub.EpubHtml(title=title, file_name=f"chapter{n}.xhtml", lang="zh")
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        chapter.content = f"<html><body><h1>{title}</h1>{body}</body></html>"
        chapters.append(chapter)
    for chapter in chapters:
        book.add_item(chapter)
    book.toc = chapters[1:]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book, options={"mtime": FIXED})
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry's timestamp fixed (reproducible bytes)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 22, 8, 0, 0))
            fixed.compress_type = info.compress_type  # EPUB's mimetype stays stored
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def main() -> None:
    HERE.mkdir(exist_ok=True)
    made = {
        "epaper-two-columns.pdf": epaper(),
        "long-article.pdf": long_article(),
        "scanned-page.pdf": scanned(),
        "garbled-text-layer.pdf": garbled(),
        "encrypted.pdf": encrypted(),
        "two-articles.docx": two_articles_docx(),
        "two-chapters.epub": two_chapters_epub(),
    }
    for name, data in made.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data):,} bytes")


if __name__ == "__main__":
    main()
