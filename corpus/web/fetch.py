"""Fetch one URL under the operator's rules: the `Fetcher` every feed, sitemap and page goes
through.

Every fetch:
- is http or https, to a public address (`corpus.web.addresses`), connecting to the address
  that was checked; each redirect (at most `max_redirects`) is checked the same way;
- obeys the host's robots.txt (`corpus.web.robots`) for the `user_agent`;
- sends the documented User-Agent (`USER_AGENT`, or `RAGQA_FETCH_USER_AGENT`);
- ends within `timeout_s` of reading (a server that trickles a feed forever is cut off there;
  a server that sends nothing at all is cut off by the same socket timeout, so a fetch never
  runs past twice `timeout_s`, plus name resolution);
- reads at most `max_bytes` of the decoded body, streamed: a 50 MB page is refused at the
  first chunk past the limit (or at once, from its Content-Length), never held whole; gzip
  and deflate are decompressed chunk by chunk under the same limit (a compression bomb
  stops there too);
- sends `If-None-Match` / `If-Modified-Since` when the caller has a validator, so an
  unchanged feed costs a 304 and no body.

Library code: the policy comes in as a `FetchPolicy`, built from the settings at the edge.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin

import httpx

from corpus.web.addresses import Target, parse_target, resolve
from corpus.web.errors import FetchError, FetchFailed, FetchRefused
from corpus.web.robots import ROBOTS_MAX_BYTES, Robots, robots_of

USER_AGENT = "ragqa/1.0 (news feed and page fetcher; +https://github.com/ragqa/ragqa)"
"""What every request sends, unless the operator sets RAGQA_FETCH_USER_AGENT (set it to
name your organisation and a contact address). Its product token, `ragqa`, is what
robots.txt rules match (``User-agent: ragqa``)."""
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.9, application/xhtml+xml;q=0.9, */*;q=0.5"
)
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK_BYTES = 16 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """The operator's rules for every fetch (from `RAGQA_FETCH_*` settings)."""

    user_agent: str = USER_AGENT
    timeout_s: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    allow_hosts: frozenset[str] = frozenset()
    """Hosts (names or address literals) reachable even at a private or loopback address."""
    max_redirects: int = 5


