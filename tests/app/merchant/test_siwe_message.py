"""The EIP-4361 grammar: the EIP's own example parses into its fields and prints back the same;
what breaks the grammar is refused with a sentence."""

from __future__ import annotations

import pytest

from app.merchant.siwe_message import SiweMessageInvalid, format_siwe_message, parse_siwe_message

# The example message of EIP-4361.
EXAMPLE = """service.invalid wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ServiceOrg Terms of Service: https://service.invalid/tos

URI: https://service.invalid/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""


def test_the_eip_example_parses_and_prints_back_the_same() -> None:
    message = parse_siwe_message(EXAMPLE)
    assert message.domain == "service.invalid"
    assert message.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert (
        message.statement == "I accept the ServiceOrg Terms of Service: https://service.invalid/tos"
    )
    assert message.chain_id == 1
    assert message.nonce == "32891756"
    assert message.issued_at.isoformat() == "2021-09-30T16:25:24+00:00"
    assert message.expiration_time is None
    assert len(message.resources) == 2
    assert format_siwe_message(message) == EXAMPLE


def test_a_message_without_statement_and_with_every_optional_field_round_trips() -> None:
    # Without a statement the address is followed by two empty lines (the EIP's ABNF).
    text = EXAMPLE.replace(
        "I accept the ServiceOrg Terms of Service: https://service.invalid/tos\n", ""
    ).replace(
        "Issued At: 2021-09-30T16:25:24Z\n",
        "Issued At: 2021-09-30T16:25:24Z\nExpiration Time: 2021-10-01T16:25:24Z\n"
        "Not Before: 2021-09-30T16:25:24Z\nRequest ID: abc-1\n",
    )
    message = parse_siwe_message(text)
    assert message.statement is None
    assert message.request_id == "abc-1"
    assert format_siwe_message(message) == text


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (
            EXAMPLE.replace(
                "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
                "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",
            ),
            "checksummed",
        ),
        (EXAMPLE.replace("Nonce: 32891756", "Nonce: 123"), "Nonce"),
        (EXAMPLE.replace("Chain ID: 1\n", ""), "Chain ID"),
        (EXAMPLE.replace("Chain ID: 1", "Chain ID: 01"), "Chain ID"),
        (EXAMPLE.replace("2021-09-30T16:25:24Z", "yesterday"), "Issued At"),
        (EXAMPLE.replace("Version: 1\nChain ID: 1", "Chain ID: 1\nVersion: 1"), "unexpected"),
        (EXAMPLE.replace(" wants you", " would like you"), "first line"),
        (EXAMPLE.replace("- ipfs", "ipfs"), "resource"),
    ],
)
def test_a_broken_message_is_refused_with_what_is_wrong(broken: str, says: str) -> None:
    with pytest.raises(SiweMessageInvalid, match=says):
        parse_siwe_message(broken)
