"""Run the Ape scripts' commands against the session's Anvil, and read the chain back with web3.

``ape_run("merchant", "register", ...)`` calls the click command in this process, as `ape run`
would, with ``--network ethereum:local:foundry --provider-settings {"host": <the Anvil>}``: a
fraction of a second instead of the 2-4 s of an `ape run` process. ``ape_process`` spawns the
real `ape run` where a test needs the process itself (a crash, Ape's own variables). Deployment
records and ABIs go to temporary directories through ``TRUSTMALL_DEPLOYMENTS_DIR`` and
``TRUSTMALL_ABI_DIR``, never into the repository.
"""

from __future__ import annotations

import importlib
import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from web3 import Web3
from web3.contract import Contract

from app.chain.contracts import connect
from harness.ape_run import (  # noqa: F401 - the role constants are imported from here
    ADMIN,
    ARBITER,
    ATTESTER,
    BUYER,
    BUYER_ACCOUNT,
    COSIGNER,
    COSIGNER_ACCOUNT,
    LENDER,
    LENDER_ACCOUNT,
    LOGISTICS_ORACLE,
    LOGISTICS_ORACLE_ACCOUNT,
    MERCHANT,
    MERCHANT_ACCOUNT,
    NETWORK,
    ORACLE,
    ORACLE_ACCOUNT,
    OTHER_BUYER,
    OTHER_BUYER_ACCOUNT,
    RIVAL_ACCOUNT,
    RIVAL_MERCHANT,
    STRANGER,
    STRANGER_ACCOUNT,
    Run,
    fresh_command,
    run_ape,
)
from harness.nodes import ChainNode, subprocess_env

ApeRun = Callable[..., Run]


@pytest.fixture(scope="session")
def script_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("scripts")
    return {"deployments": base / "deployments", "abi": base / "abi"}


@pytest.fixture(scope="session")
def script_env(anvil: ChainNode, script_dirs: dict[str, Path]) -> dict[str, str]:
    """Environment of every `ape run`: the session's Anvil, temporary output directories."""
    return subprocess_env(
        APE_FOUNDRY_HOST=anvil.rpc_url,
        TRUSTMALL_DEPLOYMENTS_DIR=str(script_dirs["deployments"]),
        TRUSTMALL_ABI_DIR=str(script_dirs["abi"]),
        NO_COLOR="1",
    )


@pytest.fixture(scope="session")
def ape_process(script_env: dict[str, str]) -> ApeRun:
    """`ape run ...` as a process."""

    def run(*args: str, extra_env: dict[str, str] | None = None) -> Run:
        return run_ape(script_env, *args, extra_env=extra_env)

    return run


def run_in_process(
    rpc_url: str, env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None
) -> Run:
    """``ape run SCRIPT ARGS...`` as a click call in this process; an exception the command
    lets through is shown with its traceback (a user would have seen one) and exits 1."""
    script, *rest = args
    cli = fresh_command(importlib.import_module(f"scripts.{script}").cli)
    settings = json.dumps({"host": rpc_url})
    result = CliRunner().invoke(
        cli,
        [*rest, "--network", NETWORK, "--provider-settings", settings],
        env={**env, **(extra_env or {})},
    )
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return Run(result.exit_code, output)


@pytest.fixture(scope="session")
def ape_run(anvil: ChainNode, script_dirs: dict[str, Path], ape_process: ApeRun) -> ApeRun:
    """A script's command called in this process; as a process when the test sets Ape's own
    variables (a keyfile account's folder and passphrase are read once per process)."""
    env = {
        "TRUSTMALL_DEPLOYMENTS_DIR": str(script_dirs["deployments"]),
        "TRUSTMALL_ABI_DIR": str(script_dirs["abi"]),
        "NO_COLOR": "1",
    }

    def run(*args: str, extra_env: dict[str, str] | None = None) -> Run:
        if any(name.startswith("APE_") for name in extra_env or {}):
            return ape_process(*args, extra_env=extra_env)
        return run_in_process(anvil.rpc_url, env, *args, extra_env=extra_env)

    return run


@pytest.fixture(scope="session")
def w3(anvil: ChainNode) -> Web3:
    return connect(anvil.rpc_url)


@pytest.fixture(scope="session")
def registry(ape_run: ApeRun, script_dirs: dict[str, Path], w3: Web3) -> Contract:
    """The ProductRegistry that `ape run deploy` put on the session's Anvil, read through the
    ABI file the script wrote."""
    run = ape_run("deploy")
    assert run.returncode == 0, run.output
    record = json.loads((script_dirs["deployments"] / "1337.json").read_text())
    abi = json.loads((script_dirs["abi"] / "ProductRegistry.json").read_text())
    return w3.eth.contract(address=record["contracts"]["ProductRegistry"]["address"], abi=abi)


@pytest.fixture(scope="session")
def escrow(registry: Contract, script_dirs: dict[str, Path], w3: Web3) -> Contract:
    """The OrderEscrow deployed with the registry (same `ape run deploy`), through its ABI file."""
    record = json.loads((script_dirs["deployments"] / "1337.json").read_text())
    abi = json.loads((script_dirs["abi"] / "OrderEscrow.json").read_text())
    return w3.eth.contract(address=record["contracts"]["OrderEscrow"]["address"], abi=abi)


@pytest.fixture(scope="session")
def merchant(ape_run: ApeRun, registry: Contract, w3: Web3) -> str:
    """TEST::2, approved through `ape run ops approve-merchant` by the default verifier; a rival
    merchant (TEST::3) is approved directly, to save a process start."""
    run = ape_run(
        "ops", "approve-merchant", MERCHANT, "--name", "Acme Goods", "--identity", "KVK 1"
    )
    assert run.returncode == 0, run.output
    tx = registry.functions.approveMerchant(RIVAL_MERCHANT, "Rival", b"\x01" * 32).transact(
        {"from": ADMIN}
    )
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    return MERCHANT


@pytest.fixture(scope="module")
def credit(
    ape_run: ApeRun, merchant: str, script_dirs: dict[str, Path], w3: Web3
) -> dict[str, Contract]:
    """The suite with its credit part (``tests.scripts.credit_support.deployed_credit``)."""
    from tests.scripts.credit_support import deployed_credit

    return deployed_credit(ape_run, script_dirs, w3)


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def item_rows(prefix: str, count: int) -> list[str]:
    """CSV rows (sku,serial,metadata,metadata_uri) of ``count`` distinct items."""
    return [
        f'{prefix},{n:04d},"{{""name"":""{prefix} #{n}""}}",https://shop.example/{prefix}/{n}.json'
        for n in range(1, count + 1)
    ]


def events_of(contract: Contract, event: str, **filters: Any) -> list[Any]:
    return list(
        getattr(contract.events, event).get_logs(from_block=0, argument_filters=filters or None)
    )
