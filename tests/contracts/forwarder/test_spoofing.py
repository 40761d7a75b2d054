"""Nobody but the registry's own forwarder can make a call count as someone else's: appended bytes
from any other caller are only bytes, a second forwarder is trusted by nothing, a registry with
no forwarder trusts none, and the escrow's hand-written reading of the sender is OpenZeppelin's."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.escrow.helpers import CARRIER, ETH, OrderStatus
from tests.contracts.forwarder.calls import error_data, refusal_of_call
from tests.contracts.forwarder.forward_requests import Domain
from tests.contracts.registry.helpers import ZERO_ADDRESS, ItemState, h, sku_key


def suffixed(data: bytes, account: Any) -> bytes:
    """`data` with `account`'s 20 bytes appended, as a forwarder appends its signer's."""
    return bytes(data) + bytes.fromhex(str(getattr(account, "address", account))[2:])


def test_a_direct_caller_appending_a_merchants_address_is_still_itself(
    registry: Any, merchant: Any, other_merchant: Any, register_item: Any
) -> None:
    """The other merchant sends the merchant's address at the end of its own calls: the
    registry reads the suffix only from its forwarder, so every call is still the sender's."""
    spoofer, victim = other_merchant, merchant
    victims_item = register_item(sender=victim)

    recall = registry.recallItem.encode_input(victims_item, h("spoofed recall"))
    with ape.reverts(
        registry.RegistryNotItemCustodian, caller=spoofer.address, itemId=victims_item
    ):
        spoofer.transfer(registry, 0, data=suffixed(recall, victim))
    assert registry.itemOf(victims_item).state == ItemState.ACTIVE

    key = sku_key("SKU-SPOOF", "S1")
    register = registry.registerItem.encode_input(key.as_abi(), h("metadata"), "ipfs://item")
    tx = spoofer.transfer(registry, 0, data=suffixed(register, victim))

    [event] = tx.events.filter(registry.ItemRegistered)
    assert (bytes(event.itemId), event.merchant) == (key.item_id(spoofer), spoofer.address)
    assert registry.itemOf(key.item_id(victim)).merchant == ZERO_ADDRESS


def test_a_direct_caller_appending_the_merchants_address_cannot_ship_its_order(
    escrow: Any, merchant: Any, other_merchant: Any, open_order: Any
) -> None:
    order = open_order()
    ship = escrow.ship.encode_input(order.abi, CARRIER, h("tracking"))

    with ape.reverts(escrow.EscrowNotMerchant, orderId=order.id, caller=other_merchant.address):
        other_merchant.transfer(escrow, 0, data=suffixed(ship, merchant))
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


@pytest.mark.parametrize("domain_of", ["the rogue", "the trusted forwarder"])
def test_a_second_forwarder_cannot_act_for_anyone(
    project: Any,
    admin: Any,
    forwarder: Any,
    registry: Any,
    escrow: Any,
    merchant: Any,
    relayer: Any,
    sign: Any,
    open_order: Any,
    domain_of: str,
) -> None:
    """Another instance of the same forwarder (same name, same version) relays the merchant's
    genuinely signed requests, signed for its domain or for the trusted one: the targets do not
    trust it, so it refuses to call them (`execute`) or skips the request (a batch that
    refunds), and nothing is spent or done."""
    rogue = project.TrustMallForwarder.deploy(sender=admin)
    domain = Domain.of(rogue if domain_of == "the rogue" else forwarder)
    key = sku_key("SKU-ROGUE", "R1")
    register = registry.registerItem.encode_input(key.as_abi(), h("metadata"), "ipfs://item")
    ship = escrow.ship.encode_input(open_order().abi, CARRIER, h("tracking"))

    for target, data in ((registry, register), (escrow, ship)):
        signed = sign(merchant, target, data, domain=domain)
        with ape.reverts(
            rogue.ERC2771UntrustfulTarget, target=target.address, forwarder=rogue.address
        ):
            rogue.execute(signed.as_abi(), sender=relayer)
        tx = rogue.executeBatch([signed.as_abi()], relayer, sender=relayer)
        assert tx.events.filter(rogue.ExecutedForwardRequest) == []

    assert registry.itemOf(key.item_id(merchant)).merchant == ZERO_ADDRESS
    assert (rogue.nonces(merchant), forwarder.nonces(merchant)) == (0, 0)


