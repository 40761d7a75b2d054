"""Order escrow: an order's life in gas, beside OpenZeppelin 4.9's escrows.

Every row is one transaction's total gas (21,000 base included) as its receipt shows, measured in
the typical steady state of a running shop: before anything is measured, warm-up orders leave the
merchant's and the fee recipient's credits non-zero, the merchant holding the stablecoin, and the
escrow's registry event-id word in use. Each row's note says what was warm or cold. Since the
hardened contracts (SECURITY.md) an item order holds its items in the registry at `open`, every
shipment names a carrier, and the oracle's reports must name the order's carrier.
"""

from __future__ import annotations

from ape import chain
from eth_utils.crypto import keccak

from app.domain.vocab import LogisticsKind, OrderStatus
from bench.context import BenchContext, gas_used
from bench.escrow_shop import (
    DAY,
    DISPUTE_WINDOW,
    ETH,
    Order,
    Shop,
    oz4_version,
    peers,
    shop,
    warm_up,
)
from bench.model import Peer, Row, Target

SECTION = "Order escrow"

OPEN_ETH_PEER_FACTOR = 1.5  # a SKU order's open-and-pay in ETH within 1.5x the peer's deposit
OPEN_ONE_ITEM_TARGET = Target(80_000)  # an order of one registry item, holds included
DELIVERY_PER_ORDER_TARGET = Target(12_000)

BATCH = 100
ARBITER_BUYER_BPS = 6_000
OFFER_BUYER_BPS = 3_000
OFFER_LIFETIME = 7 * DAY
RECALLED = 0b10  # the second item of a two-item order


def run(ctx: BenchContext) -> list[Row]:
    rows, deposit, withdraw = peers(ctx)
    the_shop = shop(ctx)
    warm_up(the_shop)
    version = oz4_version()
    lifecycle, two_items = _lifecycle(the_shop, Peer(f"OZ {version} Escrow deposit", deposit))
    rows += lifecycle
    rows += _outcomes(the_shop)
    rows += _recall(the_shop, two_items)
    rows += _withdrawals(the_shop, Peer(f"OZ {version} Escrow withdraw", withdraw))
    rows += _batches(the_shop)
    return rows


# ------------------------------------------------------------------ the happy path


def _lifecycle(shop: Shop, deposit_peer: Peer) -> tuple[list[Row], Order]:
    open_target = Target(round(OPEN_ETH_PEER_FACTOR * deposit_peer.value))
    sku = shop.open()
    item = shop.open(items=1)
    two = shop.open(items=2)  # refunded in part later (`_recall`)
    erc20 = shop.open(shop.stable.address)  # stays funded: the escrow keeps holding the token
    ship = shop.ship(sku)
    assign = shop.assign(item)
    ship_assigned = shop.ship(item)
    deliver = shop.deliver(sku)
    confirm_sku = shop.confirm(sku)
    shop.deliver(item)
    confirm_item = shop.confirm_sale(item)

    late = shop.delivered()
    shop.travel(DISPUTE_WINDOW + 1)
    release = gas_used(shop.escrow.release(late.terms, sender=shop.keeper))
    shop.expect(late, OrderStatus.RELEASED)

    def versus_peer(gas: int) -> str:
        return f"{gas / deposit_peer.value:.2f}x the peer's deposit"

    hold = item.open_gas - sku.open_gas
    hold_calldata = item.calldata_gas - sku.calldata_gas
    credits = "merchant's and fee recipient's credits already non-zero (5,000-gas updates)"
    rows = [
        Row(
            "escrow.open_pay_eth",
            "`open`, pay in ETH: SKU order (no registry items)",
            sku.open_gas,
            "gas",
            target=open_target,
            peer=deposit_peer,
            note=f"one new slot (the order's state) like the peer's, plus a cold read of the"
            f" slot of the pause flag and settings; terms in {sku.calldata_bytes} bytes of"
            " calldata;"
            f" {versus_peer(sku.open_gas)} (target {OPEN_ETH_PEER_FACTOR}x the peer measured in"
            " this run)",
            breakdown=shop.breakdown(sku.open_receipt),
        ),
        Row(
            "escrow.open_pay_eth_1_item",
            "`open`, pay in ETH: order of 1 registry item",
            item.open_gas,
            "gas",
            target=OPEN_ONE_ITEM_TARGET,
            peer=deposit_peer,
            note=f"as above, plus the registry's `holdItems` (item checked and marked held);"
            f" {item.calldata_bytes} bytes of calldata; {versus_peer(item.open_gas)}",
            breakdown=shop.breakdown(item.open_receipt),
        ),
        Row(
            "escrow.open_pay_eth_2_items",
            "`open`, pay in ETH: order of 2 registry items",
            two.open_gas,
            "gas",
            peer=deposit_peer,
            note=f"{two.open_gas - item.open_gas:+,} over 1 item: the second item's hold (a cold"
            f" item slot read and written) and 32 bytes of calldata",
        ),
        Row(
            "escrow.hold_items_in_open",
            "`holdItems` inside `open`: 1-item order minus SKU order",
            hold,
            "gas",
            note=f"the call to the registry (cold account), its role check, the merchant's and"
            f" the item's slots read (cold) and the item slot written, the ItemHeld event;"
            f" {hold_calldata:+,} of it is the calldata difference (the item id, a zero order"
            " reference)",
        ),
        Row(
            "escrow.open_pay_erc20",
            "`open`, pay in a 6-decimals stablecoin (allow-listed): SKU order",
            erc20.open_gas,
            "gas",
            note="buyer approved the escrow once (unlimited, no allowance write); buyer's and"
            " escrow's token balances non-zero; balance checked before and after the pull",
        ),
        Row(
            "escrow.assign_carrier",
            "`assignCarrier` by the merchant (funded order)",
            assign,
            "gas",
            note="order slot updated (cold); CarrierAssigned event",
        ),
        Row(
            "escrow.ship",
            "`ship` with a carrier, by the merchant (assigns it and marks Shipped)",
            ship,
            "gas",
            note="order slot updated (cold); CarrierAssigned and OrderShipped events; tracking"
            " hash in the event only (before the hardened contracts, `ship` named no carrier)",
        ),
        Row(
            "escrow.ship_assigned",
            "`ship` by the merchant, the carrier already assigned",
            ship_assigned,
            "gas",
            note="order slot updated (cold); OrderShipped event only",
        ),
        Row(
            "escrow.deliver",
            "`reportLogistics`, 1 delivery report (oracle)",
            deliver,
            "gas",
            note="the report names the order's carrier; order slot updated (cold)",
        ),
        Row(
            "escrow.confirm_release",
            "`confirmReceipt` → released to the merchant: SKU order",
            confirm_sku,
            "gas",
            note=f"delivered order; {credits}",
        ),
        Row(
            "escrow.confirm_release_1_item",
            "`confirmReceipt` → released, registry records the item Sold",
            confirm_item,
            "gas",
            note=f"{credits}; item registered and held, no custody event before; the escrow's"
            " registry event-id word already in use",
        ),
        Row(
            "escrow.release_after_window",
            "`release` by anyone after the dispute window",
            release,
            "gas",
            note=f"delivered order, {DISPUTE_WINDOW // DAY}-day window passed"
            f" (evm_increaseTime); called by a keeper; {credits}",
        ),
    ]
    return rows, two