@dataclass(frozen=True)
class Fetched:
    """One response: 200 with its body, or 304 (not modified since the validators sent)."""

    url: str
    """The URL that answered (after redirects)."""
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Fetcher:
    """Gets URLs under a `FetchPolicy`; remembers each host's robots.txt for its lifetime
    (one poll), so a feed of 50 items reads its host's robots.txt once."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)
    _robots: dict[tuple[str, str, int], Robots] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            # No proxy or netrc from the environment: a proxy would connect to the name
            # itself, past the address check.
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout_s),
            headers={"User-Agent": self.policy.user_agent, "Accept": ACCEPT},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """The response for `url`, after redirects; FetchRefused or FetchFailed naming the URL
        and the reason."""
        validators = {}
        if etag:
            validators["If-None-Match"] = etag
        if last_modified:
            validators["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.policy.timeout_s
        current = url
        for _ in range(self.policy.max_redirects + 1):
            target = parse_target(current)
            address = resolve(target, self.policy.allow_hosts)  # before robots.txt is read
            self._check_robots(target)
            fetched, location = self._request(
                target, validators, deadline, self.policy.max_bytes, address=address
            )
            if location is None:
                return fetched
            current = urljoin(current, location)
        raise FetchRefused(url, f"more than {self.policy.max_redirects} redirects")

    def _check_robots(self, target: Target) -> None:
        key = (target.scheme, target.host, target.port)
        robots = self._robots.get(key)
        if robots is None:
            robots = self._read_robots(target)
            self._robots[key] = robots
        if not robots.allows(target.url, self.policy.user_agent):
            why = (
                f" ({robots.unreachable}: treated as disallowing all)" if robots.unreachable else ""
            )
            raise FetchRefused(target.url, f"disallowed by the site's robots.txt{why}")

    def _read_robots(self, target: Target) -> Robots:
        port = "" if target.port == (443 if target.scheme == "https" else 80) else f":{target.port}"
        host = f"[{target.host}]" if ":" in target.host else target.host
        robots_url = f"{target.scheme}://{host}{port}/robots.txt"
        deadline = time.monotonic() + self.policy.timeout_s
        current = robots_url
        try:
            for _ in range(self.policy.max_redirects + 1):
                fetched, location = self._request(
                    parse_target(current), {}, deadline, ROBOTS_MAX_BYTES, ok_only=False
                )
                if location is None:
                    return robots_of(fetched.status, fetched.body)
                current = urljoin(current, location)
        except FetchError as exc:
            return Robots(unreachable=f"robots.txt could not be read: {exc.reason}")
        return Robots(unreachable="robots.txt redirects too often")

    def _request(
        self,
        target: Target,
        headers: dict[str, str],
        deadline: float,
        max_bytes: int,
        *,
        ok_only: bool = True,
        address: str | None = None,
    ) -> tuple[Fetched, str | None]:
        """One GET to the checked `address` (resolved here when not given): (the response,
        None), or (the redirect, its Location)."""
        address = address or resolve(target, self.policy.allow_hosts)
        url = httpx.URL(target.url)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self._client.build_request(
            "GET",
            url.copy_with(host=address),
            headers={**headers, "Host": url.netloc.decode("ascii")},
            extensions=extensions,
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise FetchFailed(target.url, f"no answer within {self.policy.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(target.url, f"the connection failed ({exc})") from exc
        try:
            status = response.status_code
            if status in REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise FetchRefused(target.url, f"a {status} redirect without a Location")
                return Fetched(target.url, status), location
            if status == 304:
                return Fetched(target.url, 304, etag=response.headers.get("etag")), None
            if ok_only and status >= 400:
                kind = FetchFailed if status >= 500 or status in (408, 429) else FetchRefused
                raise kind(target.url, f"the server answered {status} {response.reason_phrase}")
            body = read_body(response, target.url, deadline, max_bytes, self.policy.timeout_s)
            return (
                Fetched(
                    target.url,
                    status,
                    body,
                    response.headers.get("content-type", ""),
                    response.headers.get("etag"),
                    response.headers.get("last-modified"),
                ),
                None,
            )
        finally:
            response.close()


def read_body(
    response: httpx.Response, url: str, deadline: float, max_bytes: int, timeout_s: float
) -> bytes:
    """The decoded body, streamed: FetchRefused past `max_bytes` or past the `deadline`."""
    too_big = f"over the size limit of {max_bytes:,} bytes (RAGQA_FETCH_MAX_BYTES)"
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise FetchRefused(url, f"{int(length):,} bytes, {too_big}")
    coding = response.headers.get("content-encoding", "").strip().lower()
    decoder = None
    if coding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, detected
    elif coding not in ("", "identity"):
        raise FetchRefused(url, f"content encoding {coding!r} is not supported")
    body = bytearray()
    try:
        for raw in response.iter_raw(CHUNK_BYTES):
            if time.monotonic() > deadline:
                raise FetchRefused(
                    url,
                    f"not finished within {timeout_s:g} s (RAGQA_FETCH_TIMEOUT_S) after "
                    f"{len(body):,} bytes; a feed or page that never ends is cut off",
                )
            if decoder is None:
                body += raw
            else:
                body += decoder.decompress(raw, max_bytes + 1 - len(body))
                if decoder.unconsumed_tail:
                    raise FetchRefused(url, too_big)
            if len(body) > max_bytes:
                raise FetchRefused(url, too_big)
    except httpx.TimeoutException as exc:
        raise FetchRefused(url, f"the body stalled for {timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(url, f"the connection broke while reading ({exc})") from exc
    except zlib.error as exc:
        raise FetchRefused(url, f"a broken {coding} body ({exc})") from exc
    return bytes(body)
