"""The public profile end to end on an Anvil that serves Base Sepolia's chain id (84532), reached
as Ape's ``base:sepolia:node`` through ``BASE_SEPOLIA_RPC_URL`` as a developer would: the deploy
and an operator script sign with an Ape keystore account and wait for the network's confirmation
depth; a test account is refused; the service runs with keystores and indexes that deep.

Anvil mines each transaction at once and a block every quarter second besides (mixed mining), so
that the depth is reached without anyone mining by hand; its base fee is Base's order of size.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web3 import Web3

from app.domain.networks import network_profile
from app.main import create_app
from app.settings import Environment, Settings
from harness.ape_run import Run, invoke, run_ape
from harness.nodes import ChainNode, anvil_command, rpc, subprocess_env
from tests.conftest import node_on_a_free_port

CHAIN_ID = 84532
NETWORK = "base:sepolia:node"
PROFILE = network_profile(CHAIN_ID)
PASSPHRASE = "correct horse battery staple"
# scrypt's cost lowered for speed: the file is a real keystore all the same.
KDF_N = 2**10
ACTIVE = 1  # IProductRegistry.MerchantStatus.Active
CONFIRMED = re.compile(r"confirmed: block (\d+) is (\d+) blocks deep \(head (\d+)\)")


@dataclass(frozen=True)
class Keystore:
    path: Path
    address: str


def keystore(folder: Path, name: str) -> Keystore:
    account = Account.create()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSPHRASE, iterations=KDF_N)))
    return Keystore(path, str(account.address))


@dataclass(frozen=True)
class Public:
    node: ChainNode
    deployer: Keystore  # an Ape keystore account, alias "ops"
    oracle: Keystore
    logistics_oracle: Keystore
    arbiter: str
    env: dict[str, str]
    deployments: Path
    abi: Path

    def ape(self, *args: str) -> Run:
        return run_ape(self.env, *args, network=NETWORK)


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Public]:
    base = tmp_path_factory.mktemp("base-sepolia")

    def command(port: int) -> list[str]:
        extra = ("--mixed-mining", "--block-time", "0.25", "--base-fee", "1000000")
        return anvil_command(port, *extra, chain_id=CHAIN_ID)

    with node_on_a_free_port(command, base / "anvil.log") as node:
        deployer = keystore(base / "ape" / "accounts", "ops")
        rpc(node.rpc_url, "anvil_setBalance", [deployer.address, hex(10**18)])
        env = subprocess_env(
            BASE_SEPOLIA_RPC_URL=node.rpc_url,
            APE_DATA_FOLDER=str(base / "ape"),
            APE_ACCOUNTS_ops_PASSPHRASE=PASSPHRASE,
            TRUSTMALL_DEPLOYMENTS_DIR=str(base / "deployments"),
            TRUSTMALL_ABI_DIR=str(base / "abi"),
            NO_COLOR="1",
        )
        services = base / "service-keys"
        oracle, logistics = keystore(services, "oracle"), keystore(services, "logistics")
        arbiter = str(Account.create().address)
        dirs = (base / "deployments", base / "abi")
        yield Public(node, deployer, oracle, logistics, arbiter, env, *dirs)


@pytest.fixture(scope="module")
def deployed(public: Public) -> Run:
    parties = {
        "--oracle": public.oracle.address,
        "--logistics-oracle": public.logistics_oracle.address,
        "--arbiter": public.arbiter,
    }
    return public.ape("deploy", "--account", "ops", *(t for p in parties.items() for t in p))


def confirmed(run: Run) -> tuple[int, int, int]:
    found = CONFIRMED.search(run.output)
    assert found, run.output
    block, deep, head = (int(n) for n in found.groups())
    return block, deep, head


def test_deploy_with_a_keystore_account_writes_the_record_once_confirmed(
    public: Public, deployed: Run
) -> None:
    assert deployed.returncode == 0, deployed.output
    record = json.loads((public.deployments / f"{CHAIN_ID}.json").read_text())
    assert record["chain_id"] == CHAIN_ID
    # The network choice, not the RPC URL Ape's own choice would carry (it may hold an API key).
    assert record["network"] == NETWORK and public.node.rpc_url not in json.dumps(record)
    registry, escrow = record["contracts"]["ProductRegistry"], record["contracts"]["OrderEscrow"]
    assert registry["deployer"] == record["deployer"] == public.deployer.address
    assert registry["roles"]["ORACLE_ROLE"] == [public.oracle.address]
    assert escrow["roles"]["ORACLE_ROLE"] == [public.logistics_oracle.address]
    # The depth was waited for before the record was written: the last block of the run (at or
    # after every recorded deployment) lay the network's depth deep.
    block, deep, head = confirmed(deployed)
    assert deep >= PROFILE.confirmation_depth > 1 and head - block == deep
    assert max(entry["block_number"] for entry in record["contracts"].values()) <= block
    # Every transaction paid EIP-1559 fees as the profile says.
    fees = PROFILE.fees_wei()
    for entry in record["contracts"].values():
        sent = rpc(public.node.rpc_url, "eth_getTransactionByHash", [entry["tx_hash"]])
        assert isinstance(sent, dict) and sent["type"] == "0x2"
        assert int(sent["maxFeePerGas"], 16) == fees["max_fee"]
        assert int(sent["maxPriorityFeePerGas"], 16) == fees["max_priority_fee"]


def test_deploy_with_a_test_account_is_refused_before_anything_is_sent(
    public: Public, tmp_path: Path
) -> None:
    from scripts.deploy import cli

    nonce = Web3(Web3.HTTPProvider(public.node.rpc_url)).eth.get_transaction_count
    test_account = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    before = nonce(test_account)
    parties = ("--oracle", public.oracle.address, "--logistics-oracle", public.oracle.address)
    run = invoke(
        cli,
        public.node.rpc_url,
        *("--account", "TEST::0", *parties, "--deployments-dir", str(tmp_path)),
        network=NETWORK,
    )

    assert run.returncode == 2, run.output
    assert (
        f"Error: chain {CHAIN_ID} (Base Sepolia) is a public network: it takes keystore accounts "
        f"only, not account {test_account} (a test)" in run.output
    )
    assert nonce(test_account) == before and not list(tmp_path.iterdir())


@pytest.fixture
def keystores_here(public: Public, monkeypatch: pytest.MonkeyPatch) -> str:
    """The deployer's Ape keystore in this process's Ape, as ``ape accounts import`` would have
    put it, under an alias of its own; Ape's caches of loaded accounts restored afterwards."""
    from ape import accounts
    from ape.managers.accounts import AccountManager
    from ape_accounts.accounts import AccountContainer

    alias = "trustmall-networks-ops"
    folder = public.deployer.path.parent
    (folder / f"{alias}.json").write_text(public.deployer.path.read_text())
    monkeypatch.setitem(accounts.containers["accounts"].__dict__, "data_folder", folder)
    monkeypatch.setattr(AccountContainer, "loaded_accounts", {})
    monkeypatch.setattr(AccountManager, "_alias_to_account_cache", {})
    monkeypatch.setenv(f"APE_ACCOUNTS_{alias}_PASSPHRASE", PASSPHRASE)
    return alias


