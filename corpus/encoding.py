"""Naming the likely encoding of a file that is not UTF-8, so a refusal says how to fix it.

The corpus is read as UTF-8 only (a wrong guess would corrupt every offset silently), but a
file saved as GBK/GB18030 or Big5 is common for Chinese news, and the message for it should
say so. charset-normalizer makes the guess; Chinese encodings are preferred among its
candidates, since a short GBK text is also valid Big5 or Shift-JIS byte soup.
"""

from __future__ import annotations

SNIFF_BYTES = 64 * 1024

_CHINESE: dict[str, tuple[str, str]] = {
    "gb18030": ("GB18030", "GBK/GB18030 (Simplified Chinese)"),
    "gbk": ("GB18030", "GBK/GB18030 (Simplified Chinese)"),
    "gb2312": ("GB18030", "GBK/GB18030 (Simplified Chinese)"),
    "hz": ("GB18030", "GBK/GB18030 (Simplified Chinese)"),
    "big5": ("BIG5", "Big5 (Traditional Chinese)"),
    "big5hkscs": ("BIG5-HKSCS", "Big5-HKSCS (Traditional Chinese)"),
    "cp950": ("BIG5", "Big5 (Traditional Chinese)"),
}


def guess_encoding(data: bytes) -> tuple[str, str] | None:
    """(iconv name, description) of the likely encoding of `data`, or None if unknown."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data[:SNIFF_BYTES]))
    for match in matches:
        if match.encoding in _CHINESE:
            return _CHINESE[match.encoding]
    if matches:
        name = matches[0].encoding
        return name.upper().replace("_", "-"), name.replace("_", "-")
    return None


def not_utf8_hint(data: bytes) -> str:
    """The sentence to append to a "not valid UTF-8" message ('' when there is no guess)."""
    guess = guess_encoding(data)
    if guess is None:
        return ""
    iconv, description = guess
    return (
        f"; it looks like {description}: convert it with "
        f"`iconv -f {iconv} -t UTF-8 FILE > FILE.utf8.txt` and index that"
    )
