"""Where the service may post a merchant's webhooks. A merchant names the URL; in production it
must lead to the public internet, not to the operator's own network (loopback, private,
link-local, reserved or shared addresses), where deliveries and their error messages would let a
merchant probe or reach what only the service can. The name is resolved when the endpoint is
added and again before each attempt; a name that resolves differently between that check and the
connection (DNS rebinding) is left to the network the deliverer runs in (SECURITY.md)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def non_public_address(url: str) -> str | None:
    """The first address the URL's host resolves to that is not a public one, else None (a
    name that does not resolve now has no address to refuse: its deliveries fail and retry)."""
    host = urlsplit(url).hostname
    if not host:
        return None
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        if not ip.is_global:
            return str(ip)
    return None
