"""Carriers' order reports on the escrow: sent by the logistics oracle's own key, in order per
order, each naming the source's carrier id; the escrow skips a report its rules refuse and logs
why (``LogisticsUpdateRejected``), and exactly that record fails with the decoded custom error
while the rest of its batch is confirmed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import select

from app.chain.journal import ChainTransaction, TxState
from app.db.lease import LeaseRow
from app.domain.vocab import OrderStatus
from app.outbox.models import OutboxRecord
from app.outbox.relayer import Relayer
from tests.app.conftest import (
    CARRIER_ID,
    LOGISTICS_ORACLE_KEY,
    ORACLE_KEY,
    RIVAL_CARRIER_ID,
    SourceSecrets,
)
from tests.app.ingest.support import (
    Chain,
    ServiceHandle,
    event,
    hex32,
    post_signed,
    relay_until_settled,
)
from tests.app.outbox.conftest import ServiceFactory

pytestmark = [pytest.mark.both_databases, pytest.mark.anvil]

ORACLE = Account.from_key(ORACLE_KEY).address
LOGISTICS_ORACLE = Account.from_key(LOGISTICS_ORACLE_KEY).address


def _accept(handle: ServiceHandle, source: SourceSecrets, *events: dict[str, Any]) -> list[str]:
    response = post_signed(handle.client, source, list(events), timestamp=int(time.time()))
    assert response.status_code == 202, response.text
    return [accepted["relay_id"] for accepted in response.json()["accepted"]]


def _state(handle: ServiceHandle, relay_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = handle.client.get(f"/v1/relay/{relay_id}").json()
    return answer


def _journal(handle: ServiceHandle) -> list[ChainTransaction]:
    with handle.services.database.sessions() as session:
        return list(session.scalars(select(ChainTransaction).order_by(ChainTransaction.id)))


def test_a_report_the_escrow_rejects_fails_alone_with_its_decoded_error(
    make_service: ServiceFactory, carrier: SourceSecrets, relay_chain: Chain
) -> None:
    """One batch: a pickup and a delivery of one order apply; a pickup of an order the merchant
    already marked shipped is skipped by the escrow, and only its record fails."""
    picked_up = relay_chain.open_order()
    already_shipped = relay_chain.open_order()
    relay_chain.ship(already_shipped)
    handle = make_service()
    ids = _accept(
        handle,
        carrier,
        event("o-ship", order_id=picked_up, action="shipped"),
        event("o-ship-again", order_id=already_shipped, action="shipped"),
        event("o-deliver", order_id=picked_up, action="delivered"),
    )
    relayer = Relayer.from_services(handle.services)

    report = relayer.run_once()

    assert (report.sent_transactions, report.sent_records, report.failed) == (1, 3, 0)
    relay_until_settled(relayer, handle, relay_chain)
    states = [_state(handle, relay_id) for relay_id in ids]
    assert [s["status"] for s in states] == ["confirmed", "failed", "confirmed"]
    assert states[1]["failure_reason"] == (
        f"EscrowInvalidStatus(orderId={already_shipped}, status={int(OrderStatus.SHIPPED)})"
    )
    # The rejection is on chain, in the same transaction as the reports that applied.
    assert states[0]["tx_hash"] == states[1]["tx_hash"] == states[2]["tx_hash"]
    assert relay_chain.order_status(picked_up) == OrderStatus.DELIVERED
    assert relay_chain.order_status(already_shipped) == OrderStatus.SHIPPED


def test_a_carrier_reporting_on_an_order_assigned_to_another_fails_with_escrow_wrong_carrier(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    rival_carrier: SourceSecrets,
    relay_chain: Chain,
) -> None:
    ours = relay_chain.open_order(carrier=CARRIER_ID)
    unassigned = relay_chain.open_order(carrier=None)
    handle = make_service()
    [rival] = _accept(handle, rival_carrier, event("rival-ship", order_id=ours))
    [early] = _accept(handle, carrier, event("early-ship", order_id=unassigned))
    [own] = _accept(handle, carrier, event("own-ship", order_id=ours))

    relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)

    assert _state(handle, rival)["failure_reason"] == (
        f"EscrowWrongCarrier(orderId={ours}, carrier={RIVAL_CARRIER_ID}, assigned={CARRIER_ID})"
    )
    assert _state(handle, early)["failure_reason"] == (
        f"EscrowWrongCarrier(orderId={unassigned}, carrier={CARRIER_ID}, assigned=0)"
    )
    assert _state(handle, own)["status"] == "confirmed"
    assert relay_chain.order_status(ours) == OrderStatus.SHIPPED
    assert relay_chain.order_status(unassigned) == OrderStatus.FUNDED


def test_the_same_report_twice_goes_in_two_batches_and_each_record_gets_its_own_end(
    make_service: ServiceFactory, carrier: SourceSecrets, relay_chain: Chain
) -> None:
    """A rejection names its report by (order, kind, carrier) only: two such reports in one
    batch could not be told apart, so the second waits for the next batch (and every later
    report of its order with it)."""
    order = relay_chain.open_order()
    handle = make_service()
    first, second, delivery = _accept(
        handle,
        carrier,
        event("twice-1", order_id=order, action="shipped"),
        event("twice-2", order_id=order, action="shipped", reference="AWB again"),
        event("twice-3", order_id=order, action="delivered"),
    )
    relayer = Relayer.from_services(handle.services)

    assert relayer.run_once().sent_records == 1
    relay_until_settled(relayer, handle, relay_chain)

    assert _state(handle, first)["status"] == "confirmed"
    assert _state(handle, second)["failure_reason"] == (
        f"EscrowInvalidStatus(orderId={order}, status={int(OrderStatus.SHIPPED)})"
    )
    assert _state(handle, delivery)["status"] == "confirmed"
    assert len({_state(handle, r)["tx_hash"] for r in (first, second)}) == 2
    assert relay_chain.order_status(order) == OrderStatus.DELIVERED


def test_each_oracle_key_sends_its_own_contracts_records_with_its_own_nonces_and_lease(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    order = relay_chain.open_order()
    handle = make_service()
    _accept(
        handle,
        carrier,
        event("keys-item", item_id=hex32(relay_items[5])),
        event("keys-order", order_id=order, action="shipped"),
    )

    relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)

    assert handle.statuses() == {"confirmed": 2}
    senders = {tx.purpose: tx.sender for tx in _journal(handle)}
    assert senders == {"outbox:custody": ORACLE, "outbox:order_logistics": LOGISTICS_ORACLE}
    for tx in _journal(handle):
        assert tx.state == TxState.CONFIRMED
        on_chain = relay_chain.w3.eth.get_transaction(tx.tx_hash)  # type: ignore[arg-type]
        assert (on_chain["from"], on_chain["nonce"]) == (tx.sender, tx.nonce)
    with handle.services.database.sessions() as session:
        leases = set(session.scalars(select(LeaseRow.name)))
    chain_id = relay_chain.w3.eth.chain_id
    assert leases == {f"relay:{chain_id}:{ORACLE}", f"relay:{chain_id}:{LOGISTICS_ORACLE}"}


def test_without_a_logistics_key_order_reports_wait_and_custody_events_still_go(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    order = relay_chain.open_order()
    handle = make_service(logistics_oracle_private_key=None)
    item_event, order_event = _accept(
        handle,
        carrier,
        event("nokey-item", item_id=hex32(relay_items[6])),
        event("nokey-order", order_id=order, action="shipped"),
    )
    relayer = Relayer.from_services(handle.services)
    for _ in range(3):
        relayer.run_once()
        relay_chain.mine(1)

    assert _state(handle, item_event)["status"] == "confirmed"
    assert _state(handle, order_event)["status"] == "queued"
    with handle.services.database.sessions() as session:
        never_sent = select(OutboxRecord.attempts).where(OutboxRecord.kind == "order_logistics")
        assert session.scalar(never_sent) == 0
        assert {tx.sender for tx in _journal(handle)} == {ORACLE}
    assert relay_chain.order_status(order) == OrderStatus.FUNDED
