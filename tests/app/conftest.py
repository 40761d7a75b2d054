"""The service under test: a real Anvil with the suite deployed by `ape run deploy`, a real SQLite
file per test, and the app built by `create_app` with settings pointing at both.

Keys as the deployer grants the roles on a local network: the custody oracle is test account 1
(the registry's ORACLE_ROLE), the logistics oracle test account 8 (the escrow's ORACLE_ROLE), the
attester test account 6. Two carriers: ``acme-carrier`` (carrier id 1, the one merchants assign in
tests) and ``rival-carrier`` (carrier id 2)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web3 import Web3

from app.chain.contracts import connect
from app.main import create_app
from app.settings import Environment, Settings, SourceCredentials, SourceKind
from harness.ape_run import TEST_PRIVATE_KEYS, invoke
from harness.nodes import ChainNode, anvil_command, free_port, running, subprocess_env
from tests.app.databases import (
    BACKENDS,
    BOTH_MARKER,
    DatabaseServers,
    ServiceDatabases,
    chosen_backend,
)

# The index and shopper tests' fixtures (the suite driven with web3, fresh actors, an app whose
# indexer starts at the test's first block), for every directory of service tests that uses them.
from tests.app.index.actors import (  # noqa: F401
    buyer,
    merchant,
    shop,
    shop_settings,
    shopper,
    start_block,
    suite,
)
from tests.app.page.browser_checks import browser_tab  # noqa: F401  (a fixture)

ORACLE_KEY = TEST_PRIVATE_KEYS[1]
LOGISTICS_ORACLE_KEY = TEST_PRIVATE_KEYS[8]
ATTESTER_KEY = TEST_PRIVATE_KEYS[6]
CARRIER = "acme-carrier"
CARRIER_ID = 1
# The merchant whose goods acme-carrier moves before a sale (app.ingest.custody_scope): test
# account 2, the merchant of the ingestion and relay tests.
CARRIER_MERCHANT = Account.from_key(TEST_PRIVATE_KEYS[2]).address
RIVAL_CARRIER = "rival-carrier"
RIVAL_CARRIER_ID = 2
BUREAU = "north-bureau"
VERIFIER = "platform-verifier"


@dataclass(frozen=True)
class Deployment:
    """The suite on the session's Anvil: where its record and ABIs were written."""

    rpc_url: str
    deployments_dir: Path
    abi_dir: Path
    addresses: dict[str, str]


@dataclass(frozen=True)
class SourceSecrets:
    """A data source's credentials, in the clear, as the source itself holds them."""

    name: str
    api_key: str
    hmac_secret: str
    carrier_id: int | None = None


def ape_environment(rpc_url: str, base: Path) -> dict[str, str]:
    """The environment of `ape run` on the node at ``rpc_url`` with records kept under ``base``."""
    return subprocess_env(
        APE_FOUNDRY_HOST=rpc_url,
        TRUSTMALL_DEPLOYMENTS_DIR=str(base / "deployments"),
        TRUSTMALL_ABI_DIR=str(base / "abi"),
        NO_COLOR="1",
    )


def deploy_suite(rpc_url: str, base: Path, *options: str) -> Deployment:
    """A fresh suite (`ape run deploy --redeploy`, the test oracles) with its record and ABIs
    under ``base``: the script's own click command, run in this process on the node at
    ``rpc_url`` (an `ape run` process would cost seconds to start)."""
    from scripts.deploy import cli

    run = invoke(
        cli, rpc_url,
        "--redeploy", "--oracle", _address(ORACLE_KEY),
        "--logistics-oracle", _address(LOGISTICS_ORACLE_KEY), *options,
        "--deployments-dir", str(base / "deployments"), "--abi-dir", str(base / "abi"),
    )  # fmt: skip
    assert run.returncode == 0, run.output
    record = json.loads((base / "deployments" / "1337.json").read_text())
    addresses = {name: entry["address"] for name, entry in record["contracts"].items()}
    return Deployment(rpc_url, base / "deployments", base / "abi", addresses)


