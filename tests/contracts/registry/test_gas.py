"""Gas of the registry's registrations, printed for the benchmark report (`pytest -s`).

Asserted: `registerItem` of one SKU-keyed item at most 60,000 gas (the registry's design target,
kept now that the id is derived on chain). GS1 registration and batch activation are printed.
"""

from __future__ import annotations

from typing import Any

from tests.contracts.registry.helpers import gs1_key, h, sku_key

REGISTER_ITEM_TARGET = 60_000
# An ipfs:// CIDv1 URI of 66 characters, as the benchmark registers.
URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
SKU = "TM-BENCH-SNEAKER-42"


def _report(rows: dict[str, int]) -> None:
    print("\nProductRegistry gas (total tx gas, Ape in-process EVM, solc 0.8.37 optimizer 200)")
    for name, gas in rows.items():
        print(f"  {name:<48} {gas:>9,}")


def test_gas_of_registrations(
    registry: Any,
    verifier: Any,
    merchant: Any,
    shopper: Any,
    register_batch: Any,
) -> None:
    assert len(URI) == 66
    rows: dict[str, int] = {}
    registry.grantGs1Prefix("9506000", merchant, sender=verifier)

    first = registry.registerItem(sku_key(SKU, "000001").as_abi(), h("m1"), URI, sender=merchant)
    rows["registerItem, SKU key (first of the merchant)"] = first.gas_used
    second = registry.registerItem(sku_key(SKU, "000002").as_abi(), h("m2"), URI, sender=merchant)
    rows["registerItem, SKU key"] = second.gas_used
    gs1 = registry.registerItem(
        gs1_key("9506000134352", "A1").as_abi(), h("m3"), URI, sender=merchant
    )
    rows["registerItem, GS1 key (7-digit prefix)"] = gs1.gas_used
    ten = [(sku_key(SKU, f"1{n:05d}").as_abi(), h(f"m{n}"), URI) for n in range(10)]
    rows["registerItems, 10 SKU keys, per item"] = (
        registry.registerItems(ten, sender=merchant).gas_used // 10
    )
    batch = register_batch(16)
    rows["activateBatchItem, SKU key, batch of 16"] = registry.activateBatchItem(
        batch.root,
        batch.key(3).as_abi(),
        batch.leaf(3).metadata_hash,
        batch.proof(3),
        sender=shopper,
    ).gas_used
    _report(rows)

    assert rows["registerItem, SKU key (first of the merchant)"] <= REGISTER_ITEM_TARGET
    assert rows["registerItem, SKU key"] <= REGISTER_ITEM_TARGET
