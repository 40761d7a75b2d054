"""Gas of registrations relayed through the forwarder, printed for the benchmark report (`-s`).

Asserted: the issue's bar, items registered through the API in requests of 100 items at most
35,000 gas an item on chain, with items shaped as the benchmark's (bench/forwarded.py measures
the same on Anvil, beside `registerItem` direct).
"""

from __future__ import annotations

from typing import Any

from tests.contracts.forwarder.forward_requests import SignedRequest
from tests.contracts.registry.helpers import ZERO_ADDRESS, h, sku_key

PER_ITEM_TARGET = 35_000
REQUEST_ITEMS = 100
# The benchmark's shapes: a 19-character SKU, 13-character serials, 66-character ipfs:// URIs.
SKU = "TM-BENCH-SNEAKER-42"
URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
# Enough for the call the forwarder makes (about 2.9M for 100 items); it costs nothing unused.
SIGNED_GAS = 4_000_000


def test_a_relayed_request_of_100_items_costs_at_most_35000_gas_an_item(
    forwarder: Any,
    registry: Any,
    merchant: Any,
    relayer: Any,
    sign: Any,
) -> None:
    items = [
        (sku_key(SKU, f"relay1-{n:06d}").as_abi(), h(f"metadata {n}"), URI)
        for n in range(REQUEST_ITEMS)
    ]
    assert len(URI) == 66 and len(items[0][0][2]) == 13
    data = registry.registerItems.encode_input(items)
    signed: SignedRequest = sign(merchant, registry, data, gas=SIGNED_GAS)
    direct = registry.registerItem(
        sku_key(SKU, "single-000001").as_abi(), h("metadata"), URI, sender=merchant
    ).gas_used

    tx = forwarder.executeBatch([signed.as_abi()], ZERO_ADDRESS, sender=relayer)

    assert len(tx.events.filter(registry.ItemRegistered)) == REQUEST_ITEMS
    per_item = tx.gas_used / REQUEST_ITEMS
    print(
        f"\nexecuteBatch of 1 request of {REQUEST_ITEMS} items: {tx.gas_used:,} gas,"
        f" {per_item:,.1f} an item (registerItem direct: {direct:,})"
    )
    assert per_item <= PER_ITEM_TARGET
