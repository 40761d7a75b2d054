"""A suite deployed WITH its credit part (AttestationVerifier, CreditLines, a DevStablecoin pool)
on the session's Anvil, in its own deployments directory, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import Deployment, deploy_suite
from tests.support.nodes import ChainNode


@pytest.fixture(scope="module")
def credit_deployment(anvil: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployment = deploy_suite(
        anvil.rpc_url, tmp_path_factory.mktemp("credit-suite"), "--dev-stablecoin"
    )
    assert "AttestationVerifier" in deployment.addresses, deployment.addresses
    return deployment


@pytest.fixture
def credit_settings(settings: Settings, credit_deployment: Deployment) -> Settings:
    """The test's settings (own database, same sources and keys) on the credit deployment."""
    return settings.model_copy(
        update={
            "deployments_dir": credit_deployment.deployments_dir,
            "abi_dir": credit_deployment.abi_dir,
        }
    )


@pytest.fixture
def credit_client(credit_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(credit_settings)) as test_client:
        yield test_client


def database_file(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))
