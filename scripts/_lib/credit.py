"""Credit lines and the credit pool on a deployed suite: finding the contracts, reading lines
and the pool, and what the user's wallet must hold. Used by ``scripts/lender.py``,
``scripts/borrower.py`` and ``scripts/bureau.py``. Every action goes through
``scripts._lib.chain.send``: simulated first, a refusal explained from the contract's own error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.attestations import Domain, SignedAttestation
from app.domain.input_files import read_model
from app.domain.units import format_moment
from app.domain.vocab import DenialReason, LineStatus, Standing
from scripts._lib import chain
from scripts._lib.assets import Asset, asset_of, erc20
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import Escrow
from scripts._lib.policy import read_policy

BPS = 10_000
YEAR = 365 * 86_400


@dataclass(frozen=True)
class Credit:
    """The credit lines and what they work with: verifier, vault, escrow and the stablecoin."""

    lines: Any
    verifier: Any
    vault: Any
    escrow: Escrow
    asset: Asset

    @property
    def address(self) -> str:
        return str(self.lines.address)

    def domain(self) -> Domain:
        from ape import chain as ape_chain

        return Domain(
            chain_id=int(ape_chain.chain_id), verifying_contract=str(self.verifier.address)
        )


def open_credit(run: Run) -> Credit:
    """The CreditLines recorded for this chain in the deployments dir, and its contracts."""
    from ape import project

    lines = run.contract("CreditLines")
    verifier, vault, escrow, asset = lines.contracts()
    return Credit(
        lines=lines,
        verifier=project.AttestationVerifier.at(verifier),
        vault=project.CreditVault.at(vault),
        escrow=Escrow(project.OrderEscrow.at(escrow), run.record_block("OrderEscrow", escrow)),
        asset=asset_of(str(asset)),
    )


@dataclass(frozen=True)
class LineView:
    """ICreditLines.LineView, read at ``now`` (interest to this second, late fee if due)."""

    borrower: str
    status: LineStatus
    standing: Standing
    policy_version: int
    band: int
    limit: int
    apr_bps: int
    principal: int
    interest: int
    fees: int
    due_at: int
    attested_at: int
    eligible_until: int
    now: int

    @property
    def debt(self) -> int:
        return self.principal + self.interest + self.fees

    @property
    def available(self) -> int:
        """What the limit leaves to draw (whether the line may draw now is another question)."""
        return max(self.limit - self.principal, 0)


def read_line(credit: Credit, borrower: str, now: int | None = None) -> LineView:
    view = credit.lines.lineOf(borrower)
    return LineView(
        borrower=borrower,
        status=LineStatus(int(view.status)),
        standing=Standing(int(view.standing)),
        policy_version=int(view.policyVersion),
        band=int(view.band),
        limit=int(view.limit),
        apr_bps=int(view.aprBps),
        principal=int(view.principal),
        interest=int(view.interest),
        fees=int(view.fees),
        due_at=int(view.dueAt),
        attested_at=int(view.attestedAt),
        eligible_until=int(view.eligibleUntil),
        now=chain.now() if now is None else now,
    )


def policy(credit: Credit, version: int | None = None) -> dict[str, Any] | None:
    """A policy version (default: the current one) as JSON data with its version."""
    return read_policy(credit.lines, version)


def apr(bps: int) -> str:
    return f"{bps / 100:g}%"


def describe_line(credit: Credit, line: LineView) -> list[str]:
    """The line as lines of text."""
    fmt, now = credit.asset.fmt, line.now
    if line.status is LineStatus.NONE:
        return [f"borrower   {line.borrower}", "line       none (apply with an attestation)"]
    rows = [
        f"borrower   {line.borrower}",
        f"line       {line.status.name.lower()}, {line.standing.name.lower().replace('_', ' ')}",
        f"terms      policy v{line.policy_version}, band {line.band}: limit {fmt(line.limit)}, "
        f"APR {apr(line.apr_bps)}",
        f"principal  {fmt(line.principal)} (available to draw {fmt(line.available)})",
        f"interest   {fmt(line.interest)}",
        f"fees       {fmt(line.fees)}",
        f"owed       {fmt(line.debt)}",
    ]
    if line.due_at:
        rows.append(f"due        {format_moment(line.due_at, now)}")
    rows.append(
        f"attested   {format_moment(line.attested_at, now)}; drawable until "
        f"{format_moment(line.eligible_until, now)}"
    )
    return rows


REASONS = {
    DenialReason.BAND_BELOW_MINIMUM: "score band below the policy's minimum",
    DenialReason.BAND_NOT_IN_POLICY: "score band has no tier in the policy",
    DenialReason.ATTESTATION_STALE: "attestation older than the policy's refresh period",
    DenialReason.ATTESTATION_NOT_NEWER: "attestation not newer than the line's current one",
    DenialReason.LINE_DEFAULTED: "the line is defaulted (repay it in full first)",
    DenialReason.IDENTITY_BOUND_ELSEWHERE: (
        "the attested identity already has a line under another address (one identity, one line)"
    ),
}


def read_attestation(path: Path, hint: str) -> SignedAttestation:
    """A signed attestation file (``ape run bureau attest`` wrote it), or a one-line stop."""
    try:
        return read_model(path, SignedAttestation, "an attestation file")
    except ValueError as exc:
        raise Stop(f"{hint}: {exc}") from None


def reason_text(reason: DenialReason) -> str:
    return REASONS.get(reason, reason.name.lower().replace("_", " "))


def require_balance(asset: Asset, account: str, amount: int, what: str) -> None:
    """The wallet must hold what the user is about to pay."""
    balance = asset.balance_of(account)
    if balance < amount:
        raise Stop(
            f"{account} holds {asset.fmt(balance)}, less than {what} {asset.fmt(amount)}; "
            "nothing was sent"
        )


def approve(run: Run, credit: Credit, spender: str, amount: int, what: str) -> None:
    """Approves ``spender`` for ``amount`` of the stablecoin unless the allowance covers it."""
    token = erc20(credit.asset.token)
    if int(token.allowance(run.me, spender)) >= amount:
        return
    receipt = chain.send(run, token.approve, spender, amount, what="the approval")
    chain.done(f"approved {what} for {credit.asset.fmt(amount)}", receipt)


def interest_for(principal: int, apr_bps: int, seconds: int) -> int:
    """Interest the contract accrues on ``principal`` over ``seconds`` (rounded up)."""
    return -(-principal * apr_bps * seconds // (BPS * YEAR))
