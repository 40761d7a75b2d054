"""Who a request's client is, for the budgets kept per client (rate limits).

The address is the one uvicorn gives: the peer's, or, from a proxy it trusts
(``FORWARDED_ALLOW_IPS``, by default this host), the rightmost address the proxy appended to
``X-Forwarded-For``. An IPv6 client counts as its /64: one home network or host is handed a whole
/64, so a budget per /128 would be 2^64 budgets for one client.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

IPV6_CLIENT_PREFIX = 64


def client_key(request: Request) -> str:
    """The client a per-client budget counts: its IPv4 address, or its IPv6 /64."""
    host = request.client.host if request.client else None
    if host is None:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name (a test client's "testclient"): counted as it is
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return str(network)
    return str(address)
