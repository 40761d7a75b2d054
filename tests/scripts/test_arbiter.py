"""`ape run arbiter ...` (with the buyer's dispute and the carrier's breach report) on Anvil:
disputes listed, ruled on, refused to a non-arbiter, and resolved by default after the
arbitration deadline."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.domain.vocab import OrderStatus, SettlementKind
from tests.scripts.conftest import (
    ARBITER,
    BUYER,
    BUYER_ACCOUNT,
    MERCHANT,
    STRANGER,
    STRANGER_ACCOUNT,
    ApeRun,
    events_of,
)
from tests.scripts.escrow_support import (
    credit_of,
    dispute_direct,
    new_terms,
    nonce,
    open_direct,
    ship_direct,
    status_of,
    transact,
)

pytestmark = pytest.mark.anvil

BPS = 10_000


def test_dispute_with_evidence_then_arbiter_lists_it_and_rules_a_split(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3, tmp_path: Path
) -> None:
    terms = new_terms(escrow, w3, amount=10**18)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 a cracked lid \xff\xd9")

    disputed = ape_run(
        "buyer", "dispute", "--order", order_id, "--evidence-file", str(photo),
        "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert disputed.returncode == 0, disputed.output
    (opened,) = events_of(escrow, "DisputeOpened", orderId=order_id)
    assert (opened.args.by, opened.args.evidenceHash) == (BUYER, keccak(photo.read_bytes()))
    answer = keccak(b"packing video")
    transact(w3, escrow.functions.submitEvidence(terms.as_abi(), answer), {"from": MERCHANT})

    listed = ape_run("arbiter", "list")

    assert listed.returncode == 0, listed.output
    assert f"order {order_id}  [open]" in listed.output
    assert f"evidence 0x{keccak(photo.read_bytes()).hex()}" in listed.output
    assert f"evidence from the merchant: 0x{answer.hex()}" in listed.output
    assert "default: even split" in listed.output
    buyer_credit, merchant_credit = credit_of(escrow, BUYER), credit_of(escrow, MERCHANT)

    ruled = ape_run(
        "arbiter", "settle", "--order", order_id, "--buyer-bps", "7000",
        "--ruling", "lid cracked in transit; partial refund",
    )  # fmt: skip

    assert ruled.returncode == 0, ruled.output
    assert status_of(escrow, order_id) is OrderStatus.SETTLED
    (ruling,) = events_of(escrow, "DisputeRuled", orderId=order_id)
    assert ruling.args.arbiter == ARBITER
    assert ruling.args.rulingHash == keccak(b"lid cracked in transit; partial refund")
    payer, gross = 7 * 10**17, 3 * 10**17
    merchant_net = gross - gross * terms.fee_bps // BPS
    assert credit_of(escrow, BUYER) - buyer_credit == payer
    assert credit_of(escrow, MERCHANT) - merchant_credit == merchant_net
    (settled,) = events_of(escrow, "OrderSettled", orderId=order_id)
    assert SettlementKind(settled.args.kind) is SettlementKind.ARBITER
    assert (settled.args.payerAmount, settled.args.merchantAmount) == (payer, merchant_net)


def test_settle_by_an_account_without_arbiter_role_is_refused_before_anything_is_sent(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)
    dispute_direct(escrow, w3, terms)
    before = nonce(w3, STRANGER)

    run = ape_run(
        "arbiter", "settle", "--order", order_id, "--buyer-bps", "0", "--ruling", "mine",
        "--account", STRANGER_ACCOUNT,
    )  # fmt: skip

    assert run.returncode == 2, run.output
    assert (
        f"AccessControlUnauthorizedAccount(account={STRANGER}, neededRole=ARBITER_ROLE)"
    ) in run.output
    assert nonce(w3, STRANGER) == before
    assert status_of(escrow, order_id) is OrderStatus.DISPUTED


def test_breach_report_opens_a_dispute_and_after_the_deadline_the_default_refunds_in_full(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3, amount=4 * 10**17)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)

    breach = ape_run(
        "carrier", "breach", "--order", order_id, "--carrier", "1", "--evidence", "cold chain 14C"
    )

    assert breach.returncode == 0, breach.output
    assert status_of(escrow, order_id) is OrderStatus.DISPUTED
    deadline = escrow.functions.orderOf(order_id).call()[7]  # disputeDeadline
    w3.provider.make_request("evm_setNextBlockTimestamp", [deadline])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    buyer_credit = credit_of(escrow, BUYER)
    start = w3.eth.block_number + 1

    resolved = ape_run("arbiter", "resolve-expired", "--all", "--account", STRANGER_ACCOUNT)

    assert resolved.returncode == 0, resolved.output
    (settled,) = events_of(escrow, "OrderSettled", orderId=order_id)
    assert SettlementKind(settled.args.kind) is SettlementKind.ARBITRATION_TIMEOUT
    assert (settled.args.by, settled.args.buyerBps) == (STRANGER, BPS)
    assert settled.args.payerAmount == terms.amount
    # --all also settled the other disputes past their deadline (earlier tests' orders).
    batch = escrow.events.OrderSettled.get_logs(from_block=start)
    assert settled in batch
    assert all(SettlementKind(e.args.kind) is SettlementKind.ARBITRATION_TIMEOUT for e in batch)
    assert credit_of(escrow, BUYER) - buyer_credit == sum(e.args.payerAmount for e in batch)
    assert status_of(escrow, order_id) is OrderStatus.SETTLED
