"""The credit pool's size into the index: CreditVault's deposits and claims (ERC-4626 ``Deposit``
and ``Withdraw``), principal lent to lines (``LiquidityLent``) and repayments
(``RepaymentReceived``), as ``CreditPoolEventRow`` rows beside its losses and exits
(``app.index.credit_events``). From them the dashboard follows the pool's cash and the principal
lent out, day by day.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.index.credit_events import CREDIT_VAULT
from app.index.handlers import ChainLog, HandlerTable, address
from app.index.models import CreditPoolEventRow

DEPOSITED = "deposited"  # amount: assets in; account: the owner of the shares minted
WITHDRAWN = "withdrawn"  # amount: assets out; account: the owner whose shares were burnt
LENT = "lent"  # amount: principal out; account: the line
REPAID = "repaid"  # amount: principal back; account: the line; details: income


def _row(
    session: Session,
    log: ChainLog,
    kind: str,
    account: str,
    amount: int,
    details: dict[str, str] | None = None,
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


def deposited(session: Session, log: ChainLog) -> None:
    _row(session, log, DEPOSITED, address(log.args["owner"]), log.args["assets"])


def withdrawn(session: Session, log: ChainLog) -> None:
    _row(session, log, WITHDRAWN, address(log.args["owner"]), log.args["assets"])


def lent(session: Session, log: ChainLog) -> None:
    _row(session, log, LENT, address(log.args["line"]), log.args["amount"])


def repaid(session: Session, log: ChainLog) -> None:
    income = {"income": str(int(log.args["income"]))}
    _row(session, log, REPAID, address(log.args["line"]), log.args["principal"], income)


def register_pool(table: HandlerTable) -> None:
    table.add(CREDIT_VAULT, "Deposit", deposited)
    table.add(CREDIT_VAULT, "Withdraw", withdrawn)
    table.add(CREDIT_VAULT, "LiquidityLent", lent)
    table.add(CREDIT_VAULT, "RepaymentReceived", repaid)
