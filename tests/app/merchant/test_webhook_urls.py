"""A webhook URL's rule is its documented pattern: every string the pattern matches is taken,
and what it does not match is refused with the field and a machine-readable code."""

from __future__ import annotations

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from app.merchant.schemas import WEBHOOK_URL_MAX_LENGTH, WEBHOOK_URL_PATTERN, WebhookUrl
from harness.campaign import examples
from tests.app.index.actors import Shop
from tests.app.index.records import Actor
from tests.app.merchant.support import sign_in

HOOKS = "/v1/merchant/webhooks"
URLS = TypeAdapter(WebhookUrl)
# The validator a generated client (and the API fuzzer) holds `format: uri` to.
URIS = jsonschema_rs.Draft202012Validator({"format": "uri"}, validate_formats=True)


# Drawing from this pattern is slow (~50 ms a URL): a short pass here, thousands in a campaign.
@settings(
    max_examples=examples(40, 5_000), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.from_regex(WEBHOOK_URL_PATTERN, fullmatch=True).filter(
        lambda url: len(url) <= WEBHOOK_URL_MAX_LENGTH
    )
)
def test_every_url_the_documented_pattern_matches_is_a_uri_and_is_taken(url: str) -> None:
    assert URIS.is_valid(url)
    URLS.validate_python(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "HTTPS://Shop-1.example.com:65535/hooks/trustmall?key=a%20b#frag",
        f"https://{'a' * 64}.example/",
    ],
)
def test_host_names_and_ipv4_addresses_with_ports_paths_and_queries_are_taken(url: str) -> None:
    URLS.validate_python(url)


REFUSED = [
    "HTTP://",  # no host: the fuzzer's find
    "gs1:defaultLink",
    "ftp://shop.example/",
    "http://shop.1/",  # a numeric last label reads as an IPv4 address
    "http://999.1.1.1/",
    "http://shop.example:65536/",
    "http://user:secret@shop.example/",
    "http://[::1]/",
    "https://xn--ls8h.la/",
    "http://shop example/",
    "hTTpS://10.254.252.223/*t|",  # "|" is outside RFC 3986: not a `format: uri`
    "http://shop.example/\n",
]


@pytest.mark.parametrize("url", REFUSED)
def test_what_the_pattern_does_not_match_is_not_a_webhook_url(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        URLS.validate_python(url)
    assert refused.value.errors()[0]["type"] == "string_pattern_mismatch"


def test_the_api_refuses_them_naming_the_field_and_the_code(shop: Shop, merchant: Actor) -> None:
    headers = sign_in(shop.client, merchant)

    answers = [shop.client.post(HOOKS, headers=headers, json={"url": url}) for url in REFUSED]

    assert [answer.status_code for answer in answers] == [422] * len(REFUSED)
    for answer in answers:
        (detail,) = answer.json()["error"]["details"]
        assert detail == {**detail, "field": "body.url", "code": "string_pattern_mismatch"}


def test_the_openapi_document_states_the_pattern_the_service_applies(shop: Shop) -> None:
    schemas = shop.client.get("/openapi.json").json()["components"]["schemas"]

    url = schemas["WebhookEndpointCreate"]["properties"]["url"]

    assert url["pattern"] == WEBHOOK_URL_PATTERN and url["maxLength"] == WEBHOOK_URL_MAX_LENGTH
    # The pattern implies `format: uri` (tested above): stated too, it would be the rule twice.
    assert "format" not in url
