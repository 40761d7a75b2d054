"""CreditLines' decisions into the index, by tier (the attested band).

Indexed once the deployment record names ``CreditLines`` and ``abi/CreditLines.json`` exists; until
then the indexer skips these handlers and the stats show no credit decisions.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.index.handlers import ChainLog, HandlerTable, address
from app.index.models import CreditDecisionRow

CREDIT_LINES = "CreditLines"


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


def register_credit(table: HandlerTable) -> None:
    table.add(CREDIT_LINES, "CreditApproved", credit_approved)
    table.add(CREDIT_LINES, "CreditDenied", credit_denied)
