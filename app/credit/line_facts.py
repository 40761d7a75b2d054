"""What a borrower's credit page is made from: the index's rows of the borrower's decisions,
their attestations and policy, draws, repayments, refunds and line events; and the contract's own
``lineOf`` for the line as of now (interest accrues by the second: only the contract's arithmetic
says what is owed at this block)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.credit.models import CreditReportRecord
from app.domain.vocab import DenialReason
from app.index.chain import RPC_ERRORS, ChainAccess, ChainUnavailable
from app.index.credit_events import CREDIT_LINES, DEFAULTED, LATE_FEE_CHARGED, RESTORED
from app.index.credit_rows import (
    CreditAttestationRow,
    CreditDrawRow,
    CreditPolicyRow,
    CreditRepaymentRow,
)
from app.index.models import (
    CreditDecisionRow,
    CreditLineEventRow,
    CreditRefundRow,
    IndexCursor,
)

VERIFIER = "AttestationVerifier"
LINE_EVENT_KINDS = (LATE_FEE_CHARGED, DEFAULTED, RESTORED)
CHAIN_AWAY: tuple[type[Exception], ...] = (ChainUnavailable, *RPC_ERRORS)


@dataclass(frozen=True)
class Decided:
    """A decision and the attestation its event carried (same block and log index)."""

    decision: CreditDecisionRow
    attestation: CreditAttestationRow | None


@dataclass(frozen=True)
class LineRows:
    """The index's record of one borrower: its decisions, the one that decided its newest
    attestation first (``deciding_first``), then the others newest first; the rest oldest
    first."""

    decisions: list[Decided]
    policy: CreditPolicyRow | None
    draws: list[CreditDrawRow]
    repayments: list[CreditRepaymentRow]
    refunds: list[CreditRefundRow]
    line_events: list[CreditLineEventRow]
    indexed_to_block: int | None


@dataclass(frozen=True)
class ChainLine:
    """The contracts as the page names them, and ``lineOf`` at one block."""

    lines_address: str
    verifier_address: str | None
    token: str
    # ICreditLines.LineView, in ABI order.
    view: tuple[Any, ...]
    block: int


def deciding_first(newest_first: list[CreditDecisionRow]) -> list[CreditDecisionRow]:
    """``newest_first`` with the decision of the borrower's newest attestation moved to the front:
    the latest one not denied as ``AttestationNotNewer`` (the contract's reason for an attestation
    no newer than one already decided, which changed nothing). Those kept their order, so the
    latest of them decided the newest attestation."""
    not_newer = DenialReason.bitmap(DenialReason.ATTESTATION_NOT_NEWER)
    for position, row in enumerate(newest_first):
        if not row.denial_reasons & not_newer:
            return [row, *newest_first[:position], *newest_first[position + 1 :]]
    return newest_first


def line_rows(session: Session, borrower: str) -> LineRows | None:
    """The borrower's rows; None when the borrower never applied."""
    decisions = list(
        session.scalars(
            select(CreditDecisionRow)
            .where(CreditDecisionRow.borrower == borrower)
            .order_by(CreditDecisionRow.block_number.desc(), CreditDecisionRow.log_index.desc())
        )
    )
    if not decisions:
        return None
    decisions = deciding_first(decisions)
    attestations = {
        (row.block_number, row.log_index): row
        for row in session.scalars(
            select(CreditAttestationRow).where(CreditAttestationRow.borrower == borrower)
        )
    }
    latest = decisions[0]
    policy = session.scalars(
        select(CreditPolicyRow)
        .where(CreditPolicyRow.version == latest.policy_version)
        .order_by(CreditPolicyRow.block_number.desc())
        .limit(1)
    ).first()
    cursor = session.scalars(select(IndexCursor).limit(1)).first()
    return LineRows(
        decisions=[
            Decided(row, attestations.get((row.block_number, row.log_index))) for row in decisions
        ],
        policy=policy,
        draws=_oldest_first(session, CreditDrawRow, borrower),
        repayments=_oldest_first(session, CreditRepaymentRow, borrower),
        refunds=_oldest_first(session, CreditRefundRow, borrower),
        line_events=[
            row
            for row in _oldest_first(session, CreditLineEventRow, borrower)
            if row.kind in LINE_EVENT_KINDS
        ],
        indexed_to_block=cursor.last_block if cursor is not None else None,
    )


def _oldest_first(session: Session, table: Any, borrower: str) -> list[Any]:
    return list(
        session.scalars(
            select(table)
            .where(table.borrower == borrower)
            .order_by(table.block_number, table.log_index)
        )
    )


def chain_line(chain: ChainAccess, borrower: str) -> ChainLine | None:
    """The line as the contract computes it now; None while the chain cannot be read (the page
    still shows the index's record)."""
    try:
        suite = chain.suite()
        lines = suite.contracts.get(CREDIT_LINES)
        if lines is None:
            return None
        verifier = suite.contracts.get(VERIFIER)
        block = int(suite.web3.eth.block_number)
        _verifier, _vault, _escrow, token = lines.functions.contracts().call(block_identifier=block)
        view = tuple(lines.functions.lineOf(borrower).call(block_identifier=block))
    except CHAIN_AWAY:
        return None
    return ChainLine(
        lines_address=str(lines.address),
        verifier_address=str(verifier.address) if verifier is not None else None,
        token=str(token),
        view=view,
        block=block,
    )


def deployment_addresses(chain: ChainAccess) -> tuple[str | None, str | None]:
    """CreditLines' and the verifier's addresses from the deployment record, when it is read."""
    try:
        contracts = chain.suite().contracts
    except ChainUnavailable:
        return None, None
    lines, verifier = contracts.get(CREDIT_LINES), contracts.get(VERIFIER)
    return (
        str(lines.address) if lines is not None else None,
        str(verifier.address) if verifier is not None else None,
    )


def model_names(session: Session, borrower: str) -> dict[str, str]:
    """The scoring models' names of the borrower's reports this service attested, by report
    commitment (the chain holds only the name's hash)."""
    names: dict[str, str] = {}
    for record in session.scalars(
        select(CreditReportRecord).where(CreditReportRecord.borrower == borrower)
    ):
        model = record.signed_attestation.get("model")
        if isinstance(model, str):
            names[record.report_hash] = model
    return names