def test_only_the_registrys_forwarder_is_trusted_and_the_escrow_says_the_same(
    project: Any,
    admin: Any,
    forwarder: Any,
    registry: Any,
    escrow: Any,
    relayer: Any,
    bare_registry: Any,
) -> None:
    rogue = project.TrustMallForwarder.deploy(sender=admin)
    candidates = [forwarder, rogue, registry, escrow, relayer]

    assert registry.trustedForwarder() == forwarder.address
    assert [escrow.isTrustedForwarder(c) for c in candidates] == [True, False, False, False, False]
    assert [registry.isTrustedForwarder(c) for c in candidates] == [True] + [False] * 4
    assert not escrow.isTrustedForwarder(ZERO_ADDRESS)

    # An escrow built on a registry without a forwarder trusts no forwarder either.
    unforwarded = project.OrderEscrow.deploy(admin, bare_registry, admin, sender=admin)
    assert [unforwarded.isTrustedForwarder(c) for c in (forwarder, rogue)] == [False, False]


def test_a_registry_built_with_the_zero_forwarder_treats_every_caller_as_itself(
    project: Any,
    admin: Any,
    verifier: Any,
    forwarder: Any,
    bare_registry: Any,
    merchant: Any,
    other_merchant: Any,
    relayer: Any,
    sign: Any,
) -> None:
    registry = bare_registry
    registry.grantRole(registry.VERIFIER_ROLE(), verifier, sender=admin)
    for shop in (merchant, other_merchant):
        registry.approveMerchant(shop, "Shop", h(f"identity {shop.address}"), sender=verifier)
    assert registry.trustedForwarder() == ZERO_ADDRESS
    key = sku_key("SKU-UNFORWARDED", "U1")
    register = registry.registerItem.encode_input(key.as_abi(), h("metadata"), "ipfs://item")

    # The suite's forwarder will not relay to it: it is not trusted there.
    with ape.reverts(
        forwarder.ERC2771UntrustfulTarget, target=registry.address, forwarder=forwarder.address
    ):
        forwarder.execute(sign(merchant, registry, register).as_abi(), sender=relayer)

    # A caller's appended address is only bytes.
    tx = other_merchant.transfer(registry, 0, data=suffixed(register, merchant))
    [event] = tx.events.filter(registry.ItemRegistered)
    assert event.merchant == other_merchant.address


# How a call reaches the contracts, and whom ERC-2771 says it comes from: (caller, suffix, sender).
SENDER_CASES = {
    "the forwarder, the signer appended": ("forwarder", "shopper", "shopper"),
    "the forwarder, the zero address appended": ("forwarder", "zero", "zero"),
    "a stranger, the signer appended": ("relayer", "shopper", "relayer"),
    "a stranger, nothing appended": ("relayer", None, "relayer"),
}


@pytest.mark.parametrize("case", SENDER_CASES)
def test_the_escrows_sender_is_the_one_openzeppelins_erc2771context_reads(
    simulable_forwarder: Any,
    registry: Any,
    escrow: Any,
    shopper: Any,
    relayer: Any,
    chain: Any,
    case: str,
) -> None:
    """OrderEscrow's `_msgSender` is written out (OpenZeppelin's ERC2771Context did not fit under
    the size limit); the registry uses OpenZeppelin's. Each names its sender in a refusal (the
    registry's of a non-merchant's batch, the escrow's of a withdrawal of nothing): for each way
    a call can arrive, both name the same account, the one ERC-2771 says."""
    accounts = {
        "forwarder": str(simulable_forwarder.address),
        "shopper": str(shopper.address),
        "relayer": str(relayer.address),
        "zero": ZERO_ADDRESS,
    }
    caller, suffix, expected = SENDER_CASES[case]
    sender = accounts[expected]

    def arriving(data: bytes) -> bytes:
        return bytes(data) if suffix is None else suffixed(data, accounts[suffix])

    batch = registry.registerBatch.encode_input(h("root"), 1, h("manifest"), "ipfs://batch")
    withdraw = escrow.withdraw.encode_input(ETH)

    registry_says = refusal_of_call(chain, accounts[caller], registry.address, arriving(batch))
    escrow_says = refusal_of_call(chain, accounts[caller], escrow.address, arriving(withdraw))

    assert registry_says == error_data(registry, "RegistryMerchantNotActive", sender)
    assert escrow_says == error_data(escrow, "EscrowNothingToWithdraw", sender, ETH)
