"""A signer takes back requests the service accepted and has not sent yet.

The forwarder runs a signer's nonces in order, so a request cannot leave the queue alone: the
signer's queued requests of later nonces could never run without it, and go with it. Each goes
``failed`` with ``WITHDRAWN`` as its reason (and its ``request.failed`` webhook event), and its
nonce is the signer's next again. Quotas stay charged: acceptance did its work (checks, a
simulation), and taking back must not refill what a day allows.

The service then never sends them, but their signatures stay valid until their nonces are spent
on chain: whoever holds one (the signer, the service's database) could still relay it. The next
request the signer signs for the same nonce retires it when it runs.

A request the relayer took into a transaction meanwhile is no longer queued: the withdrawal and
the relayer's claim on its records (``app.outbox.lane``) are both updates conditional on
``queued``, so exactly one of them wins.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.merchant.request_models import MerchantRequestRow
from app.outbox.models import OutboxRecord, RelayStatus

WITHDRAWN = "withdrawn by its signer before the service sent it"


def withdraw(session: Session, signer: str, request_id: str) -> list[str]:
    """Withdraws ``signer``'s request ``request_id`` and the signer's queued requests of later
    nonces; returns their ids, nonce order. Raises ``ApiError`` 404 (no such request), 403 (not
    the signer's), 409 (no longer queued: sent, settled, or being sent now)."""
    request = session.get(MerchantRequestRow, request_id)
    if request is None:
        raise ApiError(404, "request_not_found", f"no request {request_id}")
    if request.signer.lower() != signer.lower():
        raise ApiError(403, "not_your_request", f"request {request_id} was signed by another key")
    status = session.scalar(select(OutboxRecord.status).where(OutboxRecord.id == request.outbox_id))
    if status != RelayStatus.QUEUED:
        raise ApiError(
            409,
            "request_not_queued",
            f"request {request_id} is {status}: only a request not yet sent can be withdrawn",
            details={"status": status},
        )
    queued = session.execute(
        select(MerchantRequestRow.id, MerchantRequestRow.outbox_id)
        .join(OutboxRecord, OutboxRecord.id == MerchantRequestRow.outbox_id)
        .where(
            MerchantRequestRow.signer == request.signer,
            MerchantRequestRow.nonce >= request.nonce,
            OutboxRecord.status == RelayStatus.QUEUED,
        )
        .order_by(MerchantRequestRow.nonce)
    ).all()
    taken = session.execute(
        update(OutboxRecord)
        .where(
            OutboxRecord.id.in_([outbox_id for _, outbox_id in queued]),
            OutboxRecord.status == RelayStatus.QUEUED,
        )
        .values(status=RelayStatus.FAILED, failure_reason=WITHDRAWN, not_before=None)
        .execution_options(synchronize_session=False)
    )
    if int(taken.rowcount) != len(queued):  # type: ignore[attr-defined]
        raise ApiError(
            409,
            "request_not_queued",
            f"the relayer is sending request {request_id} or a later one of its signer now",
            details={"status": RelayStatus.SUBMITTED},
        )
    return [request_id for request_id, _ in queued]