def test_an_operator_script_signs_with_the_keystore_and_waits_for_the_depth(
    public: Public, deployed: Run, keystores_here: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts.ops import cli

    merchant = Account.create().address
    # The platform's identity key: the development one is refused off local networks.
    monkeypatch.setenv("TRUSTMALL_IDENTITY_KEY", "0x" + secrets.token_hex(32))
    run = invoke(
        cli,
        public.node.rpc_url,
        *("approve-merchant", merchant, "--name", "Acme", "--identity", "KVK 1"),
        *("--account", keystores_here, "--deployments-dir", str(public.deployments)),
        network=NETWORK,
    )

    assert run.returncode == 0, run.output
    block, deep, head = confirmed(run)
    assert deep >= PROFILE.confirmation_depth and head - block == deep
    record = json.loads((public.deployments / f"{CHAIN_ID}.json").read_text())
    address = record["contracts"]["ProductRegistry"]["address"]
    registry = Web3(Web3.HTTPProvider(public.node.rpc_url)).eth.contract(
        address=address, abi=json.loads((public.abi / "ProductRegistry.json").read_text())
    )
    status, _ = registry.functions.merchantStanding(merchant).call(block_identifier=block)
    assert status == ACTIVE


def service_settings(public: Public, tmp_path: Path, **given: object) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        rpc_url=public.node.rpc_url,
        deployments_dir=public.deployments,
        abi_dir=public.abi,
        database_url=f"sqlite:///{tmp_path / 'service.db'}",
        oracle_keystore=public.oracle.path,
        oracle_keystore_passphrase=SecretStr(PASSPHRASE),
        logistics_oracle_keystore=public.logistics_oracle.path,
        logistics_oracle_keystore_passphrase=SecretStr(PASSPHRASE),
        run_background_tasks=False,
        **given,  # type: ignore[arg-type]
    )


def test_the_service_runs_with_keystores_and_indexes_the_networks_depth_below_the_head(
    public: Public, deployed: Run, tmp_path: Path
) -> None:
    app = create_app(service_settings(public, tmp_path, chain_id=CHAIN_ID))
    assert app.state.services.keys.oracle().address == public.oracle.address

    with TestClient(app) as client:
        progress = app.state.index.indexer.run_once()
        ready = client.get("/readyz")

    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["confirmation_depth"] == PROFILE.confirmation_depth
    # The index stopped the depth below the head it saw.
    assert progress.last_block == progress.safe_head == progress.head - PROFILE.confirmation_depth


def test_the_service_without_the_chain_id_refuses_a_node_of_a_public_chain(
    public: Public, deployed: Run, tmp_path: Path
) -> None:
    with TestClient(create_app(service_settings(public, tmp_path))) as client:
        answer = client.get("/readyz")

    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "deployment_missing"
    assert f"set TRUSTMALL_CHAIN_ID={CHAIN_ID}" in error["details"]["error"]
