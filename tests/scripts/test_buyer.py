"""`ape run buyer ...` (with the merchant's `order` commands and the carrier's reports) on
Anvil: orders opened and paid in ETH and in a stablecoin, handed to a carrier, shipped,
delivered (a wrong carrier's report refused and explained), released, cancelled, settled with an
expiring offer (withdrawn), refunded item by item for a recall by anyone, and refusals that send
nothing, explained from the contract's own error."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.domain.abi_types import hex32
from app.domain.orders import ETH, OrderFile, OrderTerms, read_order_file, text_hash
from app.domain.vocab import CustodyAction, OrderStatus, RefundReason, Verdict
from tests.scripts.conftest import (
    ADMIN,
    BUYER,
    BUYER_ACCOUNT,
    MERCHANT,
    MERCHANT_ACCOUNT,
    OTHER_BUYER,
    OTHER_BUYER_ACCOUNT,
    STRANGER,
    STRANGER_ACCOUNT,
    ApeRun,
    events_of,
)
from tests.scripts.escrow_support import (
    advance_time,
    credit_of,
    deploy_stable,
    gas_paid,
    new_terms,
    nonce,
    open_direct,
    register_item,
    ship_direct,
    status_of,
    transact,
)

pytestmark = pytest.mark.anvil

BPS = 10_000
ETHER = 10**18


def order_id_in(output: str) -> str:
    match = re.search(r"^opened order (0x[0-9a-f]{64}):", output, re.MULTILINE)
    assert match is not None, output
    return match.group(1)


def fee(amount: int, fee_bps: int) -> int:
    return amount * fee_bps // BPS


# ---------------------------------------------------------------------------------------- stories


def test_eth_order_ships_is_delivered_and_release_after_the_window_pays_merchant_and_records_sale(
    ape_run: ApeRun,
    merchant: str,
    registry: Contract,
    escrow: Contract,
    w3: Web3,
    tmp_path: Path,
) -> None:
    item = register_item(registry, w3)
    order_file = tmp_path / "order.json"
    escrow_before = w3.eth.get_balance(escrow.address)

    opened = ape_run(
        "buyer", "open", "--merchant", MERCHANT, "--price", "0.5", "--item-id", item,
        "--ref", "PO-1", "--order-file", str(order_file), "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert opened.returncode == 0, opened.output
    saved = read_order_file(order_file)
    order_id = order_id_in(opened.output)
    assert (
        saved.order_id == order_id == hex32(escrow.functions.orderIdOf(saved.terms.as_abi()).call())
    )
    (log,) = events_of(escrow, "OrderOpened", orderId=order_id)
    assert OrderTerms.from_abi(log.args.terms) == saved.terms
    assert (saved.terms.buyer, saved.terms.payer, saved.terms.merchant) == (BUYER, BUYER, MERCHANT)
    assert (saved.terms.amount, saved.terms.token, saved.terms.item_ids) == (
        ETHER // 2,
        ETH,
        (item,),
    )
    assert saved.terms.order_ref == text_hash("PO-1") and saved.reference == "PO-1"
    assert saved.opened_tx == "0x" + bytes(log.transactionHash).hex()
    assert w3.eth.get_balance(escrow.address) - escrow_before == ETHER // 2
    assert status_of(escrow, order_id) is OrderStatus.FUNDED

    shipped = ape_run(
        "merchant", "order", "ship", "--order", order_id, "--carrier", "1",
        "--tracking", "DHL 4711", "--account", MERCHANT_ACCOUNT,
    )  # fmt: skip

    assert shipped.returncode == 0, shipped.output
    (ship_log,) = events_of(escrow, "OrderShipped", orderId=order_id)
    assert (ship_log.args.by, ship_log.args.carrier) == (MERCHANT, 1)
    assert ship_log.args.trackingHash == keccak(b"DHL 4711")

    # Another carrier's delivery report is skipped by the escrow, with its reason.
    wrong = ape_run(
        "carrier", "delivered", "--order", order_id, "--carrier", "2", "--evidence", "POD"
    )

    assert wrong.returncode == 1, wrong.output
    assert (
        f"refused order {order_id}: EscrowWrongCarrier(orderId={order_id}, carrier=2, "
        "assigned=1): wrong carrier; only the carrier the merchant named may report"
    ) in wrong.output
    (rejected,) = events_of(escrow, "LogisticsUpdateRejected", orderId=order_id)
    assert rejected.args.carrier == 2
    assert status_of(escrow, order_id) is OrderStatus.SHIPPED

    delivered = ape_run(
        "carrier", "delivered", "--order", order_id, "--carrier", "1", "--evidence", "POD signed"
    )

    assert delivered.returncode == 0, delivered.output
    assert "1 applied, 0 refused" in delivered.output
    assert status_of(escrow, order_id) is OrderStatus.DELIVERED
    merchant_nonce = nonce(w3, MERCHANT)

    early = ape_run(
        "merchant", "order", "release", "--order-file", str(order_file),
        "--account", MERCHANT_ACCOUNT,
    )  # fmt: skip

    assert early.returncode == 2, early.output
    assert "nothing was sent" in early.output and "EscrowReleaseTooEarly(" in early.output
    assert nonce(w3, MERCHANT) == merchant_nonce
    advance_time(w3, saved.terms.dispute_window + 1)
    credit = credit_of(escrow, MERCHANT)

    released = ape_run(
        "merchant", "order", "release", "--order-file", str(order_file),
        "--account", MERCHANT_ACCOUNT,
    )  # fmt: skip

    assert released.returncode == 0, released.output
    assert status_of(escrow, order_id) is OrderStatus.RELEASED
    net = ETHER // 2 - fee(ETHER // 2, saved.terms.fee_bps)
    assert credit_of(escrow, MERCHANT) == credit + net
    (sale,) = events_of(registry, "CustodyRecorded", submitter=escrow.address, itemId=item)
    assert CustodyAction(sale.args.action) is CustodyAction.SOLD
    assert sale.args.contextHash == bytes.fromhex(order_id[2:])
    assert sale.args.locationHash == bytes(12) + bytes.fromhex(BUYER[2:])
    item_record = registry.functions.itemOf(item).call()
    assert CustodyAction(item_record[2]) is CustodyAction.SOLD
    assert item_record[5] is True  # held for good: a serialised item is sold once
    balance = w3.eth.get_balance(MERCHANT)

    withdrawn = ape_run("merchant", "order", "withdraw", "--account", MERCHANT_ACCOUNT)

    assert withdrawn.returncode == 0, withdrawn.output
    payout = events_of(escrow, "Withdrawn", account=MERCHANT)[-1]
    assert payout.args.amount == credit + net
    cost = gas_paid(w3, payout.transactionHash)
    assert w3.eth.get_balance(MERCHANT) == balance + credit + net - cost
    assert credit_of(escrow, MERCHANT) == 0


def test_stablecoin_order_approves_then_pays_and_confirm_by_order_id_releases_at_once(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    stable = deploy_stable(w3)
    transact(w3, escrow.functions.setTokenAllowed(stable.address, True), {"from": ADMIN})
    transact(w3, stable.functions.mint(BUYER, 100 * 10**6), {"from": BUYER})
    before = nonce(w3, BUYER)

    opened = ape_run(
        "buyer", "open", "--merchant", MERCHANT, "--price", "19.99", "--token", stable.address,
        "--ref", "SKU-MUG", "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert opened.returncode == 0, opened.output
    order_id = order_id_in(opened.output)
    assert "to take the price (19.99 mUSD) in tx 0x" in opened.output, opened.output
    assert f"opened order {order_id}: 19.99 mUSD escrowed in tx 0x" in opened.output
    assert nonce(w3, BUYER) == before + 2
    assert stable.functions.balanceOf(escrow.address).call() == 19_990_000

    confirmed = ape_run("buyer", "confirm", "--order", order_id, "--account", BUYER_ACCOUNT)

    assert confirmed.returncode == 0, confirmed.output
    assert status_of(escrow, order_id) is OrderStatus.RELEASED
    fee_bps = int(escrow.functions.feeBps().call())
    assert credit_of(escrow, MERCHANT, stable.address) == 19_990_000 - fee(19_990_000, fee_bps)


def test_cancel_before_shipment_credits_the_buyer_a_full_refund(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3, amount=3 * 10**17)
    order_id = open_direct(escrow, w3, terms)
    credit = credit_of(escrow, BUYER)

    cancelled = ape_run("buyer", "cancel", "--order", order_id, "--account", BUYER_ACCOUNT)

    assert cancelled.returncode == 0, cancelled.output
    assert status_of(escrow, order_id) is OrderStatus.REFUNDED
    (refund,) = events_of(escrow, "OrderRefunded", orderId=order_id)
    assert RefundReason(refund.args.reason) is RefundReason.BUYER_CANCELLED
    assert refund.args.payerAmount == terms.amount
    assert credit_of(escrow, BUYER) - credit == terms.amount
    assert "next: the payer collects it: ape run buyer withdraw" in cancelled.output


def test_open_with_the_whole_balance_is_refused_for_the_gas_and_prints_no_order_id(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3, tmp_path: Path
) -> None:
    balance = w3.eth.get_balance(OTHER_BUYER)
    price = f"{balance / ETHER:.18f}".rstrip("0").rstrip(".")
    before = nonce(w3, OTHER_BUYER)

    run = ape_run(
        "buyer", "open", "--merchant", MERCHANT, "--price", price, "--ref", "all in",
        "--order-file", str(tmp_path / "order.json"), "--account", OTHER_BUYER_ACCOUNT,
    )  # fmt: skip

    assert run.returncode == 2, run.output
    assert f"less than the price {price} ETH and its gas" in run.output
    assert "nothing was sent" in run.output and "order 0x" not in run.output
    assert nonce(w3, OTHER_BUYER) == before
    assert not (tmp_path / "order.json").exists()


def test_an_expired_offer_is_refused_with_its_expiry_and_its_maker_withdraws_it(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)

    offered = ape_run(
        "buyer", "offer", "--order", order_id, "--buyer-bps", "5000", "--expires-in", "1h",
        "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert offered.returncode == 0, offered.output
    (offer,) = events_of(escrow, "SettlementOffered", orderId=order_id)
    block_time = w3.eth.get_block(offer.blockNumber)["timestamp"]
    assert 3500 < offer.args.expiresAt - block_time <= 3600  # an hour from when it was read
    advance_time(w3, 2 * 3600)
    sent = nonce(w3, MERCHANT)

    late = ape_run(
        "merchant", "order", "accept", "--order", order_id, "--buyer-bps", "5000",
        "--account", MERCHANT_ACCOUNT,
    )  # fmt: skip

    assert late.returncode == 2, late.output
    expired = datetime.fromtimestamp(offer.args.expiresAt, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"EscrowOfferExpired(orderId={order_id}, expiresAt={expired}): offer expired" in (
        late.output
    )
    assert nonce(w3, MERCHANT) == sent

    withdrawn = ape_run("buyer", "withdraw-offer", "--order", order_id, "--account", BUYER_ACCOUNT)

    assert withdrawn.returncode == 0, withdrawn.output
    (event,) = events_of(escrow, "SettlementOfferWithdrawn", orderId=order_id)
    assert event.args.by == BUYER
    assert escrow.functions.offerOf(order_id).call()[2] is False  # no offer pending
    assert status_of(escrow, order_id) is OrderStatus.SHIPPED


def test_offer_by_the_buyer_accepted_by_the_merchant_settles_without_an_arbiter(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3, amount=10**18)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)
    buyer_credit = credit_of(escrow, BUYER)
    merchant_credit = credit_of(escrow, MERCHANT)

    offered = ape_run(
        "buyer", "offer", "--order", order_id, "--buyer-bps", "3000", "--account", BUYER_ACCOUNT
    )
    accepted = ape_run(
        "merchant", "order", "accept", "--order", order_id, "--buyer-bps", "3000",
        "--account", MERCHANT_ACCOUNT,
    )  # fmt: skip

    assert offered.returncode == 0, offered.output
    assert accepted.returncode == 0, accepted.output
    assert status_of(escrow, order_id) is OrderStatus.SETTLED
    gross = 10**18 - 3 * 10**17
    assert credit_of(escrow, BUYER) - buyer_credit == 3 * 10**17
    assert credit_of(escrow, MERCHANT) - merchant_credit == gross - fee(gross, terms.fee_bps)


def test_refund_recalled_by_anyone_refunds_the_payer_only_the_recalled_items_share(
    ape_run: ApeRun, merchant: str, registry: Contract, escrow: Contract, w3: Web3
) -> None:
    items = (register_item(registry, w3), register_item(registry, w3))
    terms = new_terms(escrow, w3, amount=3 * 10**17, item_ids=items)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)
    transact(w3, registry.functions.recallItem(items[1], keccak(b"lead paint")), {"from": MERCHANT})
    assert Verdict(registry.functions.verify(items[1]).call()) is Verdict.RECALLED
    credit = credit_of(escrow, BUYER)

    refunded = ape_run(
        "buyer", "refund-recalled", "--order", order_id, "--item", items[1],
        "--account", STRANGER_ACCOUNT,
    )  # fmt: skip

    assert refunded.returncode == 0, refunded.output
    assert "items=1, payerAmount=0.15 ETH)" in refunded.output, refunded.output
    (refund,) = events_of(escrow, "OrderRefunded", orderId=order_id)
    assert RefundReason(refund.args.reason) is RefundReason.ITEM_RECALLED
    assert (refund.args.by, refund.args.items, refund.args.payerAmount) == (
        STRANGER,
        2,
        15 * 10**16,
    )
    assert credit_of(escrow, BUYER) - credit == 15 * 10**16
    # The rest of the order goes on.
    assert status_of(escrow, order_id) is OrderStatus.SHIPPED


def test_status_shows_state_deadlines_and_the_commands_the_buyer_can_send_now(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3)
    order_id = open_direct(escrow, w3, terms)
    ship_direct(escrow, w3, terms)

    shown = ape_run("buyer", "status", "--order", order_id)

    assert shown.returncode == 0, shown.output
    assert re.search(r"^status\s+shipped$", shown.output, re.MULTILINE), shown.output
    assert re.search(r"^price\s+0\.1 ETH", shown.output, re.MULTILINE), shown.output
    assert re.search(r"^carrier\s+1 ", shown.output, re.MULTILINE), shown.output
    # Listed because the contract would take them from the buyer now (each call simulated).
    commands = re.findall(r"^  ape run buyer (\S+) --order " + order_id, shown.output, re.M)
    assert commands == ["confirm", "dispute", "offer"]


# ---------------------------------------------------------------------------------------- refusals


def test_once_the_merchant_names_a_carrier_the_buyers_cancel_is_refused_and_explained(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3
) -> None:
    terms = new_terms(escrow, w3)
    order_id = open_direct(escrow, w3, terms)

    assigned = ape_run(
        "merchant", "order", "assign-carrier", "--order", order_id, "--carrier", "3",
        "--account", MERCHANT_ACCOUNT,
    )  # fmt: skip

    assert assigned.returncode == 0, assigned.output
    (event,) = events_of(escrow, "CarrierAssigned", orderId=order_id)
    assert event.args.carrier == 3
    assert status_of(escrow, order_id) is OrderStatus.FUNDED
    before = nonce(w3, BUYER)

    run = ape_run("buyer", "cancel", "--order", order_id, "--account", BUYER_ACCOUNT)

    assert run.returncode == 2, run.output
    assert "nothing was sent" in run.output
    assert (
        f"EscrowHandedToCarrier(orderId={order_id}, carrier=3): handed to carrier; "
        "the buyer can no longer cancel"
    ) in run.output
    assert nonce(w3, BUYER) == before

    # The named carrier's pickup report ships it.
    picked_up = ape_run(
        "carrier", "shipped", "--order", order_id, "--carrier", "3", "--evidence", "scan"
    )

    assert picked_up.returncode == 0, picked_up.output
    assert status_of(escrow, order_id) is OrderStatus.SHIPPED


def test_confirm_on_someone_elses_order_is_refused_before_anything_is_sent(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3, tmp_path: Path
) -> None:
    terms = new_terms(escrow, w3)
    order_id = open_direct(escrow, w3, terms)
    order_file = tmp_path / "theirs.json"
    order_file.write_text(
        json.dumps(
            OrderFile(
                chain_id=1337, escrow=escrow.address, order_id=order_id, terms=terms
            ).model_dump(mode="json")
        )
    )
    before = nonce(w3, OTHER_BUYER)

    run = ape_run(
        "buyer", "confirm", "--order-file", str(order_file), "--account", OTHER_BUYER_ACCOUNT
    )

    assert run.returncode == 2, run.output
    assert f"EscrowNotBuyer(orderId={order_id}, caller={OTHER_BUYER}): not buyer" in run.output
    assert nonce(w3, OTHER_BUYER) == before
    assert status_of(escrow, order_id) is OrderStatus.FUNDED


def test_open_refused_by_the_escrow_or_the_wallet_sends_nothing_nor_writes_the_order_file(
    ape_run: ApeRun, merchant: str, escrow: Contract, w3: Web3, tmp_path: Path
) -> None:
    unlisted = deploy_stable(w3)
    before = nonce(w3, BUYER)

    late = ape_run(
        "buyer", "open", "--merchant", MERCHANT, "--price", "0.1", "--ref", "SKU-X",
        "--ship-by", "2020-01-01T00:00:00Z", "--order-file", str(tmp_path / "order.json"),
        "--account", BUYER_ACCOUNT,
    )  # fmt: skip
    broke = ape_run(
        "buyer", "open", "--merchant", MERCHANT, "--price", "5", "--token", unlisted.address,
        "--ref", "SKU-X", "--order-file", str(tmp_path / "order.json"), "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert late.returncode == 2, late.output
    assert "EscrowInvalidDeadlines(shipBy=2020-01-01T00:00:00Z" in late.output
    assert "nothing was sent" in late.output
    assert broke.returncode == 2, broke.output
    assert f"{BUYER} holds 0 mUSD, less than the price 5 mUSD" in broke.output
    assert nonce(w3, BUYER) == before
    assert not (tmp_path / "order.json").exists()
