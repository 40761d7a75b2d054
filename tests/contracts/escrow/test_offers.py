"""Settlement by agreement: either side offers a split of the remainder, valid until a time it
sets and withdrawable until accepted; the other side accepts it."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.escrow.helpers import (
    BPS,
    DAY,
    OrderStatus,
    SettlementKind,
    credits_of,
    split,
)


@pytest.fixture
def expires(chain: Any) -> int:
    """An expiry a day after the next block."""
    return int(chain.pending_timestamp) + DAY


def test_settlement_offered_by_merchant_settles_when_buyer_accepts(
    escrow: Any,
    delivered_order: Any,
    merchant: Any,
    buyer: Any,
    fee_recipient: Any,
    asset: Any,
    expires: int,
) -> None:
    offered = escrow.offerSettlement(delivered_order.abi, 2_500, expires, sender=merchant)
    assert offered.events == [
        escrow.SettlementOffered(
            orderId=delivered_order.id, by=merchant.address, buyerBps=2_500, expiresAt=expires
        )
    ]
    assert escrow.offerOf(delivered_order.id) == (2_500, True, True, expires)

    tx = escrow.acceptSettlement(delivered_order.abi, 2_500, sender=buyer)

    assert tx.events[0].kind == SettlementKind.AGREEMENT
    expected = list(split(delivered_order.terms.amount, 2_500, delivered_order.terms.fee_bps))
    assert credits_of(escrow, asset.token, buyer, merchant, fee_recipient) == expected
    assert escrow.offerOf(delivered_order.id).exists is False
    assert escrow.payerCreditOf(delivered_order.abi) == expected[0]


def test_settlement_during_a_dispute_ends_it_without_the_arbiter(
    escrow: Any, disputed_order: Any, merchant: Any, buyer: Any, expires: int
) -> None:
    escrow.offerSettlement(disputed_order.abi, 6_000, expires, sender=buyer)
    escrow.acceptSettlement(disputed_order.abi, 6_000, sender=merchant)

    assert escrow.orderOf(disputed_order.id).status == OrderStatus.SETTLED


def test_accept_reverts_for_own_offer_changed_offer_or_no_offer(
    escrow: Any, delivered_order: Any, merchant: Any, buyer: Any, expires: int
) -> None:
    order_id = delivered_order.id
    with ape.reverts(escrow.EscrowNoMatchingOffer, orderId=order_id, buyerBps=5_000):
        escrow.acceptSettlement(delivered_order.abi, 5_000, sender=buyer)
    escrow.offerSettlement(delivered_order.abi, 5_000, expires, sender=merchant)
    with ape.reverts(escrow.EscrowNoMatchingOffer, orderId=order_id, buyerBps=5_000):
        escrow.acceptSettlement(delivered_order.abi, 5_000, sender=merchant)
    escrow.offerSettlement(delivered_order.abi, 4_000, expires, sender=merchant)
    with ape.reverts(escrow.EscrowNoMatchingOffer, orderId=order_id, buyerBps=5_000):
        escrow.acceptSettlement(delivered_order.abi, 5_000, sender=buyer)


def test_counter_offer_replaces_the_pending_offer(
    escrow: Any, delivered_order: Any, merchant: Any, buyer: Any, expires: int
) -> None:
    escrow.offerSettlement(delivered_order.abi, 2_000, expires, sender=merchant)
    escrow.offerSettlement(delivered_order.abi, 4_000, expires + 1, sender=buyer)

    assert escrow.offerOf(delivered_order.id) == (4_000, False, True, expires + 1)
    escrow.acceptSettlement(delivered_order.abi, 4_000, sender=merchant)
    assert escrow.orderOf(delivered_order.id).buyerBps == 4_000


def test_offer_reverts_from_a_stranger_with_a_bad_split_or_once_final(
    escrow: Any, delivered_order: Any, shopper: Any, buyer: Any, expires: int
) -> None:
    with ape.reverts(escrow.EscrowNotParty, orderId=delivered_order.id, caller=shopper.address):
        escrow.offerSettlement(delivered_order.abi, 1, expires, sender=shopper)
    with ape.reverts(escrow.EscrowInvalidSplit, buyerBps=BPS + 1):
        escrow.offerSettlement(delivered_order.abi, BPS + 1, expires, sender=buyer)
    escrow.confirmReceipt(delivered_order.abi, sender=buyer)
    with ape.reverts(
        escrow.EscrowInvalidStatus, orderId=delivered_order.id, status=OrderStatus.RELEASED
    ):
        escrow.offerSettlement(delivered_order.abi, 1, expires, sender=buyer)


# ------------------------------------------------------------------ expiry and withdrawal


def test_offer_must_expire_in_the_future(
    escrow: Any, delivered_order: Any, merchant: Any, chain: Any
) -> None:
    now = int(chain.pending_timestamp)
    chain.pending_timestamp = now
    with ape.reverts(escrow.EscrowOfferExpiry, orderId=delivered_order.id, expiresAt=now):
        escrow.offerSettlement(delivered_order.abi, 5_000, now, sender=merchant)


def test_offer_can_be_accepted_until_the_second_before_it_expires(
    escrow: Any, delivered_order: Any, merchant: Any, buyer: Any, chain: Any, expires: int
) -> None:
    escrow.offerSettlement(delivered_order.abi, 5_000, expires, sender=merchant)

    chain.pending_timestamp = expires - 1
    escrow.acceptSettlement(delivered_order.abi, 5_000, sender=buyer)

    assert escrow.orderOf(delivered_order.id).status == OrderStatus.SETTLED


def test_expired_offer_cannot_be_accepted(
    escrow: Any, delivered_order: Any, merchant: Any, buyer: Any, chain: Any, expires: int
) -> None:
    escrow.offerSettlement(delivered_order.abi, 5_000, expires, sender=merchant)

    chain.pending_timestamp = expires
    with ape.reverts(escrow.EscrowOfferExpired, orderId=delivered_order.id, expiresAt=expires):
        escrow.acceptSettlement(delivered_order.abi, 5_000, sender=buyer)
    assert escrow.orderOf(delivered_order.id).status == OrderStatus.DELIVERED


@pytest.mark.parametrize("maker", ["merchant", "buyer"])
def test_maker_withdraws_its_offer(
    escrow: Any,
    delivered_order: Any,
    merchant: Any,
    buyer: Any,
    request: Any,
    maker: str,
    expires: int,
) -> None:
    account = request.getfixturevalue(maker)
    taker = buyer if account == merchant else merchant
    escrow.offerSettlement(delivered_order.abi, 3_000, expires, sender=account)

    tx = escrow.withdrawOffer(delivered_order.abi, sender=account)

    assert tx.events == [
        escrow.SettlementOfferWithdrawn(orderId=delivered_order.id, by=account.address)
    ]
    assert escrow.offerOf(delivered_order.id).exists is False
    with ape.reverts(escrow.EscrowNoMatchingOffer, orderId=delivered_order.id, buyerBps=3_000):
        escrow.acceptSettlement(delivered_order.abi, 3_000, sender=taker)


def test_only_the_maker_withdraws_an_offer(
    escrow: Any, delivered_order: Any, merchant: Any, buyer: Any, shopper: Any, expires: int
) -> None:
    order_id = delivered_order.id
    with ape.reverts(escrow.EscrowNotOfferMaker, orderId=order_id, caller=merchant.address):
        escrow.withdrawOffer(delivered_order.abi, sender=merchant)
    escrow.offerSettlement(delivered_order.abi, 3_000, expires, sender=merchant)

    with ape.reverts(escrow.EscrowNotOfferMaker, orderId=order_id, caller=buyer.address):
        escrow.withdrawOffer(delivered_order.abi, sender=buyer)
    with ape.reverts(escrow.EscrowNotParty, orderId=order_id, caller=shopper.address):
        escrow.withdrawOffer(delivered_order.abi, sender=shopper)
    assert escrow.offerOf(order_id).exists is True
