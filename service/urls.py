"""URLs of the API built from parts: every name and id is percent-encoded as one path segment.

A collection name or document id may hold `?`, `#`, `%`, spaces or CJK characters; pasted
into a URL as it is, `a?b` names collection `a` (the rest becomes a query string) and `q%41`
names `qA`. `api_path` is the one place that builds such a path (the CLI's remote mode and
the chat reply's citation links use it).
"""

from __future__ import annotations

from urllib.parse import quote

SEGMENT_SAFE = ":@"
"""Left as they are: a path segment may hold them (RFC 3986 `pchar`), and ids such as
`000_0ad1dae646fc90f2.txt:0` stay readable."""


def api_path(*parts: str) -> str:
    """`/part/part/...`, each part one percent-encoded segment (`/` inside a part included)."""
    return "".join("/" + quote(part, safe=SEGMENT_SAFE) for part in parts)
