"""A signer takes back requests the service accepted and has not sent yet.

The forwarder runs a signer's nonces in order, so a request cannot leave the queue alone: the
signer's queued requests of later nonces could never run without it, and go with it. Each goes
``failed`` with ``WITHDRAWN`` as its reason (and its ``request.failed`` webhook event), and its
nonce is the signer's next again. Quotas stay charged: acceptance did its work (checks, a
simulation), and taking back must not refill what a day allows.

The service then never sends them, but their signatures stay valid until their nonces are spent
on chain: whoever holds one (the signer, the service's database) could still relay it. The next
request the signer signs for the same nonce retires it when it runs. The relay keeps watching a
withdrawn request until then (``app.outbox.kinds.forwarded``): one someone else relayed shows
``confirmed`` with that transaction.

A request the relayer took into a transaction meanwhile is no longer queued: the withdrawal and
the relayer's claim on its records (``app.outbox.lane``) both take them with ``take_from_queue``,
so exactly one of them wins. A request queued again after a transaction that carried it reverted
is not withdrawn: its signature is on chain, anyone may relay it, and only spending its nonce
retires it.
"""

from __future__ import annotations

from typing import NoReturn

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.merchant.request_models import MerchantRequestRow
from app.outbox.kinds.forwarded import WITHDRAWN
from app.outbox.models import OutboxRecord, RelayStatus, take_from_queue

log = structlog.get_logger(__name__)


def withdraw(session: Session, signer: str, request_id: str) -> list[str]:
    """Withdraws ``signer``'s request ``request_id`` and the signer's queued requests of later
    nonces; returns their ids, nonce order. Raises ``ApiError`` 404 (no such request), 403 (not
    the signer's), 409 (no longer queued: sent, settled, or being sent now)."""
    request = session.get(MerchantRequestRow, request_id)
    if request is None:
        raise ApiError(404, "request_not_found", f"no request {request_id}")
    if request.signer.lower() != signer.lower():
        raise ApiError(403, "not_your_request", f"request {request_id} was signed by another key")
    queued = session.execute(
        select(MerchantRequestRow.id, MerchantRequestRow.outbox_id, OutboxRecord.attempts)
        .join(OutboxRecord, OutboxRecord.id == MerchantRequestRow.outbox_id)
        .where(
            MerchantRequestRow.signer == request.signer,
            MerchantRequestRow.nonce >= request.nonce,
            OutboxRecord.status == RelayStatus.QUEUED,
        )
        .order_by(MerchantRequestRow.nonce)
    ).all()
    if not queued or queued[0].outbox_id != request.outbox_id:
        _not_queued(session, request)
    published = [row.id for row in queued if row.attempts > 0]
    if published:
        raise ApiError(
            409,
            "request_already_broadcast",
            f"request {published[0]} was in a transaction that did not settle it: its signature "
            "is on chain, anyone may relay it, and only spending its nonce retires it",
            details={"requests": published},
        )
    withdrawal = {"status": RelayStatus.FAILED, "failure_reason": WITHDRAWN, "not_before": None}
    if not take_from_queue(session, [row.outbox_id for row in queued], withdrawal):
        _not_queued(session, request)  # the relayer (or another withdrawal) took one meanwhile
    withdrawn = [row.id for row in queued]
    log.info("merchant_requests_withdrawn", signer=request.signer, requests=withdrawn)
    return withdrawn


def _not_queued(session: Session, request: MerchantRequestRow) -> NoReturn:
    status = session.scalar(select(OutboxRecord.status).where(OutboxRecord.id == request.outbox_id))
    raise ApiError(
        409,
        "request_not_queued",
        f"request {request.id} is {status}, or a later request of its signer is being sent: "
        "only requests not yet sent can be withdrawn",
        details={"status": status},
    )
