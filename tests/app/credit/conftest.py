"""A suite deployed WITH its credit part (AttestationVerifier, CreditLines, a DevStablecoin pool)
on the session's Anvil, in its own deployments directory, and settings pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import ORACLE_KEY, Deployment, _address
from tests.support.ape_run import run_ape
from tests.support.nodes import ChainNode, subprocess_env


@pytest.fixture(scope="module")
def credit_deployment(anvil: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    base = tmp_path_factory.mktemp("credit-suite")
    env = subprocess_env(
        APE_FOUNDRY_HOST=anvil.rpc_url,
        TRUSTMALL_DEPLOYMENTS_DIR=str(base / "deployments"),
        TRUSTMALL_ABI_DIR=str(base / "abi"),
        NO_COLOR="1",
    )
    run = run_ape(env, "deploy", "--redeploy", "--dev-stablecoin", "--oracle", _address(ORACLE_KEY))
    assert run.returncode == 0, run.output
    record = json.loads((base / "deployments" / "1337.json").read_text())
    addresses = {name: entry["address"] for name, entry in record["contracts"].items()}
    assert "AttestationVerifier" in addresses, addresses
    return Deployment(anvil.rpc_url, base / "deployments", base / "abi", addresses)


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
