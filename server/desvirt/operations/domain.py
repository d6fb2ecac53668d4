"""Pure rules of operations: who the client is behind proxies, which request ids we trust,
and which paths are safe to write into logs. No I/O here."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
# Route parameters that are secrets (feed tokens, handshake codes): logs show the template.
SECRET_PATH_PARAMETERS = ("feed_token", "token", "code")
PUBLIC_FEED_PATH = "/cal/public.ics"


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: tuple[str, ...]) -> str:
    """The address of the client that reached our first trusted proxy.

    `X-Forwarded-For` is read only when the connection itself comes from a trusted proxy;
    then hops are walked from the right (the ones our proxies appended) past every trusted
    address, and the first untrusted one is the client. Anything to its left was written
    by the client and is ignored, so nobody can pick their own rate-limit bucket.
    """
    if not peer:
        return "unknown"
    networks = _networks(trusted)
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    nearest = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return nearest
        if not _is_trusted(address, networks):
            return address
        nearest = address
    return nearest


def acceptable_request_id(value: str | None) -> str | None:
    """An incoming X-Request-ID we can echo and log safely, or None to make our own."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


def loggable_path(path: str, route_template: str | None) -> str:
    """The path for the access log; routes carrying a secret are logged as their template."""
    if route_template and any(f"{{{name}" in route_template for name in SECRET_PATH_PARAMETERS):
        return route_template
    if path.startswith("/cal/") and path != PUBLIC_FEED_PATH:
        return "/cal/{feed_token}.ics"  # even a wrong or rotated token stays out of logs
    return path


def _parse(text: str) -> str | None:
    candidate = text
    if candidate.startswith("[") and "]" in candidate:  # "[2001:db8::1]:443"
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # "203.0.113.9:51234"
        candidate = candidate.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in trusted)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)
