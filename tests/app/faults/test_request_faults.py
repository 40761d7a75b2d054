"""Merchants' signed requests through kill -9 mid-batch: fresh merchants post signed
``registerItems`` requests (each merchant its nonces in order) while the service relays them with
the keeper's key through the forwarder's ``executeBatch``. The service is killed with SIGKILL once
some are journalled and sent but not settled, and started again on the same database; the chain
node is killed too and restarted from a state saved seconds before, which takes requests already
run (and confirmed by the service) off the chain. The chain then holds every accepted request run
once (one ``ExecutedForwardRequest`` per signer and nonce, its call succeeded), every item
registered once under its merchant, the outbox empty and every request's status ``confirmed``.
Real processes throughout (Anvil, uvicorn, SQLite): see ``harness.faults`` and
``harness.request_faults``.

This is the smoke: 40 requests of 8 merchants, one kill of each kind. `make verify`'s faults
campaign (verify/faults.py) streams hundreds of requests beside the carriers' events and the
keeper's duties through more kills, and reports its figures.
"""

from __future__ import annotations

from pathlib import Path

from harness.faults import FaultPlan, run_faults

SMOKE = FaultPlan(
    events=0,
    node_kills=1,
    service_kills=1,
    keeper_orders=0,
    merchant_requests=40,
    merchants=8,
    request_items=3,
    # About 5 s of stream: the kills strike while it flows (each waits for its moment).
    requests_per_second=8.0,
    deadline_seconds=120,
)


def test_every_accepted_signed_request_runs_once_through_service_and_node_kills_mid_batch(
    tmp_path: Path,
) -> None:
    report = run_faults(SMOKE, tmp_path)
    print(report.summary())
    assert [fault.kind for fault in report.faults] == ["node", "service"]
    node_kill, service_kill = report.faults
    # The service died mid-relay: requests sent in a batch, their records not yet settled.
    assert service_kill.requests_in_flight > 0, service_kill
    assert service_kill.request_batches_in_flight > 0, service_kill
    # The node went back to before requests it had run: they had to run again, once.
    assert node_kill.blocks_rolled_back > 0 and node_kill.requests_rolled_back > 0, node_kill
    assert all(kill.at_requests > 0 for kill in report.faults), report.faults
    merchant = report.merchant
    assert merchant is not None
    assert merchant.accepted == merchant.planned == SMOKE.merchant_requests
    assert merchant.executed == merchant.accepted
    assert merchant.lost == merchant.twice == merchant.reverted == merchant.unexpected == 0
    assert merchant.items == merchant.items_registered == 40 * SMOKE.request_items
    assert merchant.items_missing == merchant.items_twice == merchant.items_wrong_merchant == 0
    assert merchant.outbox_open == merchant.outbox_failed == 0
    assert merchant.outbox_confirmed == merchant.status_confirmed == merchant.accepted
    # Batches: several requests to an executeBatch transaction.
    assert 0 < merchant.transactions < merchant.accepted
    assert report.exactly_once
