"""The journal of a long merchant run: which transactions were sent and which were confirmed.

Written next to the input (``<input>.<command>.journal.json``) or at ``--journal``, atomically,
before each transaction is sent (``sent``, with its hash) and after its receipt
(``confirmed``/``failed``), in a section per chain id, registry and signing account::

    {"version": 1, "command": "register",
     "runs": {"1337:0xRegistry:0xAccount": {"transactions": [
        {"keys": ["0x<item id>", ...], "status": "confirmed", "tx_hash": "0x...",
         "block_number": 12}]}}}

Keys are item ids (register), the batch root (register-batch) or event ids (custody).
A run started again first settles ``sent`` entries from their receipts. The chain stays the
authority on what is done — the scripts re-check every row on chain — so a journal lost or stale
never makes a row go twice; it keeps the trail of transaction hashes and resolves transactions
that were in flight when a run died.

Fault injection for tests: ``TRUSTMALL_CRASH_AFTER_CHUNKS=N`` makes the process exit at once
(status 75, no clean-up) right after the N-th chunk's receipt arrives and *before* the journal
records it as confirmed — the worst moment for a crash.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from app.domain.deployments import write_json

CRASH_AFTER_CHUNKS_ENV = "TRUSTMALL_CRASH_AFTER_CHUNKS"
CRASH_EXIT_CODE = 75
VERSION = 1


def default_journal_path(input_path: Path, command: str) -> Path:
    return input_path.with_name(f"{input_path.name}.{command}.journal.json")


@dataclass
class Journal:
    """One run identity's section (chain, registry, account) of a journal file; a file keeps
    the sections of every identity that used it, so merchants may share an input file."""

    path: Path
    command: str
    chain_id: int
    registry: str
    account: str
    transactions: list[dict[str, Any]] = field(default_factory=list)
    _others: dict[str, Any] = field(default_factory=dict)
    _confirmed_this_run: int = 0

    @property
    def key(self) -> str:
        return f"{self.chain_id}:{self.registry}:{self.account}"

    @classmethod
    def open(cls, path: Path, command: str, chain_id: int, registry: str, account: str) -> Journal:
        """The journal at ``path`` (or a new one), at this run's section."""
        journal = cls(path, command, chain_id, registry, account)
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION or data.get("command") != command:
                raise click.UsageError(
                    f"{path} is not a version-{VERSION} journal of `{command}`; "
                    "pass --journal with another path"
                )
            runs = dict(data.get("runs", {}))
            journal.transactions = list(runs.pop(journal.key, {}).get("transactions", []))
            journal._others = runs
        return journal

    def save(self) -> None:
        runs = {**self._others, self.key: {"transactions": self.transactions}}
        write_json(self.path, {"version": VERSION, "command": self.command, "runs": runs})

    def pending(self) -> list[dict[str, Any]]:
        return [tx for tx in self.transactions if tx["status"] == "sent"]

    def confirmed_keys(self) -> set[str]:
        return {
            key for tx in self.transactions if tx["status"] == "confirmed" for key in tx["keys"]
        }

    def sent(self, keys: list[str], tx_hash: str) -> None:
        self.transactions.append({"keys": keys, "status": "sent", "tx_hash": tx_hash})
        self.save()

    def settle(self, tx_hash: str, *, ok: bool, block_number: int | None) -> None:
        for tx in self.transactions:
            if tx["tx_hash"] == tx_hash:
                tx["status"] = "confirmed" if ok else "failed"
                tx["block_number"] = block_number
        self.save()

    def chunk_confirmed(self, tx_hash: str, block_number: int) -> None:
        """Records a chunk's receipt; the crash hook fires just before."""
        self._confirmed_this_run += 1
        crash_after = os.environ.get(CRASH_AFTER_CHUNKS_ENV)
        if crash_after is not None and self._confirmed_this_run >= int(crash_after):
            os._exit(CRASH_EXIT_CODE)
        self.settle(tx_hash, ok=True, block_number=block_number)
