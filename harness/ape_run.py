"""Runs the project's Ape scripts as a user does: `ape run ...` subprocesses on a given node; or
a script's click command in this process (:func:`invoke`), where a process start would cost more
than what is tested."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness.nodes import ROOT

NETWORK = "ethereum:local:foundry"
HARDHAT_NETWORK = "ethereum:local:node"  # a Hardhat node, through Ape's generic node provider
# The provider setting naming the node's URL, by provider: ape-foundry's, Ape's node provider's.
URL_SETTING = {"foundry": "host", "node": "uri"}
APE_RUN_TIMEOUT = 180

# Anvil's accounts from the shared test mnemonic, by role (Ape's TEST::N are the same).
ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # TEST::0: deployer, default verifier
ORACLE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1: default oracle
MERCHANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # TEST::2
RIVAL_MERCHANT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # TEST::3
ARBITER = RIVAL_MERCHANT  # TEST::3 is also the escrow's default arbiter
STRANGER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # TEST::4, never approved
BUYER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # TEST::5
OTHER_BUYER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # TEST::6
ATTESTER = OTHER_BUYER  # TEST::6 is also the service's attester (a default of the verifier)
LENDER = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # TEST::7
LOGISTICS_ORACLE = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"  # TEST::8: the escrow's oracle
COSIGNER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9: the bureau's attester
MERCHANT_ACCOUNT = "TEST::2"
RIVAL_ACCOUNT = "TEST::3"
STRANGER_ACCOUNT = "TEST::4"
ORACLE_ACCOUNT = "TEST::1"
BUYER_ACCOUNT = "TEST::5"
OTHER_BUYER_ACCOUNT = "TEST::6"
LENDER_ACCOUNT = "TEST::7"
LOGISTICS_ORACLE_ACCOUNT = "TEST::8"
COSIGNER_ACCOUNT = "TEST::9"
# Public keys of the public test mnemonic (Anvil prints them at start): never real money.
TEST_PRIVATE_KEYS = {
    0: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    1: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    2: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    3: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    4: "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    5: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    6: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    7: "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    8: "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    9: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
}


@dataclass(frozen=True)
class Run:
    """A finished `ape run`: exit status and what it printed (stdout and stderr together)."""

    returncode: int
    output: str


def run_ape(
    env: dict[str, str],
    *args: str,
    extra_env: dict[str, str] | None = None,
    shown: bool = False,
    timeout: float | None = APE_RUN_TIMEOUT,
    network: str = NETWORK,
) -> Run:
    """`ape run ARGS --network NETWORK` to its end; its output kept (``shown``: printed as it
    comes, not kept). In a process group of its own: whatever stops the caller (a timeout, a stop
    signal) kills it with what it started (a compiler), none left running."""
    command = [str(ROOT / ".venv" / "bin" / "ape"), "run", *args, "--network", network]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, **(extra_env or {})},
        stdin=subprocess.DEVNULL,
        stdout=None if shown else subprocess.PIPE,
        stderr=None if shown else subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    return Run(process.returncode, output or "")


_PRISTINE: dict[int, Any] = {}


def fresh_command(command: Any) -> Any:
    """A copy of a script's click command (a group with its subcommands included) as it was
    before any run. Ape's connected commands keep the provider settings of their first parse,
    so a command run in this process on one node would run on it again when given another: every
    in-process run takes a copy of the pristine command, and the command itself is never run."""
    if id(command) not in _PRISTINE:
        _PRISTINE[id(command)] = copy.deepcopy(command)
    return copy.deepcopy(_PRISTINE[id(command)])


def invoke(
    command: Any,
    rpc_url: str,
    *args: str,
    network: str = NETWORK,
    settings: dict[str, object] | None = None,
) -> Run:
    """``command`` (a script's click command, e.g. ``scripts.deploy.cli``) with ``args``, run in
    this process on the node at ``rpc_url`` through ``network``'s provider (Anvil's by default,
    or :data:`HARDHAT_NETWORK`), given ``settings`` besides the URL. Each run gets a copy of the
    command: Ape's connected command keeps the provider settings of its first parse, and tests
    use more than one node."""
    from click.testing import CliRunner

    fresh = fresh_command(command)
    fresh.params = [p for p in fresh.params if p.name not in ("network", "provider_settings")]
    url = {URL_SETTING[network.rsplit(":", 1)[-1]]: rpc_url}
    node = ["--network", network, "--provider-settings", json.dumps(url | (settings or {}))]
    with contract_types_kept():
        result = CliRunner().invoke(fresh, [*args, *node])
    return Run(result.exit_code, result.output)


@contextmanager
def contract_types_kept() -> Iterator[None]:
    """Ape's in-memory contract types as they were: Ape keys them by address under the network's
    name, which every local node shares, so what a command deployed on another node would name
    this node's contract at the same address (and decode its logs as another contract's)."""
    from ape.managers._contractscache import ContractCache

    def every_cache() -> list[Any]:
        networks = [n for nets in ContractCache._caches.values() for n in nets.values()]
        return [cache for caches in networks for cache in caches.values()]

    kept = {id(cache): dict(cache.memory) for cache in every_cache()}
    try:
        yield
    finally:
        for cache in every_cache():
            cache.memory.clear()
            cache.memory.update(kept.get(id(cache), {}))
