"""Gas of the escrow's operations, printed for the benchmark report (`pytest -s`).

Asserted: the gas targets for opening and paying in ETH — a SKU order within 1.5x the peer's
deposit (OpenZeppelin 4.9 Escrow, 47,719 gas: 71,578), an order of one registry item (now held in
the registry) within 80,000 — and the escrow's design target for a delivery update, at most 12,000
gas per order in a batch of 100, and the keeper's target for a release, at most 15,000 gas per SKU
order in a `releaseDue` batch of 100. Everything else is printed, never pinned.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.escrow.helpers import CARRIER, DAY, ETH, LogisticsKind, h, update

OPEN_SKU_TARGET = 71_578
OPEN_ONE_ITEM_TARGET = 80_000
DELIVERY_PER_ORDER_TARGET = 12_000
RELEASE_PER_ORDER_TARGET = 15_000
BATCH = 100


@pytest.fixture
def asset(eth_asset: Any) -> Any:
    return eth_asset


def _report(rows: dict[str, int]) -> None:
    print("\nOrderEscrow gas (total tx gas, Ape in-process EVM, solc 0.8.37 optimizer 200)")
    for name, gas in rows.items():
        print(f"  {name:<52} {gas:>9,}")


def test_gas_of_escrow_operations(
    escrow: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    arbiter: Any,
    stable: Any,
    register_item: Any,
    travel: Any,
) -> None:
    rows: dict[str, int] = {}
    stable_amount = 250 * 10**6
    # A first order per asset warms the merchant and fee recipient credit slots (steady use).
    for token, amount in ((ETH, 10**18), (stable.address, stable_amount)):
        escrow.confirmReceipt(open_order(token=token, amount=amount).abi, sender=buyer)

    sku_eth = open_order()
    rows["open-and-pay ETH (SKU order)"] = sku_eth.tx.gas_used
    item_eth = open_order(item_ids=(register_item(),))
    rows["open-and-pay ETH (1 registry item, held)"] = item_eth.tx.gas_used
    three_items = open_order(item_ids=tuple(register_item() for _ in range(3)))
    rows["open-and-pay ETH (3 registry items, held)"] = three_items.tx.gas_used
    sku_stable = open_order(token=stable.address, amount=stable_amount)
    rows["open-and-pay ERC-20 (6-dec stable, SKU order)"] = sku_stable.tx.gas_used

    rows["assign carrier (merchant)"] = escrow.assignCarrier(
        item_eth.abi, CARRIER, sender=merchant
    ).gas_used
    rows["ship with carrier (merchant)"] = escrow.ship(
        sku_eth.abi, CARRIER, h("t"), sender=merchant
    ).gas_used
    delivered = escrow.reportLogistics([update(sku_eth.id, LogisticsKind.DELIVERED)], sender=oracle)
    rows["deliver (oracle, batch of 1)"] = delivered.gas_used
    rows["confirm receipt -> release (SKU)"] = escrow.confirmReceipt(
        sku_eth.abi, sender=buyer
    ).gas_used
    rows["confirm receipt -> release + registry Sold (1 item)"] = escrow.confirmReceipt(
        item_eth.abi, sender=buyer
    ).gas_used
    rows["confirm before shipment -> release + free (3 items)"] = escrow.confirmReceipt(
        three_items.abi, sender=buyer
    ).gas_used

    after_window = open_order()
    escrow.ship(after_window.abi, CARRIER, h("t"), sender=merchant)
    escrow.reportLogistics([update(after_window.id, LogisticsKind.DELIVERED)], sender=oracle)
    travel(after_window.terms.dispute_window)
    rows["release after window (anyone)"] = escrow.release(after_window.abi, sender=oracle).gas_used

    rows["refund: buyer cancels (SKU)"] = escrow.cancel(open_order().abi, sender=buyer).gas_used
    held = open_order(item_ids=(register_item(),))
    rows["refund: buyer cancels + free (1 item)"] = escrow.cancel(held.abi, sender=buyer).gas_used

    disputed = open_order()
    escrow.ship(disputed.abi, CARRIER, h("t"), sender=merchant)
    rows["dispute (buyer)"] = escrow.dispute(disputed.abi, h("e"), sender=buyer).gas_used
    rows["settle (arbiter 60/40)"] = escrow.resolveDispute(
        disputed.abi, 6_000, h("r"), sender=arbiter
    ).gas_used
    offered = open_order()
    rows["offer settlement"] = escrow.offerSettlement(
        offered.abi, 5_000, offered.terms.ship_by + DAY, sender=merchant
    ).gas_used
    rows["accept settlement"] = escrow.acceptSettlement(offered.abi, 5_000, sender=buyer).gas_used
    rows["withdraw ETH"] = escrow.withdraw(ETH, sender=merchant).gas_used
    rows["withdraw ERC-20"] = escrow.withdraw(stable.address, sender=merchant).gas_used

    orders = [open_order() for _ in range(BATCH)]
    for order in orders:
        escrow.assignCarrier(order.abi, CARRIER, sender=merchant)
    shipped = escrow.reportLogistics(
        [update(o.id, LogisticsKind.SHIPPED) for o in orders], sender=oracle
    )
    rows[f"pickup batch of {BATCH} (oracle), per order"] = shipped.gas_used // BATCH
    batch = escrow.reportLogistics(
        [update(o.id, LogisticsKind.DELIVERED) for o in orders], sender=oracle
    )
    rows[f"deliver batch of {BATCH} (oracle), total"] = batch.gas_used
    rows[f"deliver batch of {BATCH} (oracle), per order"] = batch.gas_used // BATCH
    travel(orders[0].terms.dispute_window)
    released = escrow.releaseDue([o.abi for o in orders], sender=oracle)
    assert len(released.events.filter(escrow.OrderReleased)) == BATCH
    rows[f"releaseDue batch of {BATCH} SKU orders (anyone), total"] = released.gas_used
    rows[f"releaseDue batch of {BATCH} SKU orders (anyone), per order"] = released.gas_used // BATCH
    _report(rows)

    assert rows["open-and-pay ETH (SKU order)"] <= OPEN_SKU_TARGET
    assert rows["open-and-pay ETH (1 registry item, held)"] <= OPEN_ONE_ITEM_TARGET
    assert rows[f"deliver batch of {BATCH} (oracle), per order"] <= DELIVERY_PER_ORDER_TARGET
    assert (
        rows[f"releaseDue batch of {BATCH} SKU orders (anyone), per order"]
        <= RELEASE_PER_ORDER_TARGET
    )
