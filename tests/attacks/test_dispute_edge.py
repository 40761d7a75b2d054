"""Front-running a dispute at the edge of its window.

`dispute` is open while `block.timestamp < closesAt` and `release` (by anyone) from `closesAt` on,
with `closesAt = deliveredAt + disputeWindow` for both: in any block exactly one of them can
succeed. The race is played for real: automining off, the front-runner's transaction paying the
higher tip so Anvil orders it first in the same block, the block's time set to the edge.
"""

from __future__ import annotations

from typing import Any

import pytest
from hexbytes import HexBytes

from app.domain.vocab import LogisticsKind
from harness.nodes import ChainNode, rpc
from tests.attacks.conftest import AMOUNT, CARRIER, Actors, Suite, error_data, logistics
from tests.contracts.escrow.helpers import OrderStatus, Terms, h

GWEI = 10**9


@pytest.fixture
def delivered(suite: Suite, actors: Actors, terms_for: Any) -> tuple[Terms, int]:
    """An order handed to its carrier and reported delivered by it; returns its terms and when its
    dispute window closes."""
    escrow = suite.escrow
    terms = terms_for()
    escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=actors.merchant)
    delivered = logistics(terms.order_id, LogisticsKind.DELIVERED, evidence="pod")
    escrow.reportLogistics([delivered], sender=actors.logistics)
    closes_at = int(escrow.orderOf(terms.order_id).deliveredAt) + terms.dispute_window
    return terms, closes_at


def _race(
    node: ChainNode, provider: Any, timestamp: int, *txs: tuple[Any, bytes, Any]
) -> list[Any]:
    """Sends the transactions (sender, calldata, to) into one block at `timestamp`, the first
    with the highest tip, and returns their receipts in block order."""
    w3 = provider.web3
    rpc(node.rpc_url, "evm_setAutomine", [False])
    try:
        hashes = [
            w3.eth.send_transaction(
                {
                    "from": sender.address,
                    "to": to.address,
                    "data": HexBytes(data),
                    "gas": 400_000,
                    "maxPriorityFeePerGas": (10 - rank) * GWEI,
                    "maxFeePerGas": 200 * GWEI,
                }
            )
            for rank, (sender, data, to) in enumerate(txs)
        ]
        rpc(node.rpc_url, "evm_setNextBlockTimestamp", [timestamp])
        rpc(node.rpc_url, "evm_mine")
    finally:
        rpc(node.rpc_url, "evm_setAutomine", [True])
    receipts = [w3.eth.get_transaction_receipt(tx) for tx in hashes]
    assert len({receipt["blockNumber"] for receipt in receipts}) == 1, "not one block"
    assert [r["transactionIndex"] for r in receipts] == sorted(
        r["transactionIndex"] for r in receipts
    )
    return receipts


def _revert_data(node: ChainNode, receipt: Any) -> bytes:
    trace = rpc(
        node.rpc_url,
        "debug_traceTransaction",
        [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}],
    )
    assert isinstance(trace, dict)
    return bytes.fromhex(str(trace["output"]).removeprefix("0x"))


def test_release_front_running_a_dispute_in_the_windows_last_second_fails(
    suite: Suite, actors: Actors, node: ChainNode, provider: Any, delivered: tuple[Terms, int]
) -> None:
    escrow = suite.escrow
    terms, closes_at = delivered
    release = escrow.release.encode_input(terms.as_abi())
    dispute = escrow.dispute.encode_input(terms.as_abi(), h("broken on arrival"))

    front, honest = _race(
        node,
        provider,
        closes_at - 1,
        (actors.merchant, release, escrow),
        (actors.buyer, dispute, escrow),
    )

    assert front["status"] == 0
    assert _revert_data(node, front) == error_data(
        escrow, "EscrowReleaseTooEarly", terms.order_id, closes_at
    )
    assert honest["status"] == 1
    order = escrow.orderOf(terms.order_id)
    assert order.status == OrderStatus.DISPUTED
    assert escrow.escrowedOf(terms.as_abi()) == AMOUNT


def test_a_dispute_sent_at_the_closing_second_fails_and_the_release_stands(
    suite: Suite, actors: Actors, node: ChainNode, provider: Any, delivered: tuple[Terms, int]
) -> None:
    escrow = suite.escrow
    terms, closes_at = delivered
    release = escrow.release.encode_input(terms.as_abi())
    dispute = escrow.dispute.encode_input(terms.as_abi(), h("too late"))

    late, release_receipt = _race(
        node,
        provider,
        closes_at,
        (actors.buyer, dispute, escrow),
        (actors.stranger, release, escrow),
    )

    assert late["status"] == 0
    assert _revert_data(node, late) == error_data(
        escrow, "EscrowDisputeWindowClosed", terms.order_id, closes_at
    )
    assert release_receipt["status"] == 1
    assert escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED
    assert escrow.escrowedOf(terms.as_abi()) == 0


def test_default_outcome_front_running_the_arbiter_before_the_deadline_fails(
    suite: Suite, actors: Actors, node: ChainNode, provider: Any, delivered: tuple[Terms, int]
) -> None:
    """The same edge one step later: the arbiter rules while `now < disputeDeadline`, anyone applies
    the default from the deadline on; a default pushed in ahead of the arbiter's last-second ruling
    fails."""
    escrow = suite.escrow
    terms, _ = delivered
    escrow.dispute(terms.as_abi(), h("evidence"), sender=actors.buyer)
    deadline = int(escrow.orderOf(terms.order_id).disputeDeadline)
    expired = escrow.resolveExpiredDispute.encode_input(terms.as_abi())
    ruling = escrow.resolveDispute.encode_input(terms.as_abi(), 2_500, h("ruling"))

    front, arbiter = _race(
        node,
        provider,
        deadline - 1,
        (actors.merchant, expired, escrow),
        (actors.arbiter, ruling, escrow),
    )

    assert front["status"] == 0
    assert _revert_data(node, front) == error_data(
        escrow, "EscrowArbitrationPending", terms.order_id, deadline
    )
    assert arbiter["status"] == 1
    order = escrow.orderOf(terms.order_id)
    assert order.status == OrderStatus.SETTLED
    assert order.buyerBps == 2_500
