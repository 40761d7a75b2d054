"""The table of event handlers: (contract name, event name) -> a function writing index rows.

The indexer fetches exactly the events this table names, from the contracts of the deployment
record that have handlers, so a contract joins the index by registering handlers for its events
(``register_registry``, ``register_escrow``, ``register_credit``); a contract missing from the
deployment, or an event missing from its ABI, is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.index.decoding import checksum


@dataclass(frozen=True)
class ChainLog:
    """One decoded event, with where it happened."""

    contract: str
    event: str
    args: Mapping[str, Any]
    address: str
    block_number: int
    block_hash: str
    block_time: int
    tx_hash: str
    log_index: int

    def where(self) -> dict[str, Any]:
        """The ``ChainRecord`` columns for a row made from this event."""
        return {
            "block_number": self.block_number,
            "log_index": self.log_index,
            "tx_hash": self.tx_hash,
            "block_time": self.block_time,
        }


Handler = Callable[[Session, ChainLog], None]


class HandlerTable:
    """Handlers by (contract, event); each writes rows through the session it is given."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def on(self, contract: str, event: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(contract, event, handler)
            return handler

        return register

    def add(self, contract: str, event: str, handler: Handler) -> None:
        key = (contract, event)
        if key in self._handlers:
            raise ValueError(f"a handler for {contract}.{event} is registered already")
        self._handlers[key] = handler

    def follow(self, contract: str, event: str, follower: Handler) -> None:
        """Runs ``follower`` after the event's handler, in the same transaction: a feature that
        derives rows of its own from an event (merchants' webhook events) writes them atomically
        with the index rows, so a crash between the two cannot happen. Call it before the
        indexer's first cycle (its plan keeps the handlers it found)."""
        key = (contract, event)
        handler = self._handlers.get(key)
        if handler is None:
            raise ValueError(f"no handler for {contract}.{event} to follow")

        def handler_then_follower(session: Session, log: ChainLog) -> None:
            handler(session, log)
            follower(session, log)

        self._handlers[key] = handler_then_follower

    def get(self, contract: str, event: str) -> Handler | None:
        return self._handlers.get((contract, event))

    def contracts(self) -> set[str]:
        return {contract for contract, _ in self._handlers}

    def events_of(self, contract: str) -> list[str]:
        return sorted(event for name, event in self._handlers if name == contract)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(sorted(self._handlers))


# ------------------------------------------------------------------------------ value helpers


def hex32(value: bytes | str) -> str:
    """A bytes32 as lowercase 0x hex."""
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


def address(value: str) -> str:
    return checksum(value)


def default_handlers() -> HandlerTable:
    """The handlers of every contract the service indexes."""
    from app.index.credit_events import register_credit
    from app.index.escrow_events import register_escrow
    from app.index.pool_events import register_pool
    from app.index.registry_events import register_registry

    table = HandlerTable()
    register_registry(table)
    register_escrow(table)
    register_credit(table)
    register_pool(table)
    return table
