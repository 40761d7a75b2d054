"""A file's rows sent to the registry in chunks, each transaction simulated first, and the run's
journal of what was sent, which a run started again settles first (docs/scripts.md#journals)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.deployments import write_json
from scripts._lib import chain
from scripts._lib.chain import Run, Stop

CRASH_AFTER_CHUNKS_ENV = "TRUSTMALL_CRASH_AFTER_CHUNKS"
CRASH_EXIT_CODE = 75
VERSION = 1
# A row to send: its key (an item id, an event id), where the file names it, its ABI input.
Row = tuple[str, str, Any]
# What a command's rows are called: verb, noun, and who did the rows done already.
WORDS = {
    "register": ("register", "item", "already registered by you"),
    "activate": ("activate", "item", "already activated"),
    "custody": ("record", "event", "already recorded by you"),
}


def chunks(rows: list[Row], size: int) -> Iterator[tuple[list[Row], str]]:
    """The rows ``size`` at a time, each chunk with how the output names it: a single row by its
    place in the file, else by the rows' numbers."""
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        yield chunk, chunk[0][1] if len(chunk) == 1 else f"rows {start + 1}-{start + len(chunk)}"


def naming_the_row(chunk: list[Row], message: str) -> str:
    """A refusal of the chunk, led by the place in the file of the first row whose key (an item
    id, an event id) the refusal names."""
    said = message.lower()
    named = [where for key, where, _ in chunk if len(chunk) > 1 and key.lower() in said]
    return ": ".join([*named[:1], message])


class Journal:
    """This run's section of the journal at ``path`` (else beside the input), and the sending of
    the run's rows, ``size`` a transaction (both the command's options)."""

    def __init__(
        self, run: Run, registry: Any, source: Path, command: str, path: Path | None, size: int
    ) -> None:
        self.run, self.command, self.size, self.chunks = run, command, size, 0
        self.path = path or source.with_name(f"{source.name}.{command}.journal.json")
        self.data: dict[str, Any] = {"version": VERSION, "command": command, "runs": {}}
        if self.path.is_file():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            if self.data.get("version") != VERSION or self.data.get("command") != command:
                raise Stop(
                    f"--journal: {self.path} is not a version-{VERSION} journal of `{command}`; "
                    "pass --journal with another path"
                )
        section = self.data.setdefault("runs", {}).setdefault(
            f"{run.network.chain_id}:{registry.address}:{run.me}", {"transactions": []}
        )
        self.transactions: list[dict[str, Any]] = section["transactions"]
        for tx in [] if run.dry_run else [t for t in self.transactions if t["status"] == "sent"]:
            try:
                receipt = run.network.provider.get_receipt(tx["tx_hash"], timeout=30)
                ok, block = not receipt.failed, receipt.block_number
            except Exception:  # never mined, or dropped: the chain check decides
                ok, block = False, None
            tx["status"], tx["block_number"] = ("confirmed" if ok else "failed"), block
            write_json(self.path, self.data)
            said = "confirmed" if ok else "failed or was never mined; its rows are re-checked"
            click.echo(f"journal: {tx['tx_hash']} {said}")

    # ``chain.send`` calls these two around each transaction it sends with this journal.
    def sent(self, keys: list[str], tx_hash: str) -> None:
        self.transactions.append({"keys": keys, "status": "sent", "tx_hash": tx_hash})
        write_json(self.path, self.data)

    def chunk_confirmed(self, tx_hash: str, block_number: int) -> None:
        self.chunks += 1
        crash_after = os.environ.get(CRASH_AFTER_CHUNKS_ENV)
        if crash_after is not None and self.chunks >= int(crash_after):
            os._exit(CRASH_EXIT_CODE)
        self.transactions[-1] |= {"status": "confirmed", "block_number": block_number}
        write_json(self.path, self.data)

    def send(self, method: Any, rows: list[Row], done: int, *lead: bytes) -> None:
        """Calls ``method`` (after the ``lead`` arguments: a batch's root) with the rows, a chunk
        at a time, and says what was done: ``done`` rows already were, the others were sent, or in
        a dry run would be. A chunk's refusal names the row whose key the contract's error names."""
        verb, noun, skipped = WORDS[self.command]
        stem, receipts = verb.removesuffix("e"), []
        if done:
            click.echo(f"{done} {noun}(s) {skipped}: skipped")
        if not rows:
            click.echo(f"nothing to {verb}; nothing was sent")
            return
        with chain.progress(len(rows), f"{stem}ing") as bar:
            for chunk, what in chunks(rows, self.size):
                keys = [key for key, _, _ in chunk]
                args = [*lead, [row for _, _, row in chunk]]
                try:
                    receipts.append(
                        chain.send(self.run, method, *args, what=what, journal=self, keys=keys)
                    )
                except Stop as stop:
                    raise Stop(naming_the_row(chunk, stop.message)) from None
                bar.update(len(chunk))
        if self.run.dry_run:
            chain.dry_run_report(f"would {verb} {len(rows)} {noun}(s)")
            return
        of = f" of batch {hex32(lead[0])}" if lead else ""
        click.echo(f"{stem}ed {len(rows)} {noun}(s){of} in {len(receipts)} transaction(s)")
        for receipt in receipts:
            click.echo(f"  tx {receipt.txn_hash}")
