"""The credit part into the index: CreditLines' decisions by tier (the attested band), refunds
settled to lines, draws (the orders credit paid and the lines' due times), late fees, defaults
and restorations, and CreditVault's losses and exits (impairments, write-offs, income locked,
redemption requests).

Indexed once the deployment record names the contracts and their ABIs exist; until then the
indexer skips these handlers and the stats show no credit figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy.orm import Session

from app.index.handlers import ChainLog, HandlerTable, address, hex32
from app.index.models import (
    CreditDecisionRow,
    CreditLineEventRow,
    CreditPoolEventRow,
    CreditRefundRow,
)

CREDIT_LINES = "CreditLines"
CREDIT_VAULT = "CreditVault"

PRINCIPAL_IMPAIRED = "principal_impaired"
LOSS_RECOGNIZED = "loss_recognized"
INCOME_LOCKED = "income_locked"
REDEEM_REQUEST = "redeem_request"

DRAWN = "drawn"
LATE_FEE_CHARGED = "late_fee_charged"
DEFAULTED = "defaulted"
RESTORED = "restored"
ZERO_ORDER = "0x" + "00" * 32


def credit_approved(session: Session, log: ChainLog) -> None:
    _decision(session, log, approved=True, reasons=0)


def credit_denied(session: Session, log: ChainLog) -> None:
    _decision(session, log, approved=False, reasons=int(log.args["reasons"]))


def _decision(session: Session, log: ChainLog, *, approved: bool, reasons: int) -> None:
    attestation = log.args["attestation"]
    session.add(
        CreditDecisionRow(
            borrower=address(log.args["borrower"]),
            policy_version=int(log.args["policyVersion"]),
            band=int(attestation["band"]),
            approved=approved,
            denial_reasons=reasons,
            **log.where(),
        )
    )


def credit_refund_settled(session: Session, log: ChainLog) -> None:
    """One increment: ``settleRefund`` applies what the escrow credited the payer since the last
    settlement, so a partly refunded order can settle several times."""
    a = log.args
    session.add(
        CreditRefundRow(
            order_id=hex32(a["orderId"]),
            borrower=address(a["borrower"]),
            refund=str(int(a["refund"])),
            surplus=str(int(a["surplus"])),
            **log.where(),
        )
    )


def credit_drawn(session: Session, log: ChainLog) -> None:
    """A draw (into an order, or to the wallet: order id zero) and the line's due time."""
    order_id = hex32(log.args["orderId"])
    due_at = int(log.args["dueAt"])
    _line(session, log, DRAWN, due_at, None if order_id == ZERO_ORDER else order_id)


def late_fee_charged(session: Session, log: ChainLog) -> None:
    _line(session, log, LATE_FEE_CHARGED, int(log.args["dueAt"]))


def line_defaulted(session: Session, log: ChainLog) -> None:
    _line(session, log, DEFAULTED)


def line_restored(session: Session, log: ChainLog) -> None:
    _line(session, log, RESTORED)


def _line(
    session: Session,
    log: ChainLog,
    kind: str,
    due_at: int | None = None,
    order_id: str | None = None,
) -> None:
    session.add(
        CreditLineEventRow(
            kind=kind,
            borrower=address(log.args["borrower"]),
            due_at=due_at,
            order_id=order_id,
            **log.where(),
        )
    )


def principal_impaired(session: Session, log: ChainLog) -> None:
    _pool(session, log, PRINCIPAL_IMPAIRED, address(log.args["line"]), log.args["principal"])


def loss_recognized(session: Session, log: ChainLog) -> None:
    _pool(session, log, LOSS_RECOGNIZED, address(log.args["line"]), log.args["principal"])


def income_locked(session: Session, log: ChainLog) -> None:
    details = {
        "locked_total": str(int(log.args["lockedTotal"])),
        "unlocked_at": int(log.args["unlockedAt"]),
    }
    _pool(session, log, INCOME_LOCKED, None, log.args["amount"], details)


def redeem_request(session: Session, log: ChainLog) -> None:
    details = {"owner": address(log.args["owner"]), "sender": address(log.args["sender"])}
    controller = address(log.args["controller"])
    _pool(session, log, REDEEM_REQUEST, controller, log.args["shares"], details)


def _pool(
    session: Session,
    log: ChainLog,
    kind: str,
    account: str | None,
    amount: int,
    details: Mapping[str, object] | None = None,
) -> None:
    session.add(
        CreditPoolEventRow(
            kind=kind,
            account=account,
            amount=str(int(amount)),
            details=json.dumps(details or {}, sort_keys=True),
            **log.where(),
        )
    )


def register_credit(table: HandlerTable) -> None:
    from app.index.credit_detail_events import register_credit_details

    table.add(CREDIT_LINES, "CreditApproved", credit_approved)
    table.add(CREDIT_LINES, "CreditDenied", credit_denied)
    table.add(CREDIT_LINES, "CreditRefundSettled", credit_refund_settled)
    table.add(CREDIT_LINES, "CreditDrawn", credit_drawn)
    table.add(CREDIT_LINES, "CreditLateFeeCharged", late_fee_charged)
    table.add(CREDIT_LINES, "CreditLineDefaulted", line_defaulted)
    table.add(CREDIT_LINES, "CreditLineRestored", line_restored)
    table.add(CREDIT_VAULT, "PrincipalImpaired", principal_impaired)
    table.add(CREDIT_VAULT, "LossRecognized", loss_recognized)
    table.add(CREDIT_VAULT, "IncomeLocked", income_locked)
    table.add(CREDIT_VAULT, "RedeemRequest", redeem_request)
    register_credit_details(table)