# ------------------------------------------------------------------ a recall


def _recall(shop: Shop, order: Order) -> list[Row]:
    """The merchant recalls the second item of a shipped two-item order; a keeper refunds it."""
    shop.ship(order)
    recalled = order.terms[11][1]
    shop.registry.recallItem(recalled, keccak(text="recall notice"), sender=shop.merchant)
    receipt = shop.escrow.refundRecalled(order.terms, RECALLED, sender=shop.keeper)
    gas = gas_used(receipt)
    shop.expect(order, OrderStatus.SHIPPED)
    if int(shop.escrow.orderOf(order.id).refundedItems) != RECALLED:
        raise RuntimeError("the recall refunded other items than the recalled one")
    shop.withdraw(shop.buyer, ETH)
    return [
        Row(
            "escrow.refund_recalled_1_of_2",
            "`refundRecalled`, 1 recalled item of a shipped 2-item order (anyone)",
            gas,
            "gas",
            note="called by a keeper; the registry's verdict read for the item (cold account and"
            " slots); the item's share credited to the buyer (0 → non-zero: buyers withdraw each"
            " refund); the item freed in the registry; the other item stays in the order",
            breakdown=shop.breakdown(receipt),
        ),
    ]


# ------------------------------------------------------------------ refunds, disputes, settlements


