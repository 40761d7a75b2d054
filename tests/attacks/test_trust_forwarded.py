"""Attacks 1 and 4 of the threat model (SECURITY.md §4.1, §4.4) sent through the suite's ERC-2771
forwarder: the attacker signs, a relayer sends. The escrow and the registry refuse the call the
forwarder makes with exactly the error the direct attack gets (test_trust.py), the forwarder's
`execute` reverts, nothing changes, and the attacker's request nonce is not spent.

OpenZeppelin's forwarder drops the target's revert data (`execute` reverts with `FailedCall()`),
so the target's own refusal is read by simulating the forwarder's call: `eth_call` from the
forwarder's address with the signer's 20 bytes appended, as ERC-2771 sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3.exceptions import ContractCustomError, ContractLogicError

from app.domain.orders import ZERO_ADDRESS
from tests.attacks.conftest import Actors, Suite, error_data, gs1_key, now_of, refusal
from tests.attacks.trust_steps import GTIN, claim_gtin, label, recall_item, register_item
from tests.contracts.escrow.helpers import OrderStatus, Terms
from tests.contracts.forwarder.forward_requests import Domain, ForwardRequest, SignedRequest

HOUR = 3_600


def signed_request(
    suite: Suite, provider: Any, signer: Any, target: Any, data: bytes, value: int = 0
) -> SignedRequest:
    """`signer`'s request for the call, at its next forwarder nonce, valid for an hour."""
    request = ForwardRequest(
        sender=signer.address,
        to=str(target.address),
        data=bytes(data),
        nonce=int(suite.forwarder.nonces(signer.address)),
        deadline=now_of(provider) + HOUR,
        value=value,
    )
    return request.signed(signer.private_key, Domain.of(suite.forwarder))


def call_refusal(provider: Any, sender: str, to: str, data: bytes, value: int) -> bytes | None:
    """The revert data of `sender`'s call, None when it succeeds. Simulated with no gas price
    (Anvil then charges no gas) and, for the forwarder, which holds no ETH of its own, a balance
    overridden for this call only to cover the value the relayer would attach."""
    call = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": value}
    funded = {sender: {"balance": hex(value)}} if value else None
    try:
        provider.web3.eth.call(call, "latest", funded)
    except (ContractCustomError, ContractLogicError) as refused:
        return bytes.fromhex(str(refused.data or "0x").removeprefix("0x"))
    return None


def assert_refused_as_directly(
    suite: Suite, provider: Any, relayer: Any, signed: SignedRequest, expected: bytes
) -> None:
    request = signed.request
    forwarder = str(suite.forwarder.address)
    as_forwarded = call_refusal(
        provider, forwarder, request.to, signed.forwarded_calldata(), request.value
    )
    as_direct = call_refusal(provider, request.sender, request.to, request.data, request.value)
    assert as_forwarded == as_direct == expected
    nonce = int(suite.forwarder.nonces(request.sender))

    relayed = refusal(
        lambda: suite.forwarder.execute(signed.as_abi(), value=request.value, sender=relayer)
    )

    assert relayed == error_data(suite.forwarder, "FailedCall")
    assert suite.forwarder.nonces(request.sender) == nonce


def test_attack1_through_the_forwarder_a_rivals_recalled_item_is_refused_as_a_decoy(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms], provider: Any
) -> None:
    """The buyer signs the decoy order (rival R's recalled item D beside M's item X, paid in ETH
    the relayer attaches as the request's value) and a stranger relays it."""
    decoy = register_item(suite, actors.rival, label("forwarded decoy D"))
    recall_item(suite, actors.rival, decoy)
    real = register_item(suite, actors.merchant, label("forwarded sku X"))
    terms = terms_for(item_ids=(real, decoy))
    data = suite.escrow.open.encode_input(terms.as_abi())
    signed = signed_request(suite, provider, actors.buyer, suite.escrow, data, terms.amount)

    assert_refused_as_directly(
        suite,
        provider,
        actors.stranger,
        signed,
        error_data(suite.registry, "RegistryItemNotOfMerchant", decoy, actors.merchant.address),
    )
    assert suite.escrow.orderOf(terms.order_id).status == OrderStatus.NONE
    assert not suite.registry.itemOf(real).held


def test_attack4_through_the_forwarder_a_rival_cannot_register_a_brands_gtin(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    """R signs the registration of brand M's GTIN and a stranger relays it: a GS1 id is the
    signer's only under a prefix a verifier granted the signer."""
    claim_gtin(suite, actors, actors.merchant, GTIN)
    serial = f"SN{label('forwarded gs1').split()[-1]}"
    item = bytes(suite.registry.gs1ItemId(GTIN, serial))
    data = suite.registry.registerItem.encode_input(
        gs1_key(GTIN, serial), b"\x01" * 32, "ipfs://squat"
    )
    signed = signed_request(suite, provider, actors.rival, suite.registry, data)

    assert_refused_as_directly(
        suite,
        provider,
        actors.stranger,
        signed,
        error_data(suite.registry, "RegistryGs1PrefixNotGranted", actors.rival.address, GTIN),
    )
    assert suite.registry.itemOf(item).merchant == ZERO_ADDRESS
