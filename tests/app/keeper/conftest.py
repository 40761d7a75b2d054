"""The keeper's tests run on an Anvil of their own (their clock jumps days ahead with
``evm_increaseTime``, which the session's shared chain must not see), with the suite deployed by
the deploy script's own command, and a fresh keeper key (no role: anyone may do its duties).

Each test's service indexes from the test's first block, with confirmation depth 0, and its
cycles are driven by the test: the indexer's, the keeper's and the relayer's ``run_once``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from app.chain.contracts import connect
from app.keeper.worker import Keeper, KeeperReport
from app.main import create_app
from app.outbox.models import OutboxRecord
from app.outbox.relayer import Relayer
from app.settings import Environment, Settings
from harness.nodes import ChainNode, anvil_command
from tests.app.conftest import Deployment, deploy_suite
from tests.app.databases import ServiceDatabases
from tests.app.index.actors import SuiteDriver
from tests.conftest import node_on_a_free_port

DAY = 86_400


@pytest.fixture(scope="package")
def keeper_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    log: Path = tmp_path_factory.mktemp("keeper-anvil") / "anvil.log"
    with node_on_a_free_port(anvil_command, log) as node:
        yield node


@pytest.fixture(scope="package")
def keeper_deployment(
    keeper_node: ChainNode, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    # With the credit part (quorum 2 of the attesters TEST::6 and TEST::9): the credit duties.
    return deploy_suite(
        keeper_node.rpc_url, tmp_path_factory.mktemp("keeper-suite"), "--dev-stablecoin"
    )


@pytest.fixture(scope="package")
def driver(keeper_node: ChainNode, keeper_deployment: Deployment) -> SuiteDriver:
    w3 = connect(keeper_node.rpc_url, timeout=30)
    return SuiteDriver(w3, keeper_deployment)


@pytest.fixture(scope="package")
def keeper_key(driver: SuiteDriver) -> str:
    """A key of the keeper's own, funded for gas, holding no role."""
    account = Account.create()
    driver.rpc("anvil_setBalance", account.address, hex(10 * 10**18))
    return "0x" + bytes(account.key).hex()


@pytest.fixture
def keeper_settings(
    keeper_deployment: Deployment, databases: ServiceDatabases, tmp_path: Path, keeper_key: str
) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        rpc_url=keeper_deployment.rpc_url,
        deployments_dir=keeper_deployment.deployments_dir,
        abi_dir=keeper_deployment.abi_dir,
        database_url=databases.url(tmp_path, "keeper"),
        keeper_private_key=SecretStr(keeper_key),
        report_encryption_key=SecretStr(Fernet.generate_key().decode()),
        confirmation_depth=0,
        run_background_tasks=False,
    )


@dataclass
class KeeperService:
    """One app on the test's database, its keeper and relayer driven by the test."""

    client: TestClient
    driver: SuiteDriver
    keeper: Keeper
    relayer: Relayer

    @property
    def services(self) -> Any:
        return self.client.app.state.services  # type: ignore[attr-defined]

    def index(self) -> None:
        self.client.app.state.index.indexer.run_once()  # type: ignore[attr-defined]

    def keep(self) -> KeeperReport:
        """The index brought up to the head, then one keeper cycle."""
        self.index()
        return self.keeper.run_once()

    def relay_in_one_block(self) -> None:
        """One relay cycle whose transactions all go into the next block, then that block."""
        self.driver.rpc("evm_setAutomine", False)
        try:
            self.relayer.run_once()
        finally:
            self.driver.rpc("evm_setAutomine", True)
        self.driver.mine()
        self.relayer.run_once()  # their receipts: confirmed (depth 0)

    def records(self) -> list[OutboxRecord]:
        with self.services.database.sessions() as session:
            return list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))


ServiceFactory = Callable[..., KeeperService]


@pytest.fixture
def start_block(driver: SuiteDriver) -> int:
    return driver.head() + 1


@pytest.fixture
def keeper_service(
    keeper_settings: Settings, driver: SuiteDriver, start_block: int
) -> Iterator[ServiceFactory]:
    """Starts an app on the test's database (several may run side by side or in turn)."""
    clients: list[TestClient] = []

    def make(relay_clock: Callable[[], float] | None = None, **changes: Any) -> KeeperService:
        app = create_app(keeper_settings.model_copy(update=changes))
        app.state.index.indexer.from_block = start_block
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        services = app.state.services
        relayer = (
            Relayer.from_services(services)
            if relay_clock is None
            else Relayer.from_services(services, clock=relay_clock)
        )
        return KeeperService(client, driver, Keeper.from_services(services), relayer)

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)
