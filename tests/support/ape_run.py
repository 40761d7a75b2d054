"""Runs the project's Ape scripts as a user does: `ape run ...` subprocesses on a given node."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from tests.support.nodes import ROOT

NETWORK = "ethereum:local:foundry"
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
MERCHANT_ACCOUNT = "TEST::2"
RIVAL_ACCOUNT = "TEST::3"
STRANGER_ACCOUNT = "TEST::4"
ORACLE_ACCOUNT = "TEST::1"
BUYER_ACCOUNT = "TEST::5"
OTHER_BUYER_ACCOUNT = "TEST::6"
# Public keys of the public test mnemonic (Anvil prints them at start): never real money.
TEST_PRIVATE_KEYS = {
    0: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    1: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    2: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    3: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    4: "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    5: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    6: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
}


@dataclass(frozen=True)
class Run:
    """A finished `ape run`: exit status and what it printed (stdout and stderr together)."""

    returncode: int
    output: str


def run_ape(env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None) -> Run:
    command = [str(ROOT / ".venv" / "bin" / "ape"), "run", *args, "--network", NETWORK]
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, **(extra_env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=APE_RUN_TIMEOUT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout)
