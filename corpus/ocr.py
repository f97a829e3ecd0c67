"""OCR of a page image into glyphs, with the PP-OCR models that ship inside their wheel.

`rapidocr-onnxruntime` (pinned in pyproject.toml) bundles PP-OCRv4 detection and recognition
and the direction classifier as ONNX files in the package itself: nothing is downloaded, ever
(the newer `rapidocr` 3.x fetches its models at first use, which this project forbids). It
returns each text line with a box per character (`return_word_box`), which become `Glyph`s
in points on the page. The engine loads once per process (a few seconds); each page then
costs seconds on 2 cores, which is why only pages without a usable text layer are OCRed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from corpus.charboxes import Box, Glyph

OCR_THREADS = 2
"""onnxruntime threads per model run (the service's machines have 2 cores)."""


class OcrUnavailable(RuntimeError):
    """rapidocr-onnxruntime is not installed."""


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise OcrUnavailable(
            f"OCR is unavailable ({err}): it needs rapidocr-onnxruntime==1.4.4 and, for "
            "OpenCV, libGL (Debian: apt-get install libgl1 libglib2.0-0)"
        ) from err
    return RapidOCR(intra_op_num_threads=OCR_THREADS, inter_op_num_threads=1)


def ocr_glyphs(image: Any, scale: float) -> list[Glyph]:
    """The glyphs OCR reads in `image` (an RGB numpy array rendered at `scale` pixels per
    point), line after line, a line break glyph between lines."""
    result, _ = _engine()(image, return_word_box=True)
    glyphs: list[Glyph] = []
    for line in result or []:
        quad, text = line[0], str(line[1])
        words = line[3] if len(line) > 3 else []
        word_texts = line[4] if len(line) > 4 else []
        glyphs += _line_glyphs(text, quad, words, word_texts, scale)
        glyphs.append(Glyph("\n", Box(0, 0, 0, 0)))
    return glyphs


def _line_glyphs(
    text: str,
    quad: Sequence[Sequence[float]],
    words: Sequence[Sequence[Sequence[float]]],
    word_texts: Sequence[str],
    scale: float,
) -> list[Glyph]:
    """A recognised line's characters with boxes: each word's box shared evenly by its
    characters (a CJK "word" is one character), or the line's box when they do not add up."""
    line_box = _box(quad, scale)
    boxes: list[Box] = []
    if words and "".join(word_texts) == text.replace(" ", ""):
        for quad_w, word in zip(words, word_texts, strict=True):
            boxes += _spread(_box(quad_w, scale), len(word))
        queue = iter(boxes)
        found: list[Glyph] = []
        for c in text:
            if c == " ":  # no box of its own: a zero-width box where the last character ends
                edge = found[-1].box.x1 if found else line_box.x0
                found.append(Glyph(c, Box(edge, line_box.top, edge, line_box.bottom)))
            else:
                found.append(Glyph(c, next(queue)))
        return found
    return [Glyph(c, b) for c, b in zip(text, _spread(line_box, len(text)), strict=True)]


def _box(quad: Sequence[Sequence[float]], scale: float) -> Box:
    xs = [p[0] / scale for p in quad]
    ys = [p[1] / scale for p in quad]
    return Box(min(xs), min(ys), max(xs), max(ys))


def _spread(box: Box, n: int) -> list[Box]:
    width = (box.x1 - box.x0) / max(n, 1)
    return [
        Box(box.x0 + i * width, box.top, box.x0 + (i + 1) * width, box.bottom) for i in range(n)
    ]
