"""Whether a question has anything to search for: a letter, a digit or a CJK character.

A question of only emoji, punctuation, symbols or control characters (``"\\u0000"``, 1,000
NULs, 1,000 emoji) has no word that BM25 could match and nothing the encoder can read as a
question; its nearest passages are noise, and an answer chosen from them would be confidently
wrong. The engine answers such a question with no passages and `answer = None` without running
the model. Characters are NFKC-normalised first, so full-width digits and letters count.
"""

from __future__ import annotations

import unicodedata


def has_searchable_content(text: str) -> bool:
    """True when `text` holds a letter or a digit (Unicode categories L* and N*, CJK included)
    after NFKC normalisation."""
    normalized = unicodedata.normalize("NFKC", text)
    return any(unicodedata.category(ch)[0] in "LN" for ch in normalized)
