"""The stats tests' service answers from the counters as they are after each step: no refresh
delay (a service keeps its rendered answers for ``stats_refresh_seconds``)."""

from __future__ import annotations

import pytest

from app.settings import Settings


@pytest.fixture
def shop_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"confirmation_depth": 0, "stats_refresh_seconds": 0})
