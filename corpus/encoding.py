"""Bytes that are not UTF-8: recognise the Chinese encodings of older newsroom systems.

GB18030 (a superset of GBK and GB2312) and Big5 are detected with charset-normalizer,
restricted to those encodings so a random binary file is not "detected" as something.
"""

from __future__ import annotations

CHINESE_ENCODINGS = ("gb18030", "big5")


def decode_chinese(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) when `data` reads as GB18030/GBK or Big5 text, else None."""
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(CHINESE_ENCODINGS)).best()
    if best is None or best.encoding not in CHINESE_ENCODINGS:
        return None
    return str(best), best.encoding
