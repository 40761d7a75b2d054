"""Fixtures of the merchant API tests: the deliverer's clock and a merchant's webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.merchant.support import Clock, Receiver, receiving


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(clock: Clock) -> Iterator[Receiver]:
    with receiving(Receiver(clock)) as running:
        yield running
