"""The networks TrustMall runs on and each one's rules, in one place: the deploy script, the
operator scripts (``scripts/_lib/chain.py``) and the service's settings (``app/settings.py``) all
read them from here, by chain id.

A public network takes keystore accounts only (Ape's ``ape accounts`` keystores for the scripts,
encrypted keystore files for the service): a test account's key is public and a raw key in the
environment leaks into shells and process listings. Its transactions carry EIP-1559 fees within
the profile's cap, and nothing is taken as final before ``confirmation_depth`` blocks sit on top.
A chain id no profile names is treated as public with the strictest defaults: a rule must never
relax because a network is unknown.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.errors import TrustMallError

GWEI = 10**9
# A chain id no profile names: blocks to wait before anything is final.
UNKNOWN_DEPTH = 12


class AccountKind(StrEnum):
    KEYSTORE = "keystore"  # an encrypted keystore (Ape's `ape accounts`, or the service's files)
    TEST = "test"  # one of the public test mnemonic's accounts
    RAW_KEY = "raw key"  # a private key given in the clear (the service's *_PRIVATE_KEY)
    OTHER = "other"  # any other signer an Ape plugin offers


class NetworkRuleRefused(TrustMallError, ValueError):
    """A network's rule refuses what was asked (a signer, a confirmation depth)."""


class NetworkProfile(BaseModel):
    """One network: what it is and the rules every script and the service follow on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain_id: Annotated[int, Field(gt=0)]
    name: str
    # Ape's network choice (``ape run ... --network <ape_network>:node``), when Ape knows one.
    ape_network: str | None = None
    public: bool
    # Blocks on top of a transaction's block before it counts: the scripts wait for them before a
    # command ends, and the service's index and relayer stop this far below the head.
    confirmation_depth: Annotated[int, Field(ge=0)]
    # EIP-1559: the most a transaction may pay per gas (base fee and tip), and the tip.
    max_fee_gwei: Annotated[Decimal, Field(gt=0)] | None = None
    priority_fee_gwei: Annotated[Decimal, Field(ge=0)] | None = None
    # How often the scripts look for a new block while they wait for the depth.
    block_seconds: Annotated[float, Field(gt=0)] = 2.0
    explorer_url: str | None = None
    # The environment variable ape-config.yaml reads the network's RPC URL from.
    rpc_url_env: str | None = None

    @property
    def account_kinds(self) -> frozenset[AccountKind]:
        """The kinds of signer this network accepts."""
        return frozenset({AccountKind.KEYSTORE}) if self.public else frozenset(AccountKind)

    @property
    def label(self) -> str:
        return f"chain {self.chain_id} ({self.name})"

    def fees_wei(self) -> dict[str, int]:
        """The EIP-1559 fee fields a transaction takes here (none: the node's own estimate)."""
        fees: dict[str, int] = {}
        if self.max_fee_gwei is not None:
            fees["max_fee"] = int(self.max_fee_gwei * GWEI)
        if self.priority_fee_gwei is not None:
            fees["max_priority_fee"] = int(self.priority_fee_gwei * GWEI)
        return fees

    def check_signer(self, kind: AccountKind, who: str) -> None:
        """Refuses a signer of a kind this network does not take, saying what it takes instead."""
        if kind in self.account_kinds:
            return
        raise NetworkRuleRefused(
            f"{self.label} is a public network: it takes keystore accounts only, not {who} "
            f"(a {kind}); import the key once with `ape accounts import ALIAS` and pass "
            "--account ALIAS (the service: TRUSTMALL_*_KEYSTORE and its passphrase)"
        )

    def check_depth(self, depth: int) -> None:
        """Refuses a confirmation depth below the network's."""
        if depth < self.confirmation_depth:
            raise NetworkRuleRefused(
                f"{self.label}: confirmation depth {depth} is below the network's "
                f"{self.confirmation_depth}"
            )

    def explorer_link(self, kind: str, value: str) -> str | None:
        """``kind`` is "tx" or "address"."""
        return f"{self.explorer_url}/{kind}/{value}" if self.explorer_url else None


# Ape's local networks (Anvil, Hardhat, the in-process EVM), and Anvil's own default chain id.
LOCAL = NetworkProfile(chain_id=1337, name="local devnet", public=False, confirmation_depth=0)
PROFILES = (
    LOCAL,
    LOCAL.model_copy(update={"chain_id": 31337}),
    # Base's blocks come every 2 s from one sequencer; its unsafe head can still be reorganised
    # until the batch lands on L1, so a few blocks on the testnet, more where money is real.
    NetworkProfile(
        chain_id=84532,
        name="Base Sepolia",
        ape_network="base:sepolia",
        public=True,
        confirmation_depth=3,
        max_fee_gwei=Decimal("1"),
        priority_fee_gwei=Decimal("0.001"),
        explorer_url="https://sepolia.basescan.org",
        rpc_url_env="BASE_SEPOLIA_RPC_URL",
    ),
    NetworkProfile(
        chain_id=8453,
        name="Base",
        ape_network="base:mainnet",
        public=True,
        confirmation_depth=10,
        max_fee_gwei=Decimal("0.5"),
        priority_fee_gwei=Decimal("0.001"),
        explorer_url="https://basescan.org",
        rpc_url_env="BASE_MAINNET_RPC_URL",
    ),
)


def network_profile(chain_id: int) -> NetworkProfile:
    """The profile of ``chain_id``; a chain no profile names is public, at the strictest."""
    for profile in PROFILES:
        if profile.chain_id == chain_id:
            return profile
    return NetworkProfile(
        chain_id=chain_id, name="unknown network", public=True, confirmation_depth=UNKNOWN_DEPTH
    )


def profile_of_ape_network(choice: str) -> NetworkProfile | None:
    """The profile of an Ape network choice (``base:sepolia`` or ``base:sepolia:node``)."""
    named = ":".join(choice.split(":")[:2])
    return next((p for p in PROFILES if p.ape_network == named), None)
