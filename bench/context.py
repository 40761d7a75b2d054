"""What every suite gets: a connection to a fresh Anvil node through Ape, and its accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ape.api import ReceiptAPI
from ape.api.accounts import TestAccountAPI


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
