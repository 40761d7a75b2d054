"""What a signed request allows, and no more: once, before its deadline, on this chain and this
forwarder, with the gas it names; and what a batch does with a request that fails."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
import pytest

from tests.contracts.forwarder.conftest import item_inputs
from tests.contracts.forwarder.forward_requests import Domain
from tests.contracts.registry.helpers import ZERO_ADDRESS, ItemState, h, sku_key

# A relay of twenty items needs about 690,000 gas. At this transaction gas limit it gets past the
# forwarder's checks (about 110,000, most of it calldata) and into the call with about 339,000:
# the call runs out, and the 1/64 kept back (about 5,300) is enough for the forwarder to record
# a failure and spend the nonce (measured: a request signed for up to 333,456 gas fails alone at
# this limit, its nonce spent), were it not for its check that the signed gas was forwarded.
STARVED_ITEMS = 20
STARVED_GAS = 450_000
# What py-evm reports for INVALID, which that check executes (and nothing else on this path).
INVALID_OPCODE = "Invalid opcode 0xfe"


def registration(registry: Any, label: str, count: int = 1) -> tuple[list[Any], bytes]:
    """Keys of `count` fresh items, and the registerItems calldata that registers them."""
    keys = [sku_key(f"SKU-{label}", f"{label}-{n}") for n in range(count)]
    return keys, bytes(registry.registerItems.encode_input(item_inputs(keys)))


def invalid_signer(forwarder: Any, signer: Any, recovered: str) -> Any:
    return ape.reverts(
        forwarder.ERC2771ForwarderInvalidSigner, signer=recovered, **{"from": signer.address}
    )


def test_a_request_runs_once_its_replay_recovers_another_signer(
    forwarder: Any, registry: Any, merchant: Any, relayer: Any, sign: Any
) -> None:
    _, data = registration(registry, "ONCE")
    signed = sign(merchant, registry, data)
    forwarder.execute(signed.as_abi(), sender=relayer)
    # The signature now reads as a signature over the next nonce: someone else's.
    recovered = signed.altered(nonce=1).recovered_signer(Domain.of(forwarder))
    assert recovered != merchant.address

    with invalid_signer(forwarder, merchant, recovered):
        forwarder.execute(signed.as_abi(), sender=relayer)
    # Twice in one batch that refunds: the copy is skipped, not run.
    again = sign(merchant, registry, registration(registry, "TWICE")[1])
    tx = forwarder.executeBatch([again.as_abi()] * 2, relayer, sender=relayer)

    assert len(tx.events.filter(forwarder.ExecutedForwardRequest)) == 1
    assert len(tx.events.filter(registry.ItemRegistered)) == 1
    assert forwarder.nonces(merchant) == 2


def test_an_expired_request_is_refused(
    forwarder: Any, registry: Any, merchant: Any, relayer: Any, sign: Any, chain: Any
) -> None:
    keys, data = registration(registry, "LATE")
    deadline = chain.pending_timestamp - 1
    signed = sign(merchant, registry, data, deadline=deadline)

    with ape.reverts(forwarder.ERC2771ForwarderExpiredRequest, deadline=deadline):
        forwarder.execute(signed.as_abi(), sender=relayer)
    assert registry.itemOf(keys[0].item_id(merchant)).merchant == ZERO_ADDRESS
    assert forwarder.nonces(merchant) == 0


@pytest.mark.parametrize("change", ["another chain", "another forwarder", "another name"])
def test_a_request_signed_for_another_domain_is_refused(
    project: Any,
    admin: Any,
    forwarder: Any,
    registry: Any,
    merchant: Any,
    relayer: Any,
    sign: Any,
    change: str,
) -> None:
    """Signed for the same request on another chain, for another forwarder (a second instance
    at another address), or under another name: here it recovers another signer."""
    domain = Domain.of(forwarder)
    if change == "another chain":
        signed_for = replace(domain, chain_id=domain.chain_id + 1)
    elif change == "another forwarder":
        rogue = project.TrustMallForwarder.deploy(sender=admin)
        signed_for = replace(domain, verifying_contract=str(rogue.address))
    else:
        signed_for = replace(domain, name="OtherMall")
    keys, data = registration(registry, "DOMAIN")
    signed = sign(merchant, registry, data, domain=signed_for)
    recovered = signed.recovered_signer(domain)

    with invalid_signer(forwarder, merchant, recovered):
        forwarder.execute(signed.as_abi(), sender=relayer)
    assert registry.itemOf(keys[0].item_id(merchant)).merchant == ZERO_ADDRESS


@pytest.mark.parametrize("refund_receiver", ["none (all or nothing)", "the relayer"])
def test_a_relayer_forwarding_less_gas_than_signed_reverts_the_whole_relay(
    forwarder: Any,
    registry: Any,
    merchant: Any,
    relayer: Any,
    sign: Any,
    refund_receiver: str,
) -> None:
    """A relayer that wanted the request to fail and its nonce spent (a censor that looks
    honest) gives the transaction too little gas: the call runs out of it, the forwarder sees
    it had less than the signed gas, and reverts everything. The request is still good."""
    receiver = ZERO_ADDRESS if refund_receiver.startswith("none") else relayer.address
    keys, data = registration(registry, "STARVED", STARVED_ITEMS)
    signed = sign(merchant, registry, data)  # signed gas: DEFAULT_GAS, ample

    with pytest.raises(ape.exceptions.ContractLogicError, match=INVALID_OPCODE):
        forwarder.executeBatch([signed.as_abi()], receiver, sender=relayer, gas_limit=STARVED_GAS)
    assert forwarder.nonces(merchant) == 0
    assert registry.itemOf(keys[0].item_id(merchant)).merchant == ZERO_ADDRESS

    tx = forwarder.executeBatch([signed.as_abi()], receiver, sender=relayer)
    assert [e.success for e in tx.events.filter(forwarder.ExecutedForwardRequest)] == [True]
    assert len(tx.events.filter(registry.ItemRegistered)) == STARVED_ITEMS


def test_a_request_signed_with_too_little_gas_fails_alone_and_spends_its_nonce(
    forwarder: Any, registry: Any, merchant: Any, relayer: Any, sign: Any
) -> None:
    """The same relay at the same transaction gas limit, but the signer itself named too little
    gas: the forwarder reaches the call, which runs out, and records the failure: the relay above
    was refused by the forwarder's gas check, not cut short before or after the call."""
    keys, data = registration(registry, "UNDERSIGNED", STARVED_ITEMS)
    signed = sign(merchant, registry, data, gas=60_000)

    tx = forwarder.executeBatch(
        [signed.as_abi()], ZERO_ADDRESS, sender=relayer, gas_limit=STARVED_GAS
    )

    assert tx.events.filter(forwarder.ExecutedForwardRequest) == [
        forwarder.ExecutedForwardRequest(signer=merchant.address, nonce=0, success=False)
    ]
    assert forwarder.nonces(merchant) == 1
    assert registry.itemOf(keys[0].item_id(merchant)).merchant == ZERO_ADDRESS


