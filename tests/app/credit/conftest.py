"""Suites deployed WITH their credit part (AttestationVerifier, CreditLines, a DevStablecoin pool)
on the session's Anvil, each in its own deployments directory, and settings pointing at them.

``credit_deployment`` has a quorum of 1, so the service's own attester key (test account 6) makes
an application alone; ``cosign_deployment`` is the default deployment, quorum 2 with the bureau's
cosigner (test account 9) as the second attester, so a report waits for its cosignature."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from harness.ape_run import TEST_PRIVATE_KEYS
from harness.nodes import ChainNode
from tests.app.conftest import Deployment, deploy_suite
from tests.app.credit.line_story import story  # noqa: F401  (the credit line tests' story)

# The deployment's default second attester on a local network: the bureau's cosigning key.
COSIGNER_KEY = TEST_PRIVATE_KEYS[9]


@pytest.fixture(scope="module")
def credit_deployment(anvil: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployment = deploy_suite(
        anvil.rpc_url,
        tmp_path_factory.mktemp("credit-suite"),
        "--dev-stablecoin",
        "--quorum",
        "1",
    )
    assert "AttestationVerifier" in deployment.addresses, deployment.addresses
    return deployment


@pytest.fixture(scope="module")
def cosign_deployment(anvil: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployment = deploy_suite(
        anvil.rpc_url, tmp_path_factory.mktemp("cosign-suite"), "--dev-stablecoin"
    )
    assert "AttestationVerifier" in deployment.addresses, deployment.addresses
    return deployment


@pytest.fixture(scope="session")
def identity_key() -> bytes:
    """The platform's identity key in these tests (a random one: the public development key is
    refused outside development)."""
    return secrets.token_bytes(32)


def _on(settings: Settings, deployment: Deployment, identity_key: bytes) -> Settings:
    return settings.model_copy(
        update={
            "deployments_dir": deployment.deployments_dir,
            "abi_dir": deployment.abi_dir,
            "identity_key": SecretStr("0x" + identity_key.hex()),
        }
    )


@pytest.fixture
def credit_settings(
    settings: Settings, credit_deployment: Deployment, identity_key: bytes
) -> Settings:
    """The test's settings (own database, same sources and keys) on the credit deployment."""
    return _on(settings, credit_deployment, identity_key)


@pytest.fixture
def cosign_settings(
    settings: Settings, cosign_deployment: Deployment, identity_key: bytes
) -> Settings:
    """The test's settings on the quorum-2 deployment."""
    return _on(settings, cosign_deployment, identity_key)


@pytest.fixture
def credit_client(credit_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(credit_settings)) as test_client:
        yield test_client


@pytest.fixture
def cosign_client(cosign_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(cosign_settings)) as test_client:
        yield test_client
