"""Gas-starving the registry calls of a payout: the sale record on release, the free on refund.

A release of an order its merchant handed to a carrier records each item "sold" in the registry
(`recordSales`), and a refund frees the refunded items (`freeItems`), each inside a `try`: a
refusal by the registry must not block the payout. That opens a door: a caller who sends just too
little gas makes the registry call run out (it gets at most 63/64 of what is left, EIP-150) while
the 1/64 kept back pays for the `catch` branch, and the order would be paid out with its items
never marked sold (a merchant could keep offering them as unsold), or refunded with its items
still held (no buyer could order them again). OrderEscrow closes it: when the failed call left no
more than 1/63 of the gas it started with, the failure was starvation and the payout reverts
`EscrowInsufficientGas`.

Played on Anvil: the least gas limit at which the payout succeeds is searched with `eth_call`;
every limit below it (the last 64 one by one, and a sweep down to half) reverts, right below it
with `EscrowInsufficientGas`; then real transactions at one unit too little (mined, reverted,
nothing paid, recorded or freed) and at that least limit (paid, and all 32 items sold or freed).
That the refusal is the defence at work, not the transaction running dry anyway, is measured: the
starved payout still had more gas left when it refused than the `catch` branch spends on an order
whose registry call is really refused with no reason, as a starved call is (traced opcode by
opcode, on an escrow over a registry stand-in that refuses so).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hexbytes import HexBytes

from app.domain.vocab import LogisticsKind
from harness.nodes import ChainNode, rpc
from tests.attacks.conftest import (
    AMOUNT,
    CARRIER,
    Actors,
    Suite,
    error_data,
    logistics,
    sku_key,
)
from tests.contracts.escrow.helpers import ETH, OrderStatus, Terms, h

ITEMS = 32  # the most an order may carry: the costliest registry call, the largest 1/64 kept back
SOLD = 5  # IProductRegistry.CustodyAction.Sold
HOLD_ITEMS = "fd6664f3"  # the selector of holdItems(bytes32,address,bytes32[])
TRUSTED_FORWARDER = "7da0a877"  # the selector of trustedForwarder()
_labels = itertools.count(1)


def _register(registry: Any, merchant: Any, count: int) -> tuple[bytes, ...]:
    keys = [sku_key(f"starving {registry.address} {next(_labels)}") for _ in range(count)]
    registry.registerItems([(key, h(f"metadata {key[1]}"), "") for key in keys], sender=merchant)
    return tuple(bytes(registry.itemIdOfKey(merchant.address, key)) for key in keys)


def _delivered(
    suite: Suite, actors: Actors, terms_for: Any, node: ChainNode, items: tuple[bytes, ...]
) -> Terms:
    """An ETH order of `items`, handed to its carrier and delivered, its dispute window over:
    anyone (here the merchant) may release it."""
    escrow = suite.escrow
    terms: Terms = terms_for(item_ids=items)
    escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=actors.merchant)
    delivered = logistics(terms.order_id, LogisticsKind.DELIVERED, evidence="pod")
    escrow.reportLogistics([delivered], sender=actors.logistics)
    closes_at = int(escrow.orderOf(terms.order_id).deliveredAt) + terms.dispute_window
    rpc(node.rpc_url, "evm_mine", [closes_at])
    return terms


def _catch_branch_cost(node: ChainNode, sender: str, to: str, data: bytes) -> int:
    """Gas a payout spends after its registry call was refused (the `catch` branch, then the
    payout's return), from the struct log of an `eth_call`: between the registry call's return
    and the end."""
    call = {"from": sender, "to": to, "data": HexBytes(data).to_0x_hex()}
    options = {"disableStack": True, "disableMemory": True, "disableStorage": True}
    trace = rpc(node.rpc_url, "debug_traceCall", [call, "latest", options])
    assert isinstance(trace, dict) and not trace["failed"]
    steps = trace["structLogs"]
    [registry_call] = [
        i
        for i, step in enumerate(steps[:-1])
        if step["depth"] == 1 and step["op"] == "CALL" and steps[i + 1]["depth"] == 2
    ]
    back = next(i for i in range(registry_call + 1, len(steps)) if steps[i]["depth"] == 1)
    last = steps[-1]
    return int(steps[back]["gas"]) - (int(last["gas"]) - int(last["gasCost"]))


@pytest.fixture
def delivered(suite: Suite, actors: Actors, terms_for: Any, node: ChainNode) -> Terms:
    """The order under attack: 32 items registered by the merchant, delivered, releasable."""
    items = _register(suite.registry, actors.merchant, ITEMS)
    return _delivered(suite, actors, terms_for, node, items)


# A registry stand-in that holds any items, names no forwarder, and refuses everything else with
# no reason at all, as a call starved of gas fails: runtime `if (selector == holdItems) stop;
# if (selector == trustedForwarder) return 32 zero bytes; revert(0, 0)`, deployed with a 12-byte
# constructor that returns it.
_MUTE_RUNTIME = (
    "60003560e01c8063" + HOLD_ITEMS + "14601e5763" + TRUSTED_FORWARDER + "1460205760006000fd"
    "5b005b60206000f3"
)
_MUTE_CREATION = "0x6026600c60003960266000f3" + _MUTE_RUNTIME


@pytest.fixture
def mute_escrow(project_: Any, actors: Actors, provider: Any) -> Any:
    """An OrderEscrow of its own over the mute registry (the suite's stays untouched)."""
    admin = actors.admin
    w3 = provider.web3
    tx = w3.eth.send_transaction({"from": admin.address, "data": _MUTE_CREATION})
    registry = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    escrow = project_.OrderEscrow.deploy(admin.address, registry, admin.address, sender=admin)
    escrow.grantRole(escrow.ORACLE_ROLE(), actors.logistics.address, sender=admin)
    return escrow


def _mute_order(mute_escrow: Any, actors: Actors, terms_for: Any) -> Terms:
    terms: Terms = terms_for(item_ids=(h(f"mute item {next(_labels)}"),), fee_bps=0)
    mute_escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    return terms


@pytest.fixture
def sale_catch_cost(mute_escrow: Any, actors: Actors, terms_for: Any, node: ChainNode) -> int:
    """The `catch` branch of a sale record the registry refuses (with no reason, as a starved
    call fails), on a delivered order's release."""
    escrow = mute_escrow
    terms = _mute_order(escrow, actors, terms_for)
    escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=actors.merchant)
    delivered = logistics(terms.order_id, LogisticsKind.DELIVERED, evidence="pod")
    escrow.reportLogistics([delivered], sender=actors.logistics)
    release = bytes(escrow.confirmReceipt.encode_input(terms.as_abi()))
    cost = _catch_branch_cost(node, actors.buyer.address, escrow.address, release)
    receipt = escrow.confirmReceipt(terms.as_abi(), sender=actors.buyer)
    assert receipt.events.filter(escrow.SaleNotRecorded) == [
        escrow.SaleNotRecorded(orderId=terms.order_id, reason=b"")
    ]
    return cost


@pytest.fixture
def free_catch_cost(mute_escrow: Any, actors: Actors, terms_for: Any, node: ChainNode) -> int:
    """The `catch` branch of a free the registry refuses (with no reason), on a merchant's
    cancel."""
    escrow = mute_escrow
    terms = _mute_order(escrow, actors, terms_for)
    cancel = bytes(escrow.cancel.encode_input(terms.as_abi()))
    cost = _catch_branch_cost(node, actors.merchant.address, escrow.address, cancel)
    receipt = escrow.cancel(terms.as_abi(), sender=actors.merchant)
    assert receipt.events.filter(escrow.ItemsNotFreed) == [
        escrow.ItemsNotFreed(orderId=terms.order_id, items=1, reason=b"")
    ]
    return cost


def _call(provider: Any, sender: str, to: str, data: bytes, gas: int) -> tuple[bool, bytes]:
    """`eth_call` at the latest block with a gas limit: (succeeded, return or revert data)."""
    call = {"from": sender, "to": to, "data": HexBytes(data).to_0x_hex(), "gas": hex(gas)}
    answer = provider.web3.provider.make_request("eth_call", [call, "latest"])
    if "error" in answer:
        error = answer["error"]
        data_ = error.get("data") if isinstance(error, dict) else None
        return False, bytes.fromhex(str(data_ or "0x").removeprefix("0x"))
    return True, bytes.fromhex(str(answer["result"]).removeprefix("0x"))


def _least_gas(provider: Any, sender: str, to: str, data: bytes) -> int:
    """The least gas limit at which the call succeeds (bisection between a failing and a passing
    limit; the sweeps below check that nothing under it succeeds)."""
    low, high = 21_000, 10_000_000
    assert not _call(provider, sender, to, data, low)[0]
    assert _call(provider, sender, to, data, high)[0]
    while high - low > 1:
        middle = (low + high) // 2
        if _call(provider, sender, to, data, middle)[0]:
            high = middle
        else:
            low = middle
    return high


def _starve(
    suite: Suite, node: ChainNode, provider: Any, sender: str, data: bytes, catch_cost: int
) -> int:
    """Searches the least gas of the payout `data`, checks every limit below it fails (right
    below with EscrowInsufficientGas), sends it one unit short and checks that the registry call
    is what failed while more gas was left than the `catch` branch needs; returns the least gas."""
    escrow, registry = suite.escrow, suite.registry
    starved = error_data(escrow, "EscrowInsufficientGas")
    enough = _least_gas(provider, sender, escrow.address, data)
    # Nothing below the least limit succeeds: the last 64 units one by one, then down to half.
    below = list(range(enough - 64, enough)) + list(range(enough // 2, enough - 64, enough // 200))
    outcomes = {gas: _call(provider, sender, escrow.address, data, gas) for gas in below}
    assert [gas for gas, (ok, _) in outcomes.items() if ok] == []
    # Right below it the registry call is what ran out, and the escrow refused to skip it.
    assert [gas for gas in range(enough - 64, enough) if outcomes[gas][1] != starved] == []
    # Further down, either that refusal again or plain out-of-gas (no revert data); nothing else.
    assert {revert for _, revert in outcomes.values()} <= {starved, b""}

    w3 = provider.web3
    tx = w3.eth.send_transaction(
        {"from": sender, "to": escrow.address, "data": HexBytes(data), "gas": enough - 1}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 0
    trace = rpc(node.rpc_url, "debug_traceTransaction", [tx.to_0x_hex(), {"tracer": "callTracer"}])
    assert isinstance(trace, dict)
    assert bytes.fromhex(str(trace["output"]).removeprefix("0x")) == starved
    [call] = [c for c in trace.get("calls", []) if c["to"] == registry.address.lower()]
    assert call.get("error") is not None, "the registry call itself must be what failed"
    # The refusal is the defence, not an accident of gas: when it refused, the payout still had
    # more gas left than the `catch` branch (skip the registry, pay out) spends.
    left = (enough - 1) - int(receipt["gasUsed"])
    print(f"least gas {enough}; starved at {enough - 1}: {left} left, catch costs {catch_cost}")
    assert 0 < catch_cost < left
    return enough


def test_release_starved_of_gas_for_the_sale_record_reverts_and_enough_gas_records_it(
    suite: Suite,
    actors: Actors,
    node: ChainNode,
    provider: Any,
    sale_catch_cost: int,
    delivered: Terms,
) -> None:
    registry, escrow = suite.registry, suite.escrow
    terms = delivered
    merchant = actors.merchant.address
    sales_before = int(escrow.saleEventCount())
    credit_before = int(escrow.creditOf(merchant, ETH))
    release = bytes(escrow.release.encode_input(terms.as_abi()))

    enough = _starve(suite, node, provider, merchant, release, sale_catch_cost)

    assert escrow.orderOf(terms.order_id).status == OrderStatus.DELIVERED
    assert escrow.escrowedOf(terms.as_abi()) == AMOUNT
    assert escrow.creditOf(merchant, ETH) == credit_before
    assert int(escrow.saleEventCount()) == sales_before
    assert [registry.itemOf(item).lastAction for item in terms.item_ids] == [0] * ITEMS

    paid = escrow.release(terms.as_abi(), sender=actors.merchant, gas_limit=enough)

    assert paid.events.filter(escrow.SaleNotRecorded) == []
    assert paid.events.filter(escrow.SaleRecorded) == [
        escrow.SaleRecorded(orderId=terms.order_id, firstEventId=sales_before, itemCount=ITEMS)
    ]
    assert [e.itemId for e in paid.events.filter(registry.CustodyRecorded)] == list(terms.item_ids)
    assert [registry.itemOf(item).lastAction for item in terms.item_ids] == [SOLD] * ITEMS
    assert all(registry.itemOf(item).held for item in terms.item_ids)  # sold: held for good
    assert escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED
    assert int(escrow.saleEventCount()) == sales_before + ITEMS
    fee = AMOUNT * terms.fee_bps // 10_000
    assert escrow.creditOf(merchant, ETH) == credit_before + AMOUNT - fee


def test_refund_starved_of_gas_for_freeing_the_items_reverts_and_enough_gas_frees_them(
    suite: Suite,
    actors: Actors,
    node: ChainNode,
    provider: Any,
    terms_for: Any,
    free_catch_cost: int,
) -> None:
    """The merchant cancels a 32-item order: starved, the items would stay held with the money
    refunded; the cancel reverts instead, and with enough gas every item is freed."""
    registry, escrow = suite.registry, suite.escrow
    terms: Terms = terms_for(item_ids=_register(registry, actors.merchant, ITEMS))
    escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    buyer_before = int(escrow.creditOf(actors.buyer.address, ETH))
    cancel = bytes(escrow.cancel.encode_input(terms.as_abi()))

    enough = _starve(suite, node, provider, actors.merchant.address, cancel, free_catch_cost)

    assert escrow.orderOf(terms.order_id).status == OrderStatus.FUNDED
    assert escrow.escrowedOf(terms.as_abi()) == AMOUNT
    assert escrow.creditOf(actors.buyer.address, ETH) == buyer_before
    assert all(registry.itemOf(item).held for item in terms.item_ids)

    refunded = escrow.cancel(terms.as_abi(), sender=actors.merchant, gas_limit=enough)

    assert refunded.events.filter(escrow.ItemsNotFreed) == []
    freed = refunded.events.filter(registry.ItemFreed)
    assert [(bytes(e.itemId), bytes(e.orderId)) for e in freed] == [
        (item, terms.order_id) for item in terms.item_ids
    ]
    assert not any(registry.itemOf(item).held for item in terms.item_ids)
    assert escrow.orderOf(terms.order_id).status == OrderStatus.REFUNDED
    assert escrow.creditOf(actors.buyer.address, ETH) == buyer_before + AMOUNT
