"""The events that explain a credit line into ``app.index.credit_rows``: each decision's
attestation (beside the decision row ``app.index.credit_events`` writes), the policies as
published, the draws' amounts and the repayments."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.index.credit_events import CREDIT_LINES, ZERO_ORDER
from app.index.credit_rows import (
    CreditAttestationRow,
    CreditDrawRow,
    CreditPolicyRow,
    CreditRepaymentRow,
)
from app.index.handlers import ChainLog, HandlerTable, address, hex32


def decision_attestation(session: Session, log: ChainLog) -> None:
    said = log.args["attestation"]
    session.add(
        CreditAttestationRow(
            borrower=address(log.args["borrower"]),
            model_id=hex32(said["modelId"]),
            report_hash=hex32(said["reportHash"]),
            nonce=str(int(said["nonce"])),
            issued_at=int(said["issuedAt"]),
            expires_at=int(said["expiresAt"]),
            **log.where(),
        )
    )


def policy_published(session: Session, log: ChainLog) -> None:
    session.add(
        CreditPolicyRow(
            version=int(log.args["version"]),
            rules=json.dumps(_plain(log.args["rules"]), sort_keys=True),
            tiers=json.dumps([_plain(tier) for tier in log.args["tiers"]], sort_keys=True),
            **log.where(),
        )
    )


def credit_drawn(session: Session, log: ChainLog) -> None:
    order_id = hex32(log.args["orderId"])
    session.add(
        CreditDrawRow(
            borrower=address(log.args["borrower"]),
            order_id=None if order_id == ZERO_ORDER else order_id,
            amount=str(int(log.args["amount"])),
            principal=str(int(log.args["principal"])),
            due_at=int(log.args["dueAt"]),
            **log.where(),
        )
    )


def credit_repaid(session: Session, log: ChainLog) -> None:
    a = log.args
    session.add(
        CreditRepaymentRow(
            borrower=address(a["borrower"]),
            payer=address(a["payer"]),
            fees=str(int(a["fees"])),
            interest=str(int(a["interest"])),
            principal=str(int(a["principal"])),
            **log.where(),
        )
    )


def _plain(values: Mapping[str, Any]) -> dict[str, int | bool]:
    """A decoded struct as JSON keeps it: booleans as booleans, every number as an integer."""
    return {k: v if isinstance(v, bool) else int(v) for k, v in dict(values).items()}


def register_credit_details(table: HandlerTable) -> None:
    """After ``register_credit``: the decisions' and draws' handlers are followed, in the same
    transaction, by the rows here."""
    table.follow(CREDIT_LINES, "CreditApproved", decision_attestation)
    table.follow(CREDIT_LINES, "CreditDenied", decision_attestation)
    table.follow(CREDIT_LINES, "CreditDrawn", credit_drawn)
    table.add(CREDIT_LINES, "CreditRepaid", credit_repaid)
    table.add(CREDIT_LINES, "PolicyPublished", policy_published)
