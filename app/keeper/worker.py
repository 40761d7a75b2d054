"""The keeper: queues, exactly once, the moves anyone may make once a deadline passed or goods
were recalled (the escrow's releases, refunds, default rulings and recall refunds; the credit
lines' refund settlements and accruals), which the relayer then sends with the keeper's own key.

One cycle (:meth:`Keeper.run_once`), every ``keeper_interval_seconds``:

1. Read the chain's latest block time; list the duties the index says are due by it, less
   ``keeper_grace_seconds``, among ``keeper_duties`` and not yet in the outbox
   (``app.keeper.duties``).
2. For each, rebuild the order's terms from the index (skipped, and logged, unless they hash to
   the order's id); for a credit duty read what CreditLines says of it
   (``app.keeper.credit_checks``); then simulate the call once (``eth_estimateGas`` from the
   keeper's address): the contract judges, and the gas it takes is held to ``keeper_max_gas``.
   What it refuses now, or what costs more, is left for a later cycle.
3. Queue what it accepts: one outbox record of kind ``keeper_duty`` (OrderEscrow) or
   ``keeper_credit_duty`` (CreditLines) per duty, its ``(source, source_event_id)`` =
   ``("keeper", "duty:subject[:detail]")`` unique in the outbox (``app.keeper.due``); the cycle's
   records in one database transaction, so that the relayer finds them together and sends the
   releases among them in as few ``releaseDue`` transactions as ``keeper_max_gas`` allows
   (``app.outbox.kinds.keeper``).

One keeper looks for duties at a time per database (the keeper's lease). Should two ever find the
same duty (a lease that expired under a slow cycle), the unique event id makes the second insert
fail (the cycle's records are then inserted one by one, those already queued left out), so a duty
is queued once.
The sending is leased per key by the relayer's lane (``app.outbox.lane``), and the journal sends
every signed attempt once; a restart between queueing and sending therefore sends nothing twice.
Without a keeper key (``KEEPER_*`` settings) the keeper is off, logged once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import TxParams

from app.chain.contracts import Suite, connect, load_suite
from app.chain.keys import SigningKeyUnavailable
from app.chain.recalled_items import recalled_open_items
from app.chain.reverts import Revert, RevertDecoder, explain, revert_data
from app.db.lease import LEASE_SECONDS, Lease
from app.db.session import Database
from app.domain.abi_types import hex32
from app.domain.orders import OrderTerms
from app.keeper.credit_checks import CreditCall, CreditChecks
from app.keeper.due import KEEPER_SOURCE, DueDuty
from app.keeper.duties import due_duties, order_terms
from app.outbox.kinds.keeper import (
    PAYS_OPEN_ITEMS,
    duty_calldata,
    duty_payload,
    sent_function,
    waiting_for_refund,
)
from app.outbox.kinds.keeper_credit import CREDIT_DUTIES
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus, payload_hash
from app.outbox.schemas import new_relay_id
from app.outbox.worker import in_thread
from app.services import AppServices, Worker
from app.settings import KeeperDuty

log = structlog.get_logger(__name__)
KEEPER_LEASE = "keeper"

MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class _Accepted:
    """A duty the contract accepted in this cycle, to be queued with the cycle's others."""

    duty: DueDuty
    kind: RelayKind
    payload: dict[str, Any]
    details: dict[str, Any]


@dataclass
class KeeperReport:
    """What one keeper cycle did."""

    due: int = 0
    queued: list[str] = field(default_factory=list)  # duty event ids
    refused: dict[str, str] = field(default_factory=dict)  # duty event id -> reason
    skipped: int = 0  # terms that did not hash to their order id