@pytest.fixture(scope="session")
def deployment(anvil: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return deploy_suite(anvil.rpc_url, tmp_path_factory.mktemp("service-suite"))


@pytest.fixture(scope="module")
def fork(
    anvil: ChainNode, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChainNode]:
    """An Anvil forked from the session's, with its suite: a module's own chain to reorganise."""
    port = free_port()
    log: Path = tmp_path_factory.mktemp("fork-anvil") / "anvil.log"
    with running(anvil_command(port, "--fork-url", anvil.rpc_url), port, log) as node:
        yield node


@pytest.fixture(scope="session")
def carrier_secrets() -> SourceSecrets:
    return SourceSecrets(CARRIER, secrets.token_urlsafe(24), secrets.token_urlsafe(32), CARRIER_ID)


@pytest.fixture(scope="session")
def rival_carrier_secrets() -> SourceSecrets:
    return SourceSecrets(
        RIVAL_CARRIER, secrets.token_urlsafe(24), secrets.token_urlsafe(32), RIVAL_CARRIER_ID
    )


@pytest.fixture(scope="session")
def bureau_secrets() -> SourceSecrets:
    return SourceSecrets(BUREAU, secrets.token_urlsafe(24), secrets.token_urlsafe(32))


@pytest.fixture(scope="session")
def database_servers() -> Iterator[DatabaseServers]:
    servers = DatabaseServers()
    yield servers
    servers.close()


@pytest.fixture
def databases(
    request: pytest.FixtureRequest, database_servers: DatabaseServers
) -> ServiceDatabases:
    """Where this test's databases are made: SQLite files, or a PostgreSQL server (the test's
    parameter when it is marked ``both_databases``, else ``TRUSTMALL_TEST_DATABASE``)."""
    return database_servers.backend(getattr(request, "param", None) or chosen_backend())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_databases`` run on SQLite and on PostgreSQL."""
    marked = metafunc.definition.get_closest_marker(BOTH_MARKER) is not None
    if marked and "databases" in metafunc.fixturenames and chosen_backend() == "sqlite":
        metafunc.parametrize("databases", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def verifier_secrets() -> SourceSecrets:
    """A platform verifier's credentials (the reader of shoppers' problem reports); the settings
    name no verifier unless a test adds it (``tests.app.page.problem_reports_support``)."""
    return SourceSecrets(VERIFIER, secrets.token_urlsafe(24), secrets.token_urlsafe(32))


def carrier_moves_goods_of(settings: Settings, seller: str) -> Settings:
    """``settings`` with ``seller`` among the merchants whose goods acme-carrier moves."""
    carrier = settings.sources[CARRIER]
    moved = carrier.model_copy(update={"merchants": carrier.merchants | {seller}})
    return settings.model_copy(update={"sources": {**settings.sources, CARRIER: moved}})


@pytest.fixture
def settings(
    deployment: Deployment,
    databases: ServiceDatabases,
    tmp_path: Path,
    carrier_secrets: SourceSecrets,
    rival_carrier_secrets: SourceSecrets,
    bureau_secrets: SourceSecrets,
) -> Settings:
    """Settings of one test's service: its own database file; background workers off (tests
    that need the relayer or indexer start them). The environment is named: the default is
    production, which refuses the raw test keys."""

    def source(
        kind: SourceKind, credentials: SourceSecrets, merchants: frozenset[str] = frozenset()
    ) -> SourceCredentials:
        return SourceCredentials(
            kind=kind,
            api_key=SecretStr(credentials.api_key),
            hmac_secret=SecretStr(credentials.hmac_secret),
            carrier_id=credentials.carrier_id,
            merchants=merchants,
        )

    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        rpc_url=deployment.rpc_url,
        deployments_dir=deployment.deployments_dir,
        abi_dir=deployment.abi_dir,
        database_url=databases.url(tmp_path, "service"),
        oracle_private_key=SecretStr(ORACLE_KEY),
        logistics_oracle_private_key=SecretStr(LOGISTICS_ORACLE_KEY),
        attester_private_key=SecretStr(ATTESTER_KEY),
        report_encryption_key=SecretStr(Fernet.generate_key().decode()),
        webhook_encryption_key=SecretStr(Fernet.generate_key().decode()),
        sources={
            CARRIER: source(SourceKind.CARRIER, carrier_secrets, frozenset({CARRIER_MERCHANT})),
            RIVAL_CARRIER: source(SourceKind.CARRIER, rival_carrier_secrets),
            BUREAU: source(SourceKind.BUREAU, bureau_secrets),
        },
        run_background_tasks=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def w3(anvil: ChainNode) -> Web3:
    return connect(anvil.rpc_url)


def _address(private_key: str) -> str:
    from eth_account import Account

    return str(Account.from_key(private_key).address)
