"""The client a per-client budget counts (``app.api.clients.client_key``)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from app.api.clients import client_key


def request_from(host: str | None) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    if host is not None:
        scope["client"] = (host, 50_000)
    return Request(scope)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(host: str | None, key: str) -> None:
    assert client_key(request_from(host)) == key


def test_addresses_of_one_ipv6_64_share_a_budget_and_a_neighbouring_64_does_not() -> None:
    first, second = (client_key(request_from(f"2001:db8::{n}")) for n in (1, 2))
    neighbour = client_key(request_from("2001:db8:0:1::1"))
    assert first == second != neighbour
