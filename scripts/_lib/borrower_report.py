"""A borrower reads the own credit report at the service: a Sign-In with Ethereum session (EIP-4361)
signed here by the borrower's own account (the key never leaves), the report it opens, checked
here against the commitment the chain holds, and the session closed again."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account.messages import encode_defunct

from app.credit.line_schemas import BorrowerReportPublic, BorrowerSessionPublic
from app.domain.attestations import report_commitment
from app.merchant.schemas import SiweNoncePublic
from app.merchant.siwe_message import SiweMessage, format_siwe_message
from scripts._lib import chain
from scripts._lib.chain import Run, Stop
from scripts._lib.service import ServiceError, ask, fetch

STATEMENT = "Sign in to read my own credit report at TrustMall."
SESSION_MINUTES = 10


@dataclass(frozen=True)
class ReadReport:
    """The report as the service gave it, and what this script checked of it."""

    report: BorrowerReportPublic
    commitment_here: str  # keccak256(salt || canonical JSON of the report), computed here
    on_chain: str | None  # the report hash of the borrower's latest decision on chain


def read_own_report(run: Run, base: str, lines: Any) -> ReadReport:
    """Signs in as ``run``'s account, reads its report, signs out (also when reading fails)."""
    token = _sign_in(run, base)
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        report = ask(BorrowerReportPublic, f"{base}/v1/credit/lines/{run.me}/report", None, bearer)
    except ServiceError as error:
        raise Stop(f"the service did not give the report: {error}") from None
    finally:
        # A session left open ends on its own in minutes; the report is what was asked.
        with contextlib.suppress(ServiceError):
            fetch(f"{base}/v1/credit/siwe/session", headers=bearer, method="DELETE")
    salt = bytes.fromhex(report.salt.removeprefix("0x"))
    here = "0x" + report_commitment(report.report, salt).hex()
    start = run.record_block("CreditLines", str(lines.address))
    return ReadReport(report, here, _decided_report_hash(lines, run.me, start))


def _sign_in(run: Run, base: str) -> str:
    try:
        offer = ask(SiweNoncePublic, f"{base}/v1/credit/siwe/nonce")
    except ServiceError as error:
        raise Stop(f"the service gave no sign-in nonce: {error}") from None
    from ape import chain as ape_chain

    if offer.chain_id != int(ape_chain.chain_id):
        raise Stop(
            f"the service at {base} serves chain {offer.chain_id}, this network is chain "
            f"{int(ape_chain.chain_id)}: give the service of this network (--service)"
        )
    issued = datetime.now(UTC).replace(microsecond=0)
    message = SiweMessage(
        domain=offer.domain,
        address=run.me,
        statement=STATEMENT,
        uri=offer.uri,
        version="1",
        chain_id=offer.chain_id,
        nonce=offer.nonce,
        issued_at=issued,
        expiration_time=issued + timedelta(minutes=SESSION_MINUTES),
    )
    text = format_siwe_message(message)
    signed = run.signer.sign_message(encode_defunct(text=text))
    if signed is None:
        raise Stop("the account declined to sign the sign-in message")
    body = {"message": text, "signature": "0x" + signed.encode_rsv().hex()}
    try:
        session = ask(BorrowerSessionPublic, f"{base}/v1/credit/siwe/session", body)
    except ServiceError as error:
        raise Stop(f"the service refused the sign-in: {error}") from None
    return session.token


def _decided_report_hash(lines: Any, borrower: str, start: int) -> str | None:
    """The report hash of the borrower's latest decision (approval or denial) on chain, from the
    logs since the lines' deployment block ``start``."""
    decisions = [
        log
        for event in ("CreditApproved", "CreditDenied")
        for log in chain.logs(lines, event, {"borrower": borrower}, start)
    ]
    if not decisions:
        return None
    latest = max(decisions, key=lambda log: (log.block_number, log.log_index))
    # Ape decodes a struct in an event as a list, in ABI order: reportHash is the fifth field.
    return "0x" + bytes(latest.attestation[4]).hex()
