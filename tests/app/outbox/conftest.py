"""Fixtures of the relay tests: the suite on the session's Anvil, registered items, and services
built from the per-test settings (confirmation depth 1: tests mine the blocks on top)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from harness.nodes import ChainNode
from tests.app.conftest import Deployment, SourceSecrets
from tests.app.ingest.support import Chain, ServiceHandle

ServiceFactory = Callable[..., ServiceHandle]


@pytest.fixture(scope="session")
def relay_chain(anvil: ChainNode, deployment: Deployment) -> Chain:
    return Chain.of(anvil.rpc_url, deployment)


@pytest.fixture(scope="session")
def relay_items(relay_chain: Chain) -> list[bytes]:
    return relay_chain.register_skus(60, "relay")


@pytest.fixture
def carrier(carrier_secrets: SourceSecrets) -> SourceSecrets:
    return carrier_secrets


@pytest.fixture
def rival_carrier(rival_carrier_secrets: SourceSecrets) -> SourceSecrets:
    return rival_carrier_secrets


@pytest.fixture
def relay_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"confirmation_depth": 1})


@pytest.fixture
def make_service(relay_settings: Settings) -> Iterator[ServiceFactory]:
    """Starts an app on the test's database (several may run in turn: a restart)."""
    clients: list[TestClient] = []

    def make(**changes: Any) -> ServiceHandle:
        client = TestClient(create_app(relay_settings.model_copy(update=changes)))
        client.__enter__()
        clients.append(client)
        return ServiceHandle(client)

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)
