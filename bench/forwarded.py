"""Registrations relayed through the suite's ERC-2771 forwarder: a merchant signs `registerItems`
requests (EIP-712 ForwardRequests), a relayer sends them in `executeBatch` and pays. Measured on
the product registry's chain and registry, beside its direct `registerItem` (bench.registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from ape import accounts, chain
from ape.api import ReceiptAPI

from app.domain.forward_requests import Domain, ForwardRequest
from bench.context import BenchContext, breakdown, gas_used
from bench.model import Peer, Row, Target

# The bar: items registered through the API, in requests of 100 items.
PER_ITEM_TARGET = Target(35_000)
LARGE_REQUEST = 100
SMALL_REQUESTS, SMALL_REQUEST = 10, 10
# What an hour-long request deadline leaves the relay; the bench relays at once.
DEADLINE_SECONDS = 3_600
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

ItemInput = tuple[tuple[int, str, str], bytes, str]
# The precompile the forwarder's signature check calls, named in the gas breakdowns.
_ECRECOVER = SimpleNamespace(address="0x0000000000000000000000000000000000000001")


@dataclass(frozen=True)
class Relay:
    """The forwarder, the registry it fronts, the signing merchant and the relayer."""

    ctx: BenchContext
    forwarder: Any
    registry: Any
    relayer: Any

    def request(self, items: list[ItemInput], nonce: int) -> tuple[Any, ...]:
        """The merchant's signed ForwardRequestData for `registerItems(items)`. Its gas is the
        registry's own estimate of the call made directly, which more than covers the call the
        forwarder makes (it counts the transaction's base and calldata too)."""
        merchant = self.ctx.merchant
        data = bytes(self.registry.registerItems.encode_input(items))
        gas = self.registry.registerItems.estimate_gas_cost(items, sender=merchant)
        deadline = chain.pending_timestamp + DEADLINE_SECONDS
        reported = self.forwarder.eip712Domain()
        domain = Domain(int(reported.chainId), str(reported.verifyingContract))
        request = ForwardRequest(
            merchant.address, self.registry.address, 0, gas, nonce, deadline, data
        )
        # Ape's test accounts carry their keys; TestAccountAPI does not declare it.
        key: str = cast(Any, merchant).private_key
        return request.request_data(request.signed_by(key, domain))

    def relay(self, requests: list[tuple[Any, ...]], item_count: int) -> ReceiptAPI:
        """Sends `requests` in one `executeBatch` (no refund receiver) and checks that each ran and
        registered its items under the merchant."""
        receipt = self.forwarder.executeBatch(requests, ZERO_ADDRESS, sender=self.relayer)
        gas_used(receipt)
        executed = receipt.events.filter(self.forwarder.ExecutedForwardRequest)
        if len(executed) != len(requests) or not all(event.success for event in executed):
            raise RuntimeError("a relayed registration request did not run")
        registered = receipt.events.filter(self.registry.ItemRegistered)
        merchant = self.ctx.merchant.address
        if len(registered) != item_count or any(e.merchant != merchant for e in registered):
            raise RuntimeError("the relayed items were not registered under the merchant")
        return receipt


def rows(
    ctx: BenchContext,
    forwarder: Any,
    registry: Any,
    item: Callable[[BenchContext, str], ItemInput],
    direct: Row,
) -> list[Row]:
    """The two relays: one request of 100 items (the merchant's first through the forwarder),
    then ten requests of ten. `item` makes an item of the same shape as `direct`'s (SKU, serial
    length, metadata URI), so the rows compare per item with it; the serials here are as long."""
    relay = Relay(ctx, forwarder, registry, accounts.test_accounts[5])
    peer = Peer("`registerItem` direct, this run", direct.value)
    contracts = {"forwarder": forwarder, "registry": registry, "ecrecover": _ECRECOVER}
    nonce = int(forwarder.nonces(ctx.merchant.address))

    large = [item(ctx, f"relay1-{n:06d}") for n in range(LARGE_REQUEST)]
    one = relay.relay([relay.request(large, nonce)], LARGE_REQUEST)
    small = [
        relay.request(
            [item(ctx, f"relay2-{r:02d}{n:04d}") for n in range(SMALL_REQUEST)], nonce + 1 + r
        )
        for r in range(SMALL_REQUESTS)
    ]
    ten = relay.relay(small, SMALL_REQUESTS * SMALL_REQUEST)
    (_, sku, serial), _, uri = large[0]
    shape = (
        f"items shaped as the `registerItem` row's ({len(sku)}-character SKU, {len(serial)}"
        f"-character serial, metadata URI of {len(uri)} characters); 21,000 base included;"
        " the relayer pays, the merchant needs no ETH"
    )
    return [
        Row(
            "registry.forwarded_register_items_100_per_item",
            f"`executeBatch` relaying 1 signed `registerItems` of {LARGE_REQUEST} items"
            " (ERC-2771 forwarder), per item",
            round(gas_used(one) / LARGE_REQUEST, 1),
            "gas/item",
            target=PER_ITEM_TARGET,
            peer=peer,
            note=f"transaction total / {LARGE_REQUEST}; {shape}; the merchant's first forwarded"
            " request, so its nonce slot goes 0 → 1 (a new slot, 200 gas an item)",
        ),
        Row(
            "registry.forwarded_register_items_100_total",
            f"`executeBatch` relaying 1 signed `registerItems` of {LARGE_REQUEST} items (total)",
            gas_used(one),
            "gas",
            note="one EIP-712 signature recovered, the target asked whether it trusts the"
            " forwarder, the request's data hashed and copied with the signer appended",
            breakdown=breakdown(ctx, one, contracts),
        ),
        Row(
            "registry.forwarded_register_items_10x10_per_item",
            f"`executeBatch` relaying {SMALL_REQUESTS} signed `registerItems` of"
            f" {SMALL_REQUEST} items each, per item",
            round(gas_used(ten) / (SMALL_REQUESTS * SMALL_REQUEST), 1),
            "gas/item",
            peer=peer,
            note=f"transaction total / {SMALL_REQUESTS * SMALL_REQUEST}; {shape}; the merchant's"
            " nonce already in use",
        ),
        Row(
            "registry.forwarded_register_items_10x10_total",
            f"`executeBatch` relaying {SMALL_REQUESTS} signed `registerItems` of"
            f" {SMALL_REQUEST} items each (total)",
            gas_used(ten),
            "gas",
            # No breakdown: it would be the 100-item one's, its three calls repeated ten times.
            note=f"{SMALL_REQUESTS} signatures recovered, {SMALL_REQUESTS} trust checks (the"
            f" first cold) and {SMALL_REQUESTS} calls into the registry, each checking the"
            " merchant again; the nonce written ten times",
        ),
    ]
