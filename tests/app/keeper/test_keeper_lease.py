"""One keeper looks for duties at a time per database: the keeper's lease decides which of the
service's processes; the others stand by, and one takes over when the holder stops."""

from __future__ import annotations

import asyncio

import pytest

from app.keeper.worker import KeeperLoop
from tests.app.keeper.conftest import ServiceFactory

pytestmark = [pytest.mark.both_databases, pytest.mark.anvil]


def test_only_the_lease_holder_keeps_and_a_stopped_one_hands_over(
    keeper_service: ServiceFactory,
) -> None:
    first = KeeperLoop(keeper_service().client.app.state.services)  # type: ignore[attr-defined]
    second = KeeperLoop(keeper_service().client.app.state.services)  # type: ignore[attr-defined]

    assert asyncio.run(first.cycle()) == first.interval
    assert first.keeper is not None  # it looked for duties

    assert asyncio.run(second.cycle()) == second.interval
    assert second.keeper is None  # it stood by: it never even built its keeper

    first.lease.release()  # the holder stops cleanly
    assert asyncio.run(second.cycle()) == second.interval
    assert second.keeper is not None
