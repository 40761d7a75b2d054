"""The relayer: takes queued outbox records in batches and puts them on chain, exactly once.

Each contract's oracle role has a key of its own, and each key its own sender
(``app.outbox.lane.AccountRelayer``: its nonces, journal rows and lease, ``app.db.lease``):

* the custody oracle (``ORACLE_*`` settings) sends the registry's custody events, and the credit
  applications (``applyForCredit`` needs no role);
* the logistics oracle (``LOGISTICS_ORACLE_*``) sends the escrow's logistics reports;
* the keeper (``KEEPER_*``, no role) sends the duties ``app.keeper`` queued: releases (many to a
  transaction, ``releaseDue``), refunds and default rulings anyone may make once a deadline
  passed, refunds of recalled items, and the credit lines' refund settlements and accruals.

The same key named for both makes one sender of every kind. A kind whose key is not configured
waits in the queue (logged once when the relayer is built).

A sender treats every kind alike and asks the kind's relay where kinds differ: one module per
kind in ``app.outbox.kinds`` (custody, logistics, credit_application, keeper, keeper_credit,
batch_activation, forwarded)
holds its entry point and encoding, which records may go and together, what they need before a
send, what a refusal means, what to check at start and what a receipt says.

One cycle of one sender (:meth:`AccountRelayer.run_once`):

1. On the first cycle (and after the node was away), *reconcile*: the custody event-id counter is
   moved past the highest id this oracle ever spent on chain (``app.outbox.custody_ids``); every
   open transaction is checked for receipts; records whose custody ids were already sent are
   checked with ``isEventRecorded`` — all before anything new is sent.
2. Poll the journal (``app.chain.sender``): receipts, confirmation depth, reorgs, re-sends of
   transactions the node forgot, fee bumps of stuck ones.
3. Settle (``app.outbox.settlement``): records of confirmed transactions become ``confirmed``
   (block) — or ``failed`` when the escrow logged their report rejected; of reverted or replaced
   ones go back to ``queued`` with a back-off (``failed`` after ``max_attempts``).
4. Send: while fewer than ``max_in_flight`` transactions are unmined, take the oldest queued
   records of one kind (up to ``batch_size``), give custody records their event ids, simulate
   the batch (``eth_estimateGas``), take out what the contract refuses, halve it while its gas is
   above 90% of the block's limit or its kind's cap (``KEEPER_MAX_GAS`` for the keeper's), then
   journal the signed transaction and the records' new state in one database transaction, then
   broadcast.

Why nothing is applied twice: custody event ids are stored on the record before its first send
and never change once spent; the registry refuses an id twice, so a re-sent batch cannot repeat
an event — and a batch whose ids were partly applied is split: ids found on chain for the very
same event are confirmed from their log, the rest are sent again. Escrow logistics updates carry
no id; for them the journal is exact (every signed attempt is recorded before it is sent, only one
attempt of a nonce can mine), and the escrow's state machine refuses a repeated step anyway.
Credit applications go one per transaction; the attestation's nonce is spent by the decision, so
a second submission reverts and the record is confirmed from the decision's log (whoever sent it).
Merchants' signed requests run once by the forwarder's nonce: one whose nonce was used is settled
from the forwarder's log of it (``app.outbox.kinds.forwarded``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import structlog
from eth_account.signers.local import LocalAccount

from app.chain.contracts import connect, load_suite
from app.chain.keys import ServiceKeys, SigningKeyUnavailable
from app.chain.sender_policy import GWEI, SenderPolicy
from app.outbox.lane import AccountRelayer
from app.outbox.models import RelayKind
from app.outbox.plan import CycleReport
from app.services import AppServices
from app.settings import Settings

log = structlog.get_logger(__name__)

CUSTODY_ORACLE_KINDS = (
    RelayKind.CUSTODY,
    RelayKind.CREDIT_APPLICATION,
    RelayKind.BATCH_ACTIVATION,
)
LOGISTICS_ORACLE_KINDS = (RelayKind.ORDER_LOGISTICS,)
KEEPER_KINDS = (RelayKind.KEEPER_DUTY, RelayKind.KEEPER_CREDIT_DUTY)
# Merchants' signed requests need no role (the forwarder is anyone's to call): the keeper's key,
# the service's account for calls anyone may make, pays for them.
MERCHANT_REQUEST_KINDS = (RelayKind.MERCHANT_REQUEST,)

__all__ = ["AccountRelayer", "CycleReport", "Relayer", "sender_policy_of", "senders_of"]


class Relayer:
    """Relays one database's outbox on one chain, one sender per key."""

    def __init__(self, senders: Sequence[AccountRelayer]) -> None:
        if not senders:
            raise SigningKeyUnavailable("no oracle key configured: nothing can be relayed")
        self.senders = list(senders)

    @classmethod
    def from_services(
        cls,
        services: AppServices,
        *,
        sender_policy: SenderPolicy | None = None,
        retry_after_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Relayer:
        """A relayer for an app: its database, its chain, the oracle keys it holds."""
        settings = services.settings
        groups = senders_of(services.keys)
        if not groups:
            raise SigningKeyUnavailable("no oracle key configured: nothing can be relayed")
        suite = load_suite(
            connect(settings.rpc_url), settings.deployments_dir, settings.abi_dir, settings.chain_id
        )
        retry = (
            settings.relay_retry_after_seconds
            if retry_after_seconds is None
            else retry_after_seconds
        )
        return cls(
            [
                AccountRelayer(
                    services.database,
                    suite,
                    account,
                    kinds,
                    batch_size=settings.relay_batch_size,
                    max_in_flight=settings.relay_max_in_flight,
                    confirmation_depth=settings.confirmation_depth,
                    sender_policy=sender_policy or sender_policy_of(settings),
                    retry_after_seconds=retry,
                    lease_seconds=settings.relay_lease_seconds,
                    gas_caps={kind: settings.keeper_max_gas for kind in KEEPER_KINDS},
                    clock=clock,
                )
                for account, kinds in groups
            ]
        )

    def run_once(self) -> CycleReport:
        """One cycle of every sender. A sender that fails (the node away) does not stop the
        others; the first failure is raised once all had their turn."""
        reports: list[CycleReport] = []
        failure: Exception | None = None
        for sender in self.senders:
            try:
                reports.append(sender.run_once())
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure
        return CycleReport.combined(reports)

    def has_work(self) -> bool:
        """Whether any sender has records or transactions to look after (its ``has_work``)."""
        return any(sender.has_work() for sender in self.senders)

    def take_lease(self) -> bool:
        """Takes or renews every sender's lease; False if another relayer holds any."""
        return all([sender.take_lease() for sender in self.senders])

    def release_lease(self) -> None:
        for sender in self.senders:
            sender.release_lease()

    def reconcile(self) -> None:
        for sender in self.senders:
            sender.reconcile()


def senders_of(keys: ServiceKeys) -> list[tuple[LocalAccount, tuple[RelayKind, ...]]]:
    """Each key the service holds, with the kinds it sends; one entry per address."""
    wanted: list[tuple[str, Callable[[], LocalAccount], tuple[RelayKind, ...]]] = [
        ("oracle", keys.oracle, CUSTODY_ORACLE_KINDS),
        ("logistics oracle", keys.logistics_oracle, LOGISTICS_ORACLE_KINDS),
        ("keeper", keys.keeper, KEEPER_KINDS + MERCHANT_REQUEST_KINDS),
    ]
    groups: dict[str, tuple[LocalAccount, tuple[RelayKind, ...]]] = {}
    for role, account_of, kinds in wanted:
        try:
            account = account_of()
        except SigningKeyUnavailable as error:
            log.error("relay_kinds_disabled", role=role, kinds=list(kinds), reason=str(error))
            continue
        known = groups.get(account.address)
        groups[account.address] = (account, (known[1] if known else ()) + kinds)
    return list(groups.values())


def sender_policy_of(settings: Settings) -> SenderPolicy:
    """The transaction sender's patience and fees, as the settings give them."""
    cap = settings.relay_max_fee_gwei
    return SenderPolicy(
        confirmation_depth=settings.confirmation_depth,
        resend_after_seconds=settings.relay_resend_after_seconds,
        bump_after_seconds=settings.relay_fee_bump_after_seconds,
        fee_bump_percent=settings.relay_fee_bump_percent,
        cancel_refused_after_seconds=settings.relay_cancel_refused_after_seconds,
        priority_fee=round(settings.relay_priority_fee_gwei * GWEI),
        max_fee_per_gas=None if cap is None else round(cap * GWEI),
    )
