"""GS1 company prefixes: a GTIN-keyed id is claimable only by the merchant a verifier granted its
company prefix (as GS1 licenses prefixes); grants never reach into another merchant's range."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.registry.helpers import ZERO_ADDRESS, ItemKey, Verdict, gs1_key, h

# GS1 Digital Link's example: GTIN-13 9506000134352, company prefix 9506000 (7 digits).
GTIN = "9506000134352"
PREFIX = "9506000"
# A GTIN-14 (indicator 1) of U.P.C. company 614141, whose GTIN-13 form of the prefix is 0614141.
GTIN14 = "10614141000415"
UPC_PREFIX = "0614141"


@pytest.fixture
def grant(registry: Any, verifier: Any) -> Any:
    def run(prefix: str, merchant: Any) -> Any:
        return registry.grantGs1Prefix(prefix, merchant, sender=verifier)

    return run


def register(registry: Any, key: ItemKey, sender: Any) -> bytes:
    tx = registry.registerItem(key.as_abi(), h("metadata"), "ipfs://gs1", sender=sender)
    return bytes(tx.events.filter(registry.ItemRegistered)[0].itemId)


def test_grant_records_the_holder_and_emits_event(
    registry: Any, verifier: Any, merchant: Any, grant: Any
) -> None:
    tx = grant(PREFIX, merchant)

    assert tx.events == [
        registry.Gs1PrefixGranted(prefix=PREFIX, merchant=merchant.address, verifier=verifier)
    ]
    assert registry.gs1PrefixHolder(PREFIX) == merchant.address
    assert registry.merchantOf(merchant).gs1PrefixLengths == 1 << len(PREFIX)


def test_merchant_registers_a_gtin_under_its_granted_prefix(
    registry: Any, merchant: Any, grant: Any
) -> None:
    grant(PREFIX, merchant)
    key = gs1_key(GTIN, "A1")

    item_id = register(registry, key, merchant)

    assert item_id == registry.gs1ItemId(GTIN, "A1") == key.item_id(merchant)
    assert registry.itemIdOfKey(merchant, key.as_abi()) == item_id
    assert registry.itemOf(item_id).merchant == merchant.address
    assert registry.verify(item_id) == Verdict.AUTHENTIC


def test_gs1_registration_needs_a_granted_prefix(registry: Any, merchant: Any) -> None:
    key = gs1_key(GTIN, "A1")

    with ape.reverts(registry.RegistryGs1PrefixNotGranted, merchant=merchant.address, gtin=GTIN):
        registry.registerItem(key.as_abi(), h("m"), "ipfs://x", sender=merchant)
    with ape.reverts(registry.RegistryGs1PrefixNotGranted, merchant=merchant.address, gtin=GTIN):
        registry.itemIdOfKey(merchant, key.as_abi())


def test_rival_cannot_register_a_gtin_under_another_merchants_prefix(
    registry: Any, merchant: Any, other_merchant: Any, grant: Any
) -> None:
    grant(PREFIX, merchant)
    grant("4006381", other_merchant)
    key = gs1_key(GTIN, "A1")

    with ape.reverts(
        registry.RegistryGs1PrefixNotGranted, merchant=other_merchant.address, gtin=GTIN
    ):
        registry.registerItem(key.as_abi(), h("squat"), "ipfs://squat", sender=other_merchant)

    assert registry.itemOf(key.item_id(merchant)).merchant == ZERO_ADDRESS
    register(registry, key, merchant)


def test_every_padding_of_a_gtin_names_the_same_id(
    registry: Any, merchant: Any, grant: Any
) -> None:
    grant(PREFIX, merchant)
    item_id = register(registry, gs1_key(GTIN, "A1"), merchant)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(gs1_key("0" + GTIN, "A1").as_abi(), h("m"), "x", sender=merchant)


def test_gtin14_with_an_indicator_digit_is_read_under_its_company_prefix(
    registry: Any, merchant: Any, grant: Any
) -> None:
    grant(PREFIX, merchant)
    grant(UPC_PREFIX, merchant)

    item_id = register(registry, gs1_key(GTIN14, "CASE-7"), merchant)

    assert item_id == registry.gs1ItemId(GTIN14, "CASE-7")
    assert registry.merchantOf(merchant).gs1PrefixLengths == 1 << 7


@pytest.mark.parametrize("prefix", ["950", "9506000134352", "95O6000", "9506 00", "", "-9506"])
def test_grant_reverts_for_a_prefix_that_is_not_4_to_12_digits(
    registry: Any, merchant: Any, grant: Any, prefix: str
) -> None:
    with ape.reverts(registry.RegistryInvalidGs1Prefix, prefix=prefix):
        grant(prefix, merchant)


@pytest.mark.parametrize("prefix", ["9506", "950600013435"])
def test_grant_accepts_the_shortest_and_longest_prefixes(
    registry: Any, merchant: Any, grant: Any, prefix: str
) -> None:
    grant(prefix, merchant)

    assert registry.gs1PrefixHolder(prefix) == merchant.address


def test_grant_reverts_for_an_unknown_merchant(registry: Any, shopper: Any, grant: Any) -> None:
    with ape.reverts(registry.RegistryMerchantUnknown, merchant=shopper.address):
        grant(PREFIX, shopper)


@pytest.mark.parametrize("inner", [PREFIX, PREFIX + "1", PREFIX + "13435"])
def test_grant_refuses_a_prefix_inside_another_merchants(
    registry: Any, merchant: Any, other_merchant: Any, grant: Any, inner: str
) -> None:
    grant(PREFIX, merchant)

    with ape.reverts(registry.RegistryGs1PrefixTaken, prefix=inner, holder=merchant.address):
        grant(inner, other_merchant)
    assert registry.gs1PrefixHolder(inner) == (
        merchant.address if inner == PREFIX else ZERO_ADDRESS
    )


def test_grant_refuses_the_same_prefix_twice(registry: Any, merchant: Any, grant: Any) -> None:
    grant(PREFIX, merchant)

    with ape.reverts(registry.RegistryGs1PrefixTaken, prefix=PREFIX, holder=merchant.address):
        grant(PREFIX, merchant)


def test_revoke_stops_new_registrations_and_keeps_registered_items(
    registry: Any, verifier: Any, merchant: Any, grant: Any
) -> None:
    grant(PREFIX, merchant)
    kept = register(registry, gs1_key(GTIN, "A1"), merchant)

    tx = registry.revokeGs1Prefix(PREFIX, sender=verifier)

    assert tx.events == [
        registry.Gs1PrefixRevoked(prefix=PREFIX, merchant=merchant.address, verifier=verifier)
    ]
    assert registry.gs1PrefixHolder(PREFIX) == ZERO_ADDRESS
    with ape.reverts(registry.RegistryGs1PrefixNotGranted, merchant=merchant.address, gtin=GTIN):
        registry.registerItem(gs1_key(GTIN, "A2").as_abi(), h("m"), "x", sender=merchant)
    assert registry.verify(kept) == Verdict.AUTHENTIC


def test_revoked_prefix_can_be_granted_to_its_rightful_owner(
    registry: Any, verifier: Any, merchant: Any, other_merchant: Any, grant: Any
) -> None:
    grant(PREFIX, merchant)
    squatted = register(registry, gs1_key(GTIN, "A1"), merchant)
    registry.revokeGs1Prefix(PREFIX, sender=verifier)

    grant(PREFIX, other_merchant)

    register(registry, gs1_key(GTIN, "A2"), other_merchant)
    # An id registered before the revocation stays with its registrant until a verifier moves it.
    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=squatted):
        registry.registerItem(gs1_key(GTIN, "A1").as_abi(), h("m"), "x", sender=other_merchant)


def test_revoke_reverts_for_a_prefix_nobody_holds(registry: Any, verifier: Any) -> None:
    with ape.reverts(registry.RegistryGs1PrefixNotHeld, prefix=PREFIX):
        registry.revokeGs1Prefix(PREFIX, sender=verifier)


@pytest.mark.parametrize("caller", ["admin", "merchant", "oracle", "shopper"])
def test_prefix_grants_and_revocations_are_the_verifiers(
    registry: Any, merchant: Any, grant: Any, request: Any, caller: str
) -> None:
    account = request.getfixturevalue(caller)
    grant(PREFIX, merchant)
    role = registry.VERIFIER_ROLE()

    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=account.address, neededRole=role
    ):
        registry.grantGs1Prefix("4006381", account, sender=account)
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=account.address, neededRole=role
    ):
        registry.revokeGs1Prefix(PREFIX, sender=account)


def test_grant_refuses_a_prefix_covering_a_longer_one_another_merchant_holds(
    registry: Any, verifier: Any, merchant: Any, other_merchant: Any, grant: Any
) -> None:
    """Granted prefixes never nest: a shorter grant over a longer one would let its holder register
    GTINs of the longer prefix's range, another merchant's items."""
    grant(PREFIX, merchant)

    for covering in (PREFIX[:4], PREFIX[:6]):
        with ape.reverts(registry.RegistryGs1PrefixTaken, prefix=covering, holder=ZERO_ADDRESS):
            grant(covering, other_merchant)

    registry.revokeGs1Prefix(PREFIX, sender=verifier)
    grant(PREFIX[:4], other_merchant)
    assert registry.gs1PrefixHolder(PREFIX[:4]) == other_merchant.address