@pytest.mark.parametrize("refund_receiver", ["none (all or nothing)", "the relayer"])
def test_a_request_its_target_refuses_spends_its_nonce_and_the_rest_of_the_batch_runs(
    forwarder: Any,
    registry: Any,
    merchant: Any,
    other_merchant: Any,
    walletless_merchant: Any,
    relayer: Any,
    sign: Any,
    register_item: Any,
    refund_receiver: str,
) -> None:
    """OpenZeppelin's all-or-nothing batch (no refund receiver) is all or nothing about the
    requests' signatures and deadlines only: a request whose call the target refuses is, in
    either mode, recorded failed (`success = false`) with its nonce spent, and the others run.
    A relayer reads each request's outcome from ExecutedForwardRequest, not the receipt."""
    receiver = ZERO_ADDRESS if refund_receiver.startswith("none") else relayer.address
    merchants_item = register_item()
    first_keys, first = registration(registry, "BATCH-A")
    last_keys, last = registration(registry, "BATCH-C")
    refused = registry.recallItem.encode_input(merchants_item, h("not yours"))
    requests = [
        sign(merchant, registry, first),
        sign(other_merchant, registry, refused),
        sign(walletless_merchant, registry, last),
    ]

    tx = forwarder.executeBatch([r.as_abi() for r in requests], receiver, sender=relayer)

    executed = tx.events.filter(forwarder.ExecutedForwardRequest)
    assert [(e.signer, e.nonce, e.success) for e in executed] == [
        (merchant.address, 0, True),
        (other_merchant.address, 0, False),
        (walletless_merchant.address, 0, True),
    ]
    assert [forwarder.nonces(r.request.sender) for r in requests] == [1, 1, 1]
    assert registry.itemOf(merchants_item).state == ItemState.ACTIVE
    assert registry.itemOf(first_keys[0].item_id(merchant)).merchant == merchant.address
    walletless = walletless_merchant.address
    assert registry.itemOf(last_keys[0].item_id(walletless)).merchant == walletless


def test_an_invalid_request_is_skipped_by_a_refunding_batch_and_reverts_an_atomic_one(
    forwarder: Any,
    registry: Any,
    merchant: Any,
    other_merchant: Any,
    relayer: Any,
    sign: Any,
    chain: Any,
) -> None:
    """An expired request among valid ones: skipped unspent when the batch refunds (its signer
    may sign it again), the whole batch refused when it does not."""
    deadline = chain.pending_timestamp - 1
    expired = sign(
        other_merchant, registry, registration(registry, "EXPIRED")[1], deadline=deadline
    )
    valid = sign(merchant, registry, registration(registry, "VALID")[1])
    batch = [valid.as_abi(), expired.as_abi()]

    with ape.reverts(forwarder.ERC2771ForwarderExpiredRequest, deadline=deadline):
        forwarder.executeBatch(batch, ZERO_ADDRESS, sender=relayer)
    assert forwarder.nonces(merchant) == 0

    tx = forwarder.executeBatch(batch, relayer, sender=relayer)

    executed = tx.events.filter(forwarder.ExecutedForwardRequest)
    assert [(e.signer, e.success) for e in executed] == [(merchant.address, True)]
    assert (forwarder.nonces(merchant), forwarder.nonces(other_merchant)) == (1, 0)
