"""The relay loop at rest: after a cycle that found nothing to do, it only asks the database for
work at each poll (no node call, no write), runs a whole cycle as soon as a record is queued, and
at least every ``relay_idle_check_seconds`` runs one anyway, which is when it finds a confirmed
transaction the chain forgot."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from app.outbox.plan import CycleReport
from app.outbox.worker import RelayLoop
from tests.app.conftest import SourceSecrets
from tests.app.ingest.support import Chain, ServiceHandle, event, hex32, post_signed
from tests.app.outbox.conftest import ServiceFactory

pytestmark = pytest.mark.anvil

IDLE_CHECK_SECONDS = 5.0


class CountedLoop:
    """A relay loop, counting its whole cycles from the second on (the first builds its
    relayer)."""

    def __init__(self, loop: RelayLoop) -> None:
        self.loop = loop
        self.full_cycles = 0
        self._counting = False

    def cycle(self) -> None:
        asyncio.run(self.loop.cycle())
        relayer = self.loop.relayer
        if relayer is not None and not self._counting:
            run_once = relayer.run_once

            def counted() -> CycleReport:
                self.full_cycles += 1
                return run_once()

            relayer.run_once = counted  # type: ignore[method-assign]
            self._counting = True


def settle(loop: CountedLoop, service: ServiceHandle, chain: Chain) -> None:
    for _ in range(20):
        if service.statuses() == {"confirmed": 2}:
            return
        chain.mine(1)
        loop.cycle()
    raise AssertionError(f"records not confirmed: {service.statuses()}")


def test_an_idle_loop_asks_only_the_database_until_work_comes_or_its_check_is_due(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    service = make_service(relay_idle_check_seconds=IDLE_CHECK_SECONDS)
    clock = [1_000.0]
    loop = CountedLoop(RelayLoop(service.services, clock=lambda: clock[0]))
    loop.cycle()  # nothing queued: an idle cycle
    for _ in range(3):
        loop.cycle()
    assert loop.full_cycles == 0

    saved = relay_chain.rpc("evm_snapshot")
    start = relay_chain.head() + 1
    events = [event(f"idle-{n}", item_id=hex32(relay_items[n])) for n in range(2)]
    assert post_signed(service.client, carrier, events).status_code == 202
    loop.cycle()  # the queued records wake it at once, whatever the clock says
    assert loop.full_cycles == 1
    assert service.statuses() == {"submitted": 2}
    settle(loop, service, relay_chain)
    loop.cycle()  # idle again
    cycles = loop.full_cycles

    # The node comes back from a state saved before the send: nothing is queued or open, so the
    # idle loop does not see it until its whole cycle is due.
    relay_chain.mine(2)
    assert relay_chain.rpc("evm_revert", saved) is True
    loop.cycle()
    assert loop.full_cycles == cycles
    assert service.statuses() == {"confirmed": 2}

    clock[0] += IDLE_CHECK_SECONDS
    loop.cycle()
    assert loop.full_cycles == cycles + 1
    assert service.statuses() == {"submitted": 2}
    settle(loop, service, relay_chain)
    landed = Counter(event_id for event_id, _, _ in relay_chain.custody_events(start))
    assert len(landed) == 2 and max(landed.values()) == 1
