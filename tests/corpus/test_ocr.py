"""PDF pages without a usable text layer are OCRed with the PP-OCR models of the wheel.

Slow: the OCR engine loads once per process (seconds) and each page costs seconds on 2 cores.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from corpus.charboxes import Layout
from corpus.loader import load_file

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_a_scanned_page_is_read_by_ocr_with_its_headline_and_boxes() -> None:
    documents, problems = load_file(FIXTURES / "scanned-page.pdf")
    assert problems == []
    assert [(d.doc_id, d.title, d.text) for d in documents] == [
        ("scanned-page.pdf:0", "氢能产业园开工", "兰州新区氢能产业园开工建设，总投资52亿元。")
    ]
    metadata = dict(documents[0].metadata)
    layout = Layout.from_json(metadata.pop("layout"))
    assert metadata == {"page": "1", "ocr": "true"}
    located = layout.locate(0, len(documents[0].text))
    assert [p.page for p in located] == [1]
    boxes = located[0].boxes
    assert len(boxes) == len(documents[0].text)
    # One printed line, left to right, inside the page (432 x 91.2 pt), 19 pt high.
    assert all(a.x1 <= b.x0 + 0.1 for a, b in pairwise(boxes))
    assert all(0 <= b.x0 < b.x1 <= 432 and 0 <= b.top < b.bottom <= 91.2 for b in boxes)
    assert {round(b.bottom - b.top) for b in boxes} == {19}


def test_a_garbled_text_layer_is_replaced_by_what_ocr_reads() -> None:
    documents, problems = load_file(FIXTURES / "garbled-text-layer.pdf")
    assert problems == []
    assert [(d.title, d.text, d.metadata["ocr"]) for d in documents] == [
        ("河西走廊风电项目并网发电", "河西走廊风电项目并网发电。", "true")
    ]
