"""Why a URL was not fetched: refused by a rule (permanent) or failed (worth a retry)."""

from __future__ import annotations


class FetchError(Exception):
    """A URL that gave no usable response; `reason` says why in plain words."""

    permanent = False
    """True when fetching it again cannot help (a rule refused it): a poll marks such an item
    seen, with the reason, instead of trying it at every poll."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FetchRefused(FetchError):
    """Refused by a rule: not http(s), a private address, robots.txt, over the size or time
    limit, not a feed or page that can be read."""

    permanent = True


class FetchFailed(FetchError):
    """The network or the server failed (no such host, connection refused, a 5xx)."""
