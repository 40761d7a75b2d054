"""Whether the items and orders a source names exist on chain.

Registered items and opened orders never disappear, so a positive answer is cached (bounded);
a negative one is asked again next time. The index (``app.index``, events at confirmation depth)
answers first, in one query; what it does not know yet is asked of the node, in JSON-RPC batches.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.chain.contracts import Suite, SuiteCache
from app.db.session import Database
from app.domain.errors import TrustMallError
from app.domain.orders import ZERO_ADDRESS
from app.index.models import ItemRow, OrderRow
from app.settings import Settings

BATCH_SIZE = 500
# How long an item's merchant read from the registry is reused: a verifier's reassignment reaches
# an unindexed item's carriers at most this late.
MERCHANT_SECONDS = 60.0


class ChainUnavailable(TrustMallError, ConnectionError):
    """The chain (or the deployment on it) cannot be read right now."""


class SubjectChecker:
    """Existence checks of items (``registry.itemOf``) and orders (``escrow.orderOf``)."""

    def __init__(self, cache_size: int = 200_000) -> None:
        self._cache_size = cache_size
        self._known: OrderedDict[str, None] = OrderedDict()
        self._merchants: OrderedDict[str, tuple[str, float]] = OrderedDict()
        # A suite of its own, not the app's (``services.state(SuiteCache)``): its calls are sent
        # in batches, and web3 keeps a batch's state on the provider, shared by every thread.
        self._suites = SuiteCache()
        self._lock = threading.Lock()
        self._chain_lock = threading.Lock()

    def unknown(
        self,
        settings: Settings,
        database: Database,
        items: Iterable[str],
        orders: Iterable[str],
    ) -> tuple[set[str], set[str]]:
        """The items and orders (0x hex ids) the chain does not know."""
        item_ids = sorted({i for i in items if not self._is_known(f"item:{i}")})
        order_ids = sorted({o for o in orders if not self._is_known(f"order:{o}")})
        item_ids = self._not_indexed(database, ItemRow.item_id, "item", item_ids)
        order_ids = self._not_indexed(database, OrderRow.order_id, "order", order_ids)
        if not item_ids and not order_ids:
            return set(), set()
        with self._chain(settings) as suite:
            missing_items = self._missing(suite, "ProductRegistry", "itemOf", item_ids)
            missing_orders = self._missing(suite, "OrderEscrow", "orderOf", order_ids)
        return missing_items, missing_orders

    def _not_indexed(
        self, database: Database, column: Any, label: str, ids: list[str]
    ) -> list[str]:
        """``ids`` without those the index holds (remembered as known)."""
        if not ids:
            return ids
        found: set[str] = set()
        try:
            with database.sessions() as session:
                for start in range(0, len(ids), BATCH_SIZE):
                    chunk = ids[start : start + BATCH_SIZE]
                    found.update(session.scalars(select(column).where(column.in_(chunk))))
        except SQLAlchemyError:
            return ids  # no index here: the chain answers
        for subject in found:
            self._remember(f"{label}:{subject}")
        return [subject for subject in ids if subject not in found]

    def _missing(self, suite: Suite, contract: str, function: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        if contract not in suite.contracts:
            return set(ids)
        missing: set[str] = set()
        for subject, result in _each_call(suite, contract, function, ids):
            if function == "itemOf":
                self._remember_merchant(subject, str(result[0]))
            if _exists(function, result):
                self._remember(f"{'item' if function == 'itemOf' else 'order'}:{subject}")
            else:
                missing.add(subject)
        return missing

    def merchants_on_chain(self, settings: Settings, items: Sequence[str]) -> dict[str, str]:
        """Each item's merchant as the registry read it at most ``MERCHANT_SECONDS`` ago (the
        zero address: no record)."""
        found: dict[str, str] = {}
        oldest = time.monotonic() - MERCHANT_SECONDS
        with self._lock:
            for item in items:
                cached = self._merchants.get(item)
                if cached is not None and cached[1] >= oldest:
                    found[item] = cached[0]
        asked = [item for item in items if item not in found]
        if asked:
            with self._chain(settings) as suite:
                for item, result in _each_call(suite, "ProductRegistry", "itemOf", asked):
                    found[item] = str(result[0])
                    self._remember_merchant(item, found[item])
        return found

    def _remember_merchant(self, item: str, merchant: str) -> None:
        with self._lock:
            self._merchants[item] = (merchant, time.monotonic())
            self._merchants.move_to_end(item)
            while len(self._merchants) > self._cache_size:
                self._merchants.popitem(last=False)

    @contextlib.contextmanager
    def _chain(self, settings: Settings) -> Iterator[Suite]:
        """The deployment on the chain, one caller at a time (web3's batching state lives on the
        shared provider); any failure to read it is ``ChainUnavailable``."""
        try:
            suite = self._suite_for(settings)
            with self._chain_lock:
                yield suite
        except TrustMallError:
            raise
        except Exception as error:
            self._suites.forget()
            raise ChainUnavailable(
                f"the chain could not be read: {type(error).__name__}"
            ) from error

    def _suite_for(self, settings: Settings) -> Suite:
        return self._suites.get(
            settings.rpc_url, settings.deployments_dir, settings.abi_dir, settings.chain_id
        )

    def _is_known(self, key: str) -> bool:
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return True
            return False

    def _remember(self, key: str) -> None:
        with self._lock:
            self._known[key] = None
            while len(self._known) > self._cache_size:
                self._known.popitem(last=False)


def _each_call(
    suite: Suite, contract: str, function: str, ids: Sequence[str]
) -> list[tuple[str, Any]]:
    """``contract.function(id)`` for each of ``ids`` (0x hex bytes32), in JSON-RPC batches."""
    handle = suite.contracts[contract]
    answers: list[tuple[str, Any]] = []
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        with suite.web3.batch_requests() as batch:
            for subject in chunk:
                batch.add(handle.functions[function](bytes.fromhex(subject[2:])))
            results = batch.execute()
        answers += zip(chunk, results, strict=True)
    return answers


def _exists(function: str, result: Any) -> bool:
    # itemOf -> (merchant, updatedAt, lastAction, state, inBatch); orderOf -> (status, ...).
    if function == "itemOf":
        return str(result[0]) != ZERO_ADDRESS
    return int(result[0]) != 0
