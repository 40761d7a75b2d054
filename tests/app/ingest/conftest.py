"""Fixtures of the ingestion tests: the suite on the session's Anvil, registered items."""

from __future__ import annotations

import pytest

from app.domain.ids import item_id_from_gs1
from tests.app.conftest import Deployment, SourceSecrets
from tests.app.ingest.support import Chain, new_item_ids
from tests.support.nodes import ChainNode

GTIN = "09506000134352"
GS1_SERIAL = "RELAY-1"


@pytest.fixture(scope="session")
def chain(anvil: ChainNode, deployment: Deployment) -> Chain:
    return Chain.of(anvil.rpc_url, deployment)


@pytest.fixture(scope="session")
def items(chain: Chain) -> list[bytes]:
    """Items the merchant registered (and a GS1-named one, last)."""
    ids = [*new_item_ids(20, "ingest"), item_id_from_gs1(GTIN, GS1_SERIAL)]
    chain.register_items(ids)
    return ids


@pytest.fixture
def carrier(carrier_secrets: SourceSecrets) -> SourceSecrets:
    return carrier_secrets


@pytest.fixture
def bureau(bureau_secrets: SourceSecrets) -> SourceSecrets:
    return bureau_secrets
