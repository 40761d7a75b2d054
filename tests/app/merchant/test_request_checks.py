"""The service refuses early what the forwarder and the target would refuse on chain, in their
words: a signature the forwarder's ECDSA does not accept, a call that runs out of its signed gas.
Accepted, either would only fail after the service had promised to relay it."""

from __future__ import annotations

from typing import Any

from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import (
    error_code,
    forwarder_of,
    post,
    request_data,
    signed_body,
    sku_inputs,
)
from tests.app.merchant.test_requests import (  # noqa: F401
    outbox,
    relay_key,
    shop_settings,
)

# secp256k1's group order: (r, n - s) with v flipped is the same signature's high-s twin, which
# ecrecover accepts and OpenZeppelin's ECDSA (the forwarder's) refuses as malleable.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def with_signature(body: dict[str, Any], signature: bytes) -> dict[str, Any]:
    return {**body, "signature": "0x" + signature.hex()}


def forwarder_accepts(shop: Shop, suite: SuiteDriver, body: dict[str, Any]) -> bool:
    """The forwarder's own ``verify`` of the signed request (signer, nonce, deadline)."""
    return bool(forwarder_of(shop, suite).functions.verify(request_data(body)).call())


def test_signatures_the_forwarder_would_refuse_are_refused_before_acceptance(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    body = signed_body(
        shop, merchant.account, registry, registry.functions.registerItems(sku_inputs("sig", 1))
    )
    signature = bytes.fromhex(body["signature"][2:])
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    assert v in (27, 28) and s <= SECP256K1_N // 2  # as every library signs
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    variants = {
        "v as 0 or 1": with_signature(body, signature[:64] + bytes([v - 27])),
        "high-s twin": with_signature(body, twin),
    }

    answers = {name: error_code(post(shop, variant)) for name, variant in variants.items()}

    # As the forwarder would: it takes the signature as signed, and neither variant.
    assert forwarder_accepts(shop, suite, body)
    assert not any(forwarder_accepts(shop, suite, variant) for variant in variants.values())
    assert answers == {
        "v as 0 or 1": (422, "signature_invalid"),
        "high-s twin": (422, "signature_invalid"),
    }
    assert outbox(shop) == []
    assert post(shop, body).status_code == 202


def test_a_call_that_runs_out_of_its_signed_gas_is_refused_as_the_contract_would_fail_it(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    body = signed_body(
        shop,
        merchant.account,
        registry,
        registry.functions.registerItems(sku_inputs("starved", 5)),
        gas=40_000,
    )

    refused = post(shop, body)

    assert error_code(refused) == (422, "contract_refused")
    assert "gas" in refused.json()["error"]["message"]
    assert outbox(shop) == []


def test_addresses_in_one_case_are_accepted_as_signed_and_a_wrong_checksum_is_refused(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """EIP-712 signs an address's 20 bytes, not its spelling: a client may send it in lower
    case; a mixed-case address that is not its checksum is a typo, refused before anything."""
    registry = suite.registry
    body = signed_body(
        shop, merchant.account, registry, registry.functions.registerItems(sku_inputs("case", 1))
    )
    sender = body["from"]
    letter = next(i for i, c in enumerate(sender) if i > 1 and c.isalpha())
    typo = sender[:letter] + sender[letter].swapcase() + sender[letter + 1 :]

    refused = post(shop, {**body, "from": typo})
    accepted = post(shop, {**body, "from": sender.lower(), "to": body["to"].lower()})

    assert refused.status_code == 422
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["signer"] == sender


def test_a_number_above_the_largest_uint256_is_refused_as_malformed(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    body = signed_body(
        shop, merchant.account, registry, registry.functions.registerItems(sku_inputs("big", 1))
    )

    answers = [post(shop, {**body, field: str(2**256)}) for field in ("gas", "nonce", "value")]

    assert [error_code(answer) for answer in answers] == [(422, "validation_failed")] * 3
