"""Which URLs the fetcher may reach: http and https only, and only public addresses.

A feed is input from outside, and so is every link in it and every redirect its server
sends. Without a rule, `POST …/sources` would make the service a proxy into its own network
(server-side request forgery): `http://127.0.0.1:8000/v1/index/reload`, a cloud's metadata
service at 169.254.169.254, an intranet host at 10.0.0.1. So every address a host name
resolves to must be global (not private, loopback, link-local, shared, reserved, multicast
or unspecified, IPv4-mapped IPv6 included), unless the operator names the host in
`RAGQA_FETCH_ALLOW_HOSTS`. The fetcher then connects to the address that was checked, never
resolving the name again (a DNS answer that changes in between cannot steer it inside).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from corpus.web.errors import FetchFailed, FetchRefused

SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Target:
    """A URL split into what the connection needs."""

    url: str
    scheme: str
    host: str
    """Lower case, without brackets (an IPv6 literal is bare)."""
    port: int


def parse_target(url: str) -> Target:
    """The URL's scheme, host and port, or FetchRefused saying why it cannot be fetched."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(url, f"not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise FetchRefused(url, f"{shown} is not fetched: only http and https URLs are")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused(url, "the URL names no host")
    return Target(url.strip(), scheme, host, port or (443 if scheme == "https" else 80))


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (what the public internet is)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


def allowed(host: str, allow_hosts: frozenset[str]) -> bool:
    """Whether the operator named `host` (a name or an address literal) as reachable."""
    return host.lower().strip("[]") in allow_hosts


def resolve(target: Target, allow_hosts: frozenset[str]) -> str:
    """The address to connect to for `target`: the first one its host resolves to, after
    every one was checked (FetchRefused naming a non-public one, unless the host is allowed).
    """
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(target.url, f"the host {target.host!r} does not resolve ({exc})") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailed(target.url, f"the host {target.host!r} has no address")
    if not allowed(target.host, allow_hosts):
        for address in addresses:
            if not is_public(address):
                raise FetchRefused(
                    target.url,
                    f"{target.host} resolves to {address}, a private, loopback, link-local or "
                    "reserved address; the fetcher only reaches public addresses unless the "
                    "host is listed in RAGQA_FETCH_ALLOW_HOSTS",
                )
    return addresses[0]
