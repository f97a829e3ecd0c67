"""robots.txt, read with protego: may the fetcher get this URL?

Why protego rather than the standard library's `urllib.robotparser`: protego follows RFC 9309
and Google's reading of it (the longest matching rule wins, `Allow` can override a shorter
`Disallow`, `*` and `$` wildcards in paths), which is how the sites' own authors test their
files; `robotparser` applies the first rule that matches in file order and knows no
wildcards, so it both blocks pages a site allows and fetches pages it disallows. protego is
pure Python, small and maintained (Scrapy's parser). Fetching robots.txt stays ours: the same
time and size limits and address rules as any fetch (`robotparser.read()` would fetch with
urllib, past all of them).

What a robots.txt answer means (RFC 9309, section 2.3.1): a 2xx body is parsed; any 4xx
(none, or forbidden) allows everything; a 5xx, a network failure or a refused fetch disallows
everything on that host until the next poll, as the RFC asks of an unreachable file.
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego

ROBOTS_MAX_BYTES = 512 * 1024
"""RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt."""


@dataclass(frozen=True)
class Robots:
    """The rules of one host: parsed rules, allow-all (None), or disallow-all with the why."""

    rules: Protego | None = None
    unreachable: str | None = None
    """Why robots.txt could not be read; set, every URL of the host is disallowed."""

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unreachable is not None:
            return False
        return self.rules is None or bool(self.rules.can_fetch(url, user_agent))


def robots_of(status: int, body: bytes) -> Robots:
    """The rules a robots.txt response states (see the module docstring)."""
    if 200 <= status < 300:
        return Robots(rules=Protego.parse(body.decode("utf-8", "replace")))
    if 400 <= status < 500:
        return Robots()
    return Robots(unreachable=f"robots.txt answered {status}")
