"""Gas-starving the registry's sale record on release.

A release of an order of registered items records each item "sold" in the registry, inside a
`try`: a refusal by the registry must not block the payout. That opens a door: a caller who sends
just too little gas makes the registry call run out (it gets at most 63/64 of what is left, EIP-150)
while the 1/64 kept back pays for the `catch` branch, and the order would be paid out with its
items never marked sold (a merchant could keep offering them as unsold). OrderEscrow closes it: when
the failed call left no more than 1/63 of the gas it started with, the failure was starvation and
the release reverts `EscrowInsufficientGas`.

Played on Anvil: the least gas limit at which the merchant's release succeeds is searched with
`eth_call`; every limit below it (the last 64 one by one, and a sweep down to half) reverts, right
below it with `EscrowInsufficientGas`; then real transactions at one unit too little (mined,
reverted, nothing paid or recorded) and at that least limit (paid, and all 32 items sold). That
the refusal is the defence at work, not the transaction running dry anyway, is measured: the
starved release still had more gas left when it refused than the `catch` branch spends on an order
whose record the registry really refuses (traced opcode by opcode).
"""

from __future__ import annotations

from typing import Any

import pytest
from hexbytes import HexBytes

from tests.attacks.conftest import AMOUNT, Actors, Suite, error_data
from tests.contracts.escrow.helpers import ETH, OrderStatus, Terms, h
from tests.support.nodes import ChainNode, rpc

ITEMS = 32  # the most an order may carry: the costliest registry call, the largest 1/64 kept back
SOLD = 5  # IProductRegistry.CustodyAction.Sold


def _delivered(
    suite: Suite, actors: Actors, terms_for: Any, node: ChainNode, items: tuple[bytes, ...]
) -> Terms:
    """An ETH order of `items`, shipped and delivered, its dispute window over: anyone (here the
    merchant) may release it."""
    escrow = suite.escrow
    terms: Terms = terms_for(item_ids=items)
    escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    escrow.ship(terms.as_abi(), h("tracking"), sender=actors.merchant)
    escrow.reportLogistics([(terms.order_id, 1, 0, h("pod"))], sender=actors.oracle)
    closes_at = int(escrow.orderOf(terms.order_id).deliveredAt) + terms.dispute_window
    rpc(node.rpc_url, "evm_mine", [closes_at])
    return terms


@pytest.fixture
def delivered(suite: Suite, actors: Actors, terms_for: Any, node: ChainNode) -> Terms:
    """The order under attack: 32 items registered by the merchant, delivered, releasable."""
    label = f"starving {int(suite.escrow.saleEventCount())} {suite.registry.address}"
    items = tuple(h(f"{label} item {i}") for i in range(ITEMS))
    suite.registry.registerItems(
        [(item, h(f"metadata {item.hex()}"), "") for item in items], sender=actors.merchant
    )
    return _delivered(suite, actors, terms_for, node, items)


@pytest.fixture
def catch_branch_cost(suite: Suite, actors: Actors, terms_for: Any, node: ChainNode) -> int:
    """Gas the release spends after a refused registry call (the `catch` branch that skips the
    record, then the payout's return): measured on an order of an item the registry does not
    know, from the struct log of its release, between the registry call's return and the end."""
    escrow = suite.escrow
    terms = _delivered(suite, actors, terms_for, node, (h("starving: never registered"),))
    call = {
        "from": actors.merchant.address,
        "to": escrow.address,
        "data": HexBytes(escrow.release.encode_input(terms.as_abi())).to_0x_hex(),
    }
    options = {"disableStack": True, "disableMemory": True, "disableStorage": True}
    trace = rpc(node.rpc_url, "debug_traceCall", [call, "latest", options])
    receipt = escrow.release(terms.as_abi(), sender=actors.merchant)
    assert len(receipt.events.filter(escrow.SaleNotRecorded)) == 1
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


def _trace(node: ChainNode, tx_hash: HexBytes) -> dict[str, Any]:
    trace = rpc(
        node.rpc_url, "debug_traceTransaction", [tx_hash.to_0x_hex(), {"tracer": "callTracer"}]
    )
    assert isinstance(trace, dict)
    return trace


def test_release_starved_of_gas_for_the_sale_record_reverts_and_enough_gas_records_it(
    suite: Suite,
    actors: Actors,
    node: ChainNode,
    provider: Any,
    catch_branch_cost: int,
    delivered: Terms,
) -> None:
    registry, escrow = suite.registry, suite.escrow
    terms = delivered
    merchant = actors.merchant.address
    release = bytes(escrow.release.encode_input(terms.as_abi()))
    starved = error_data(escrow, "EscrowInsufficientGas")
    enough = _least_gas(provider, merchant, escrow.address, release)

    # Nothing below the least limit succeeds: the last 64 units one by one, then down to half.
    below = list(range(enough - 64, enough)) + list(range(enough // 2, enough - 64, enough // 200))
    outcomes = {gas: _call(provider, merchant, escrow.address, release, gas) for gas in below}
    assert [gas for gas, (ok, _) in outcomes.items() if ok] == []
    # Right below it the registry call is what ran out, and the escrow refused to skip it.
    assert [gas for gas in range(enough - 64, enough) if outcomes[gas][1] != starved] == []
    # Further down, either that refusal again or plain out-of-gas (no revert data); nothing else.
    assert {data for _, data in outcomes.values()} <= {starved, b""}

    sales_before = int(escrow.saleEventCount())
    credit_before = int(escrow.creditOf(merchant, ETH))
    w3 = provider.web3
    tx_hash = w3.eth.send_transaction(
        {"from": merchant, "to": escrow.address, "data": HexBytes(release), "gas": enough - 1}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)

    assert receipt["status"] == 0
    trace = _trace(node, tx_hash)
    assert bytes.fromhex(str(trace["output"]).removeprefix("0x")) == starved
    [record] = [call for call in trace.get("calls", []) if call["to"] == registry.address.lower()]
    assert record.get("error") is not None, "the registry call itself must be what failed"
    # The refusal is the defence, not an accident of gas: when it refused, the release still had
    # more gas left than the `catch` branch (skip the record, pay out) spends.
    left = (enough - 1) - int(receipt["gasUsed"])
    print(
        f"least gas {enough}; starved at {enough - 1}: {left} left, catch costs {catch_branch_cost}"
    )
    assert 0 < catch_branch_cost < left
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
    assert escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED
    assert int(escrow.saleEventCount()) == sales_before + ITEMS
    fee = AMOUNT * terms.fee_bps // 10_000
    assert escrow.creditOf(merchant, ETH) == credit_before + AMOUNT - fee