class Keeper:
    """Finds due duties in one database's index, simulates and queues them."""

    def __init__(
        self,
        database: Database,
        suite: Suite,
        address: str,
        *,
        max_gas: int,
        duties: Collection[KeeperDuty] = tuple(KeeperDuty),
        grace_seconds: int = 0,
    ) -> None:
        self.database = database
        self.suite = suite
        self.web3 = suite.web3
        self.address = Web3.to_checksum_address(address)
        self.duties = frozenset(duties)
        self.grace_seconds = grace_seconds
        self.max_gas = max_gas
        self.escrow = suite["OrderEscrow"]
        self.registry = suite.registry
        lines = suite.contracts.get("CreditLines")
        # Without the credit part deployed, the credit duties are none of the keeper's.
        self.credit = None if lines is None else CreditChecks(lines)
        if self.credit is None:
            self.duties -= CREDIT_DUTIES
        names = ("OrderEscrow", "ProductRegistry", "CreditLines", "CreditVault")
        abis = [suite[name].abi for name in names if name in suite.contracts]
        self.decoder = RevertDecoder([[dict(entry) for entry in abi] for abi in abis])

    @classmethod
    def from_services(cls, services: AppServices) -> Keeper:
        """The app's keeper; raises ``SigningKeyUnavailable`` without a keeper key."""
        settings = services.settings
        account = services.keys.keeper()
        suite = load_suite(
            connect(settings.rpc_url), settings.deployments_dir, settings.abi_dir, settings.chain_id
        )
        return cls(
            services.database,
            suite,
            account.address,
            duties=settings.keeper_duties,
            grace_seconds=settings.keeper_grace_seconds,
            max_gas=settings.keeper_max_gas,
        )

    def run_once(self) -> KeeperReport:
        """One cycle; raises when the node cannot be reached (the caller backs off)."""
        return self.consider(self.find_due())

    def find_due(self) -> list[DueDuty]:
        """The duties due by the chain's latest block time, not yet in the outbox."""
        head_time = int(self.web3.eth.get_block("latest")["timestamp"])
        with self.database.sessions() as session:
            return due_duties(session, head_time, self.grace_seconds, self.duties)

    def consider(self, due: list[DueDuty]) -> KeeperReport:
        """Simulates each duty and queues those the contract accepts now, all in one database
        transaction."""
        report = KeeperReport(due=len(due))
        now = int(self.web3.eth.get_block("latest")["timestamp"]) if due else 0
        accepted: list[_Accepted] = []
        for duty in due:
            found = (
                self._consider_credit(duty, now, report)
                if duty.duty in CREDIT_DUTIES
                else self._consider(duty, report)
            )
            if found is not None:
                accepted.append(found)
        self._queue(accepted, report)
        if report.queued or report.skipped:
            log.info(
                "keeper_cycle",
                due=report.due,
                queued=len(report.queued),
                refused=len(report.refused),
                skipped=report.skipped,
            )
        return report

    def _terms(self, duty: DueDuty, report: KeeperReport) -> OrderTerms | None:
        """The terms of the duty's order as the index rebuilt them; None (counted as skipped)
        when they do not hash to its id."""
        with self.database.sessions() as session:
            terms = order_terms(session, duty.subject)
        if terms is None:
            report.skipped += 1
        return terms

    def _consider(self, duty: DueDuty, report: KeeperReport) -> _Accepted | None:
        terms = self._terms(duty, report)
        if terms is None:
            return None
        if duty.duty in PAYS_OPEN_ITEMS:
            recalled = recalled_open_items(self.registry, self.escrow, terms)
            if recalled:
                report.refused[duty.event_id] = waiting_for_refund(recalled)
                return None
        items = int(duty.detail or 0)
        outcome = self._simulate(self.escrow.address, duty_calldata(duty.duty, terms, items))
        while isinstance(outcome, Revert) and outcome.name == "EscrowItemNotRecalled" and items:
            # The index saw an item recalled that the registry does not read so now (registered
            # again, moved out of its batch first): asked again without it.
            item = hex32(outcome.args["itemId"])
            if item not in terms.item_ids:
                break
            items &= ~(1 << terms.item_ids.index(item))
            if not items:
                break
            duty = replace(duty, detail=str(items))
            outcome = self._simulate(self.escrow.address, duty_calldata(duty.duty, terms, items))
        refused = self._why_not(outcome)
        if refused is not None:
            # Not (or no longer) the contract's to accept, or too costly: looked at again later.
            report.refused[duty.event_id] = refused
            return None
        details = {"function": sent_function(duty.duty), "due_at": duty.due_at}
        if duty.duty == KeeperDuty.REFUND_RECALLED:
            details["items"] = items
        payload = duty_payload(duty.duty, terms, items)
        return _Accepted(duty, RelayKind.KEEPER_DUTY, payload, details)

    def _consider_credit(self, duty: DueDuty, now: int, report: KeeperReport) -> _Accepted | None:
        if self.credit is None:
            return None
        call: CreditCall | str | None
        if duty.duty == KeeperDuty.SETTLE_REFUND:
            terms = self._terms(duty, report)
            if terms is None:
                return None
            call = self.credit.settle_refund(duty, terms)
        else:
            call = self.credit.accrue(duty, now)
        if not isinstance(call, CreditCall):
            if call is not None:
                report.refused[duty.event_id] = call
            return None  # not due yet (an accrual's period), or nothing to do: looked at again
        refused = self._why_not(self._simulate(self.credit.lines.address, call.calldata))
        if refused is not None:
            report.refused[call.duty.event_id] = refused
            return None
        return _Accepted(call.duty, RelayKind.KEEPER_CREDIT_DUTY, call.payload, call.details)

    def _simulate(self, to: str, calldata: bytes) -> Revert | int:
        """The call from the keeper's address now, simulated once (``eth_estimateGas``): the
        contract's refusal, or the gas it takes."""
        call: TxParams = {"from": self.address, "to": to, "data": calldata}
        try:
            return int(self.web3.eth.estimate_gas(call, "latest"))
        except ContractLogicError as error:
            return self.decoder.decode(revert_data(error))

    def _why_not(self, outcome: Revert | int) -> str | None:
        """Why a simulated duty is not queued: the contract's refusal in words, or more gas than
        the keeper may spend on one duty (``keeper_max_gas``); None when it goes."""
        if isinstance(outcome, Revert):
            return explain(outcome)
        if outcome > self.max_gas:
            return f"needs {outcome} gas, above the keeper's cap of {self.max_gas} (KEEPER_MAX_GAS)"
        return None

    def _queue(self, accepted: list[_Accepted], report: KeeperReport) -> None:
        """The cycle's duties in one database transaction; if another keeper queued any of them
        meanwhile (the unique event id refuses the insert), each alone, those already queued left
        out."""
        if not accepted:
            return
        try:
            with self.database.transaction() as session:
                session.add_all([_record(found) for found in accepted])
        except IntegrityError:
            queued = [found for found in accepted if self._queue_one(found)]
        else:
            queued = accepted
        for found in queued:
            duty = found.duty
            report.queued.append(duty.event_id)
            log.info("keeper_duty_queued", duty=duty.duty, subject=duty.subject, due_at=duty.due_at)

    def _queue_one(self, found: _Accepted) -> bool:
        try:
            with self.database.transaction() as session:
                session.add(_record(found))
        except IntegrityError:
            return False  # another keeper queued it first
        return True


