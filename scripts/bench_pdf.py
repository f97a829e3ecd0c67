#!/usr/bin/env python3
"""Benchmark PDF reading: pages per second from a text layer and from OCR, on this machine.

Reads the test fixtures (tests/corpus/fixtures): the two-column e-paper page (text layer:
characters, reading order, cleaning, splitting and the character layout of every article) and
the scanned page (rendered at 180 dpi and OCRed), each `--pages` times, in this process, and
prints pages per second. The OCR engine's one-time load is timed apart. Numbers depend on the
machine and its load: state both with any figure you quote.

    scripts/bench_pdf.py [--pages 50] [--ocr-pages 5]

Writes its numbers to var/bench/pdf.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.pdf import read_pdf  # noqa: E402

FIXTURES = ROOT / "tests" / "corpus" / "fixtures"


def _pages_per_second(data: bytes, name: str, pages: int) -> tuple[float, int]:
    started = time.perf_counter()
    articles = 0
    for _ in range(pages):
        found, problems = read_pdf(name, data)
        assert not problems, problems
        articles += len(found)
    return pages / (time.perf_counter() - started), articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50, help="text-layer pages to read")
    parser.add_argument("--ocr-pages", type=int, default=5, help="scanned pages to OCR")
    args = parser.parse_args()

    text_layer = (FIXTURES / "epaper-two-columns.pdf").read_bytes()
    scanned = (FIXTURES / "scanned-page.pdf").read_bytes()
    text_rate, articles = _pages_per_second(text_layer, "epaper.pdf", args.pages)
    started = time.perf_counter()
    read_pdf("scanned.pdf", scanned)  # loads the OCR engine once
    first_ocr = time.perf_counter() - started
    ocr_rate, _ = _pages_per_second(scanned, "scanned.pdf", args.ocr_pages)
    result = {
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "text_layer_pages": args.pages,
        "text_layer_pages_per_s": round(text_rate, 2),
        "text_layer_articles": articles,
        "ocr_first_page_s_with_engine_load": round(first_ocr, 2),
        "ocr_pages": args.ocr_pages,
        "ocr_pages_per_s": round(ocr_rate, 3),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    out = ROOT / "var" / "bench" / "pdf.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
