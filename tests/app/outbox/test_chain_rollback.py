"""A chain that goes back in time past the confirmation depth (a node restored from an older saved
state, as the fault-injection harness does with ``kill -9``): transactions the relayer had seen
confirmed vanish, and with them the nonces they used. The relayer sends them again, their records
go back to ``submitted`` until they are confirmed anew, and every event is on chain once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.chain.journal import ChainTransaction, TxState
from app.outbox.plan import CycleReport
from app.outbox.relayer import Relayer
from tests.app.conftest import SourceSecrets
from tests.app.ingest.support import Chain, event, hex32, post_signed, relay_until_settled
from tests.app.outbox.conftest import ServiceFactory

pytestmark = [pytest.mark.both_databases, pytest.mark.anvil]


def test_confirmed_transactions_the_chain_forgot_are_sent_again_and_land_once(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    service = make_service()
    events = [
        event(f"rollback-{n}", item_id=hex32(relay_items[n % len(relay_items)])) for n in range(6)
    ]
    assert post_signed(service.client, carrier, events).status_code == 202
    start = relay_chain.head() + 1
    saved = relay_chain.rpc("evm_snapshot")
    relayer = Relayer.from_services(service.services)
    relay_until_settled(relayer, service, relay_chain)
    first = relay_chain.custody_events(start)
    assert len(first) == 6
    relay_chain.mine(3)  # well past the confirmation depth

    # The node comes back from a state saved before any of it.
    assert relay_chain.rpc("evm_revert", saved) is True
    assert relay_chain.head() < start

    relay_until_settled(relayer, service, relay_chain)
    relay_chain.mine(2)
    relay_until_settled(relayer, service, relay_chain)

    landed = relay_chain.custody_events(start)
    assert sorted(event_id for event_id, _, _ in landed) == sorted(e for e, _, _ in first)
    assert max(Counter(event_id for event_id, _, _ in landed).values()) == 1
    records = service.records()
    assert {r.status for r in records} == {"confirmed"}
    assert {r.tx_hash for r in records} <= {tx_hash for _, _, tx_hash in landed}
    with service.services.database.sessions() as session:
        states = set(session.scalars(select(ChainTransaction.state)))
    assert states == {TxState.CONFIRMED}


def test_a_send_between_the_chains_rollback_and_the_next_poll_takes_no_forgotten_nonce(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    """The node restored from an older state after the cycle's poll and before its send: the new
    batch must not take the nonce of a confirmed transaction the chain forgot (its records would
    read confirmed with nothing on chain); the poll then sends the forgotten one again."""
    service = make_service()
    items = [hex32(relay_items[n % len(relay_items)]) for n in range(3)]
    first = [event(f"raced-{n}", item_id=item) for n, item in enumerate(items)]
    assert post_signed(service.client, carrier, first).status_code == 202
    start = relay_chain.head() + 1
    saved = relay_chain.rpc("evm_snapshot")
    relayer = Relayer.from_services(service.services)
    relay_until_settled(relayer, service, relay_chain)
    relay_chain.mine(3)
    assert relay_chain.rpc("evm_revert", saved) is True
    later = [event(f"after-{n}", item_id=item) for n, item in enumerate(items)]
    assert post_signed(service.client, carrier, later).status_code == 202

    for sender in relayer.senders:  # the cycle's send, as if its poll came just before the revert
        sender._send(CycleReport())
    relay_until_settled(relayer, service, relay_chain)
    relay_chain.mine(2)
    relay_until_settled(relayer, service, relay_chain)

    landed = Counter(event_id for event_id, _, _ in relay_chain.custody_events(start))
    assert len(landed) == 6 and max(landed.values()) == 1
    assert {r.status for r in service.records()} == {"confirmed"}