def _record(found: _Accepted) -> OutboxRecord:
    duty = found.duty
    return OutboxRecord(
        relay_id=new_relay_id(),
        source=KEEPER_SOURCE,
        source_event_id=duty.event_id,
        kind=found.kind,
        subject=duty.subject,
        action=duty.duty.value,
        occurred_at=duty.due_at,
        payload=found.payload,
        details=found.details,
        content_hash=payload_hash(found.payload),
        status=RelayStatus.QUEUED,
    )


class KeeperLoop:
    """One keeper cycle per ``keeper_interval_seconds``; with growing pauses while the chain
    cannot be reached. Stops for good (logged once) without a keeper key. With several processes
    on one database, only the holder of the keeper's lease looks for duties; the others stand by
    and one takes over when it stops."""

    def __init__(self, services: AppServices) -> None:
        self.services = services
        self.interval = services.settings.keeper_interval_seconds
        self.backoff = self.interval
        self.keeper: Keeper | None = None
        # Asked for every cycle (renewed once a third has run): it must outlive the pause between
        # two, and a slow cycle.
        self.lease = Lease(
            services.database, KEEPER_LEASE, time.time, max(LEASE_SECONDS, 3 * self.interval)
        )

    async def run(self) -> None:
        try:
            while True:
                delay = await self.cycle()
                if delay is None:
                    return
                await asyncio.sleep(delay)
        finally:
            await asyncio.shield(in_thread(self.lease.release))

    async def cycle(self) -> float | None:
        """One cycle; the pause before the next, or None to stop for good."""
        try:
            if not await in_thread(self.lease.take):
                return self.interval  # another process keeps
            if self.keeper is None:
                self.keeper = await in_thread(lambda: Keeper.from_services(self.services))
            await in_thread(self.keeper.run_once)
        except SigningKeyUnavailable as error:
            log.warning("keeper_disabled", reason=str(error))
            return None
        except Exception as error:
            log.warning(
                "keeper_cycle_failed",
                error_type=type(error).__name__,
                error=str(error)[:300],
                retry_in_seconds=self.backoff,
            )
            delay, self.backoff = self.backoff, min(self.backoff * 2, MAX_BACKOFF_SECONDS)
            return delay
        self.backoff = self.interval
        return self.interval


def keeper_worker(services: AppServices) -> Worker:
    """The app's keeper loop (registered in ``services.workers``)."""
    return lambda: KeeperLoop(services).run()