def _outcomes(shop: Shop) -> list[Row]:
    cancelled = shop.open()
    cancel = gas_used(shop.escrow.cancel(cancelled.terms, sender=shop.buyer))
    shop.expect(cancelled, OrderStatus.REFUNDED)
    shop.withdraw(shop.buyer, ETH)  # buyers take their refunds: the next one finds no credit

    disputed = shop.delivered()
    evidence = keccak(text="photos of the damage")
    dispute = gas_used(shop.escrow.dispute(disputed.terms, evidence, sender=shop.buyer))
    shop.expect(disputed, OrderStatus.DISPUTED)
    settle = gas_used(
        shop.escrow.resolveDispute(
            disputed.terms, ARBITER_BUYER_BPS, keccak(text="ruling"), sender=shop.arbiter
        )
    )
    shop.expect(disputed, OrderStatus.SETTLED)
    shop.withdraw(shop.buyer, ETH)

    agreed = shop.open()
    shop.ship(agreed)
    escrow, bps = shop.escrow, OFFER_BUYER_BPS
    expires = int(chain.blocks.head.timestamp) + OFFER_LIFETIME
    offer = gas_used(escrow.offerSettlement(agreed.terms, bps, expires, sender=shop.merchant))
    accept = gas_used(escrow.acceptSettlement(agreed.terms, bps, sender=shop.buyer))
    shop.expect(agreed, OrderStatus.SETTLED)
    shop.withdraw(shop.buyer, ETH)

    buyer_credit = "the buyer's credit 0 → non-zero (buyers withdraw each refund)"
    merchant_credits = "merchant's and fee recipient's credits non-zero"
    split = f"{ARBITER_BUYER_BPS / 100:.0f}% to the buyer"
    return [
        Row(
            "escrow.refund_buyer_cancel",
            "`cancel` by the buyer before shipment → full refund credited",
            cancel,
            "gas",
            note=buyer_credit,
        ),
        Row(
            "escrow.dispute",
            "`dispute` by the buyer (delivered order, inside the window)",
            dispute,
            "gas",
            note="order slot updated (cold); evidence hash in the event only",
        ),
        Row(
            "escrow.settle_arbiter",
            "`resolveDispute` by the arbiter, split of the whole price",
            settle,
            "gas",
            note=f"{split}; {buyer_credit}; {merchant_credits}; the merchant did not answer",
        ),
        Row(
            "escrow.dispute_and_settle",
            "dispute + arbiter's settlement (sum of the two transactions)",
            dispute + settle,
            "gas",
        ),
        Row(
            "escrow.offer_settlement",
            "`offerSettlement` by the merchant (shipped order)",
            offer,
            "gas",
            note="the offer's new slot 0 → non-zero (with its expiry, a week ahead)",
        ),
        Row(
            "escrow.accept_settlement",
            "`acceptSettlement` by the buyer → settled",
            accept,
            "gas",
            note=f"{OFFER_BUYER_BPS / 100:.0f}% to the buyer; the offer slot cleared (refund);"
            f" {buyer_credit}; {merchant_credits}",
        ),
        Row(
            "escrow.offer_and_accept",
            "settlement offer + acceptance (sum of the two transactions)",
            offer + accept,
            "gas",
        ),
    ]


# ------------------------------------------------------------------ payouts


def _withdrawals(shop: Shop, withdraw_peer: Peer) -> list[Row]:
    stable = shop.stable.address
    withdraw_eth = shop.withdraw(shop.merchant, ETH)
    withdraw_erc20 = shop.withdraw(shop.merchant, stable)
    # The merchant has just withdrawn everything: its next payout writes a fresh credit slot.
    first_credit = shop.confirm(shop.delivered())
    return [
        Row(
            "escrow.withdraw_eth",
            "`withdraw(ETH)` by the merchant, its whole credit",
            withdraw_eth,
            "gas",
            peer=withdraw_peer,
            note="credit non-zero → 0 (refund); ETH sent to the caller (warm), unlike the peer's"
            " payee",
        ),
        Row(
            "escrow.withdraw_erc20",
            "`withdraw(token)` by the merchant, 6-decimals stablecoin",
            withdraw_erc20,
            "gas",
            note="credit non-zero → 0; the merchant already holds the token and the escrow keeps"
            " a balance (other orders funded): both balances non-zero → non-zero",
        ),
        Row(
            "escrow.confirm_release_after_withdrawal",
            "`confirmReceipt` → released, the merchant's credit empty",
            first_credit,
            "gas",
            note="the first payout after the merchant withdrew: its credit 0 → non-zero"
            " (22,100 instead of 5,000); fee recipient's credit non-zero",
        ),
    ]


# ------------------------------------------------------------------ the oracle's batches


def _batches(shop: Shop) -> list[Row]:
    orders = [shop.open() for _ in range(BATCH)]
    for order in orders:
        shop.assign(order)  # the carrier is named at hand-over; the pickup report follows
    ship = shop.report(orders, LogisticsKind.SHIPPED)
    deliver = shop.report(orders, LogisticsKind.DELIVERED)
    orders_note = (
        f"{BATCH} funded ETH orders of one buyer and merchant, each handed to the reporting"
        " carrier (`assignCarrier`), each slot cold"
    )
    holds = "holds" if DELIVERY_PER_ORDER_TARGET.met_by(round(deliver / BATCH, 1)) else "missed"
    return [
        Row(
            "escrow.ship_batch_100_total",
            f"`reportLogistics`, {BATCH} pickup reports (total)",
            ship,
            "gas",
            note=orders_note,
        ),
        Row(
            "escrow.ship_batch_100_per_order",
            f"`reportLogistics`, per order in {BATCH} pickup reports",
            round(ship / BATCH, 1),
            "gas/order",
            note="transaction total / orders, 21,000 base included",
        ),
        Row(
            "escrow.deliver_batch_100_total",
            f"`reportLogistics`, {BATCH} delivery reports (total)",
            deliver,
            "gas",
            note=f"the same {BATCH} orders, shipped",
        ),
        Row(
            "escrow.deliver_batch_100_per_order",
            f"`reportLogistics`, per order in {BATCH} delivery reports",
            round(deliver / BATCH, 1),
            "gas/order",
            target=DELIVERY_PER_ORDER_TARGET,
            note=f"transaction total / orders, 21,000 base included; the design target {holds}"
            " with the carrier check",
        ),
    ]
