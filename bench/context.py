"""What every suite gets: a connection to a fresh Anvil node through Ape, and its accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ape.api import ReceiptAPI
from ape.api.accounts import TestAccountAPI

from bench.gas_profile import profile


@dataclass(frozen=True)
class BenchContext:
    """A fresh chain for the run. Suites deploy their own contracts on it.

    ``project`` is Ape's local project (compiled artifacts in ``.build/``); the accounts are
    the node's funded test accounts, named by role.
    """

    project: Any
    rpc_url: str
    admin: TestAccountAPI
    verifier: TestAccountAPI
    merchant: TestAccountAPI
    oracle: TestAccountAPI
    shopper: TestAccountAPI


def gas_used(receipt: ReceiptAPI) -> int:
    """Gas a mined transaction used, after checking it succeeded."""
    if receipt.failed:
        raise RuntimeError(f"benchmark transaction {receipt.txn_hash} failed")
    return int(receipt.gas_used)


def tx_hash(receipt: ReceiptAPI) -> str:
    value: Any = receipt.txn_hash
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def breakdown(ctx: BenchContext, receipt: ReceiptAPI, contracts: Mapping[str, Any]) -> str:
    """Where the transaction's gas went (``bench.gas_profile``), its calls named by
    ``contracts`` (label -> contract); empty when the node keeps no opcode trace."""
    found = profile(ctx.rpc_url, tx_hash(receipt))
    if found is None:
        return ""
    return found.describe({str(c.address).lower(): label for label, c in contracts.items()})
