"""Fixtures of the ingestion tests: the suite on the session's Anvil, registered items."""

from __future__ import annotations

import pytest

from harness.nodes import ChainNode
from tests.app.conftest import Deployment, SourceSecrets
from tests.app.ingest.support import Chain

# A GTIN under a company prefix ("7031") no other test of the session is granted.
GTIN = "07031234567895"
GS1_SERIAL = "RELAY-1"


@pytest.fixture(scope="session")
def chain(anvil: ChainNode, deployment: Deployment) -> Chain:
    return Chain.of(anvil.rpc_url, deployment)


@pytest.fixture(scope="session")
def items(chain: Chain) -> list[bytes]:
    """Items the merchant registered (and a GS1-named one, last)."""
    return [*chain.register_skus(20, "ingest"), chain.register_gs1(GTIN, GS1_SERIAL)]


@pytest.fixture
def carrier(carrier_secrets: SourceSecrets) -> SourceSecrets:
    return carrier_secrets


@pytest.fixture
def rival_carrier(rival_carrier_secrets: SourceSecrets) -> SourceSecrets:
    return rival_carrier_secrets


@pytest.fixture
def bureau(bureau_secrets: SourceSecrets) -> SourceSecrets:
    return bureau_secrets
