"""ProductRegistry's events into the index."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.vocab import MerchantStatus, ReportStatus
from app.index.handlers import ChainLog, HandlerTable, address, hex32
from app.index.models import (
    BatchRecallRow,
    BatchRow,
    CustodyRow,
    Gs1PrefixRow,
    ItemFlagRow,
    ItemHoldRow,
    ItemReassignRow,
    ItemRecallRow,
    ItemRow,
    MerchantRow,
    MerchantStatusRow,
    ReportOutcomeRow,
    ReportRow,
    RoleRow,
)

REGISTRY = "ProductRegistry"


def merchant_approved(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        MerchantRow(
            address=address(a["merchant"]),
            name=str(a["name"]),
            identity_hash=hex32(a["identityHash"]),
            verifier=address(a["verifier"]),
            **log.where(),
        )
    )


def merchant_suspended(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        MerchantStatusRow(
            merchant=address(a["merchant"]),
            status=MerchantStatus.SUSPENDED,
            reason_hash=hex32(a["reasonHash"]),
            verifier=address(a["verifier"]),
            **log.where(),
        )
    )


def merchant_reinstated(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        MerchantStatusRow(
            merchant=address(a["merchant"]),
            status=MerchantStatus.ACTIVE,
            reason_hash=None,
            verifier=address(a["verifier"]),
            **log.where(),
        )
    )


def item_registered(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        ItemRow(
            item_id=hex32(a["itemId"]),
            merchant=address(a["merchant"]),
            metadata_hash=hex32(a["metadataHash"]),
            metadata_uri=str(a["metadataURI"]),
            batch_root=None,
            **log.where(),
        )
    )


def batch_registered(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        BatchRow(
            root=hex32(a["root"]),
            merchant=address(a["merchant"]),
            item_count=int(a["itemCount"]),
            metadata_hash=hex32(a["metadataHash"]),
            metadata_uri=str(a["metadataURI"]),
            **log.where(),
        )
    )


def batch_item_activated(session: Session, log: ChainLog) -> None:
    a = log.args
    root = hex32(a["root"])
    batch = session.get(BatchRow, root)
    if batch is None:  # the contract refuses activation without the batch; the index has it
        raise LookupError(f"batch {root} activated an item before the index saw the batch")
    session.add(
        ItemRow(
            item_id=hex32(a["itemId"]),
            merchant=batch.merchant,
            metadata_hash=hex32(a["metadataHash"]),
            metadata_uri=None,
            batch_root=root,
            **log.where(),
        )
    )


def custody_recorded(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        CustodyRow(
            item_id=hex32(a["itemId"]),
            submitter=address(a["submitter"]),
            event_id=str(int(a["eventId"])),
            action=int(a["action"]),
            occurred_at=int(a["occurredAt"]),
            location_hash=hex32(a["locationHash"]),
            context_hash=hex32(a["contextHash"]),
            **log.where(),
        )
    )


def report_filed(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        ReportRow(
            report_id=int(a["reportId"]),
            item_id=hex32(a["itemId"]),
            reporter=address(a["reporter"]),
            kind=int(a["kind"]),
            evidence_hash=hex32(a["evidenceHash"]),
            **log.where(),
        )
    )


def item_flagged(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        ItemFlagRow(item_id=hex32(a["itemId"]), report_id=int(a["reportId"]), **log.where())
    )


def item_recalled(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        ItemRecallRow(
            item_id=hex32(a["itemId"]),
            merchant=address(a["merchant"]),
            reason_hash=hex32(a["reasonHash"]),
            **log.where(),
        )
    )


def batch_recalled(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        BatchRecallRow(
            root=hex32(a["root"]),
            merchant=address(a["merchant"]),
            reason_hash=hex32(a["reasonHash"]),
            **log.where(),
        )
    )


def gs1_prefix_granted(session: Session, log: ChainLog) -> None:
    _prefix(session, log, granted=True)


def gs1_prefix_revoked(session: Session, log: ChainLog) -> None:
    _prefix(session, log, granted=False)


def _prefix(session: Session, log: ChainLog, *, granted: bool) -> None:
    a = log.args
    session.add(
        Gs1PrefixRow(
            prefix=str(a["prefix"]),
            merchant=address(a["merchant"]),
            granted=granted,
            verifier=address(a["verifier"]),
            **log.where(),
        )
    )


def role_granted(session: Session, log: ChainLog) -> None:
    _role(session, log, granted=True)


def role_revoked(session: Session, log: ChainLog) -> None:
    _role(session, log, granted=False)


def _role(session: Session, log: ChainLog, *, granted: bool) -> None:
    a = log.args
    session.add(
        RoleRow(
            role=hex32(a["role"]),
            account=address(a["account"]),
            granted=granted,
            sender=address(a["sender"]),
            **log.where(),
        )
    )


def item_reassigned(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        ItemReassignRow(
            item_id=hex32(a["itemId"]),
            from_merchant=address(a["from"]),
            to_merchant=address(a["to"]),
            reason_hash=hex32(a["reasonHash"]),
            **log.where(),
        )
    )


def item_held(session: Session, log: ChainLog) -> None:
    _hold(session, log, held=True)


def item_freed(session: Session, log: ChainLog) -> None:
    _hold(session, log, held=False)


def _hold(session: Session, log: ChainLog, *, held: bool) -> None:
    a = log.args
    session.add(
        ItemHoldRow(
            item_id=hex32(a["itemId"]), order_id=hex32(a["orderId"]), held=held, **log.where()
        )
    )


def register_registry(table: HandlerTable) -> None:
    table.add(REGISTRY, "MerchantApproved", merchant_approved)
    table.add(REGISTRY, "MerchantSuspended", merchant_suspended)
    table.add(REGISTRY, "MerchantReinstated", merchant_reinstated)
    table.add(REGISTRY, "ItemRegistered", item_registered)
    table.add(REGISTRY, "BatchRegistered", batch_registered)
    table.add(REGISTRY, "BatchItemActivated", batch_item_activated)
    table.add(REGISTRY, "CustodyRecorded", custody_recorded)
    table.add(REGISTRY, "ReportFiled", report_filed)
    table.add(REGISTRY, "ReportConfirmed", _confirmed)
    table.add(REGISTRY, "ReportDismissed", _dismissed)
    table.add(REGISTRY, "ItemFlagged", item_flagged)
    table.add(REGISTRY, "ItemRecalled", item_recalled)
    table.add(REGISTRY, "BatchRecalled", batch_recalled)
    table.add(REGISTRY, "Gs1PrefixGranted", gs1_prefix_granted)
    table.add(REGISTRY, "Gs1PrefixRevoked", gs1_prefix_revoked)
    table.add(REGISTRY, "RoleGranted", role_granted)
    table.add(REGISTRY, "RoleRevoked", role_revoked)
    table.add(REGISTRY, "ItemReassigned", item_reassigned)
    table.add(REGISTRY, "ItemHeld", item_held)
    table.add(REGISTRY, "ItemFreed", item_freed)


def _confirmed(session: Session, log: ChainLog) -> None:
    _outcome(session, log, ReportStatus.CONFIRMED)


def _dismissed(session: Session, log: ChainLog) -> None:
    _outcome(session, log, ReportStatus.DISMISSED)


def _outcome(session: Session, log: ChainLog, status: ReportStatus) -> None:
    a = log.args
    session.add(
        ReportOutcomeRow(
            report_id=int(a["reportId"]),
            item_id=hex32(a["itemId"]),
            status=status,
            finding_hash=hex32(a["findingHash"]),
            verifier=address(a["verifier"]),
            **log.where(),
        )
    )
