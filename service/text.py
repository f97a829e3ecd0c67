"""Text the service refuses before any model sees it: lone UTF-16 surrogates.

JSON can spell a surrogate code point alone (``"\\ud800"``, ``"\\uDFFF"``, or a low one
before a high one, ``"\\udc00\\ud800"``); Python decodes it into a `str` that is not valid
Unicode and cannot be encoded as UTF-8, so tokenizers and JSON encoders fail on it. Every text
field is checked with `lone_surrogate_message` (by `service.routing` for whole JSON bodies, and
by `service.schemas.clean_question` for the CLI, whose argv can carry them too).
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_message(text: str) -> str | None:
    """Why `text` is refused (plain words, position and code point), or None if it is fine."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"contains a lone UTF-16 surrogate (U+{ord(found.group()):04X}) at character "
        f"{found.start()}, which is not valid Unicode; send text as valid UTF-8"
    )
