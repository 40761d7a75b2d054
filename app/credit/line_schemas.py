"""The answers of ``GET /v1/credit/lines/{address}`` (public: what the chain shows, explained) and
``GET /v1/credit/lines/{address}/report`` (the borrower's own decrypted report, behind Sign-In
with Ethereum). Amounts are base units of the pool's stablecoin as decimal text (``amount``), and
as people read them (``amount_text``: ``480.00 dUSD``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.domain.abi_types import Address, Bytes32, Uint256

Outcome = Literal["approved", "denied"]


class Words(BaseModel):
    """One text in English and Simplified Chinese."""

    en: str
    zh: str


class OnChainCheck(BaseModel):
    """How anyone checks a fact on chain: a contract's view called with these arguments, or an
    event read from a transaction's receipt."""

    contract: str = Field(description="The contract's name in the deployment record")
    address: Address | None = Field(description="Its address (null: the deployment is unknown)")
    kind: Literal["view", "event"]
    name: str = Field(description="The view's signature, or the event's name, as in the ABI")
    arguments: dict[str, Any] = Field(
        description="A view's arguments, or the event's transaction hash and log index"
    )
    expect: Words = Field(description="What the answer shows, in words")


class Amount(BaseModel):
    """An amount of the pool's stablecoin."""

    amount: Uint256 = Field(description="Base units, decimal text")
    amount_text: str = Field(description="As people read it: 480.00 dUSD")


class ReasonPublic(BaseModel):
    """One reason a decision gave: the contract's ``DenialReason`` and its words."""

    code: str = Field(description="The reason's name in the contract, snake case")
    bit: int = Field(description="Its bit in CreditDenied.reasons")
    en: str = Field(description="The reason in English")
    zh: str = Field(description="The reason in Simplified Chinese")


class DecisionPublic(BaseModel):
    """A decision of ``CreditLines.applyForCredit`` (its event: ``CreditApproved`` or
    ``CreditDenied``), with every reason of a denial."""

    outcome: Outcome
    decided_at: datetime = Field(description="The block's time")
    block_number: int
    tx_hash: Bytes32 = Field(description="The transaction that decided")
    log_index: int
    policy_version: int = Field(description="The policy version it was decided by")
    band: int = Field(description="The attested score band (the tier of the policy)")
    reasons: list[ReasonPublic] = Field(description="Why it was denied; empty when approved")
    check: OnChainCheck


class TierPublic(BaseModel):
    """The terms one band gets under a policy version (``ICreditPolicies.Tier``)."""

    band: int
    approved: bool = Field(description="Whether the policy approves this band (minBand and up)")
    limit: Amount = Field(description="Most principal outstanding after a draw")
    apr_bps: int = Field(description="Simple annual interest, basis points")
    apr_text: str = Field(description="The APR as a percentage: 12.00%")
    term_seconds: int = Field(description="From a cycle's first draw until everything is due")
    grace_period_seconds: int = Field(description="After the due time, before the late fee")
    late_fee: Amount


class PolicyPublic(BaseModel):
    """A policy version as ``PolicyPublished`` stated it."""

    version: int
    published_at: datetime
    tx_hash: Bytes32
    min_band: int
    refresh_period_seconds: int = Field(description="How long an attestation keeps a line drawable")
    default_after_seconds: int = Field(description="After the due time: defaulted and frozen")
    wallet_draws: bool = Field(description="Whether draws to the wallet are allowed")
    tiers: list[TierPublic] = Field(description="Index = band")
    checks: list[OnChainCheck]


class AttestationPublic(BaseModel):
    """What the bureau's attestation of the decision committed to: the band, the scoring model and
    a salted commitment to the report (never the score or the report)."""

    band: int
    model_id: Bytes32 = Field(description="keccak256 of the scoring model's name")
    model: str | None = Field(description="The model's name, when the service holds it")
    report_hash: Bytes32 = Field(description="keccak256(salt || canonical JSON of the report)")
    nonce: Uint256
    issued_at: datetime
    expires_at: datetime
    checks: list[OnChainCheck]


class LineStatePublic(BaseModel):
    """The line as of now, by the contract's own arithmetic (``lineOf``: interest accrued to the
    latest block, any late fee due included)."""

    status: str = Field(description="none, active, defaulted or written_off")
    standing: str = Field(
        description="none, eligible, on_hold, denied (a newer attestation was denied), past_due, "
        "defaulted or written_off"
    )
    limit: Amount
    principal: Amount = Field(description="Drawn and not repaid")
    interest: Amount = Field(description="Accrued and unpaid")
    fees: Amount = Field(description="Late fees unpaid")
    owed: Amount = Field(description="principal + interest + fees")
    due_at: datetime | None = Field(description="When everything owed is due (null: nothing)")
    eligible_until: datetime | None = Field(description="Drawable until (the refresh period)")
    denied_at: datetime | None = Field(
        description="Issue time of the newest attestation denied for the borrower (null: none); "
        "later than the approved one's, it holds the line (standing denied) until an attestation "
        "newer than it is approved"
    )
    as_of_block: int
    check: OnChainCheck


class DrawPublic(BaseModel):
    """``CreditDrawn``: credit paid an escrow order (``order_id``) or the wallet (null)."""

    at: datetime
    tx_hash: Bytes32
    order_id: Bytes32 | None
    amount: Amount
    principal_after: Amount
    due_at: datetime


class RepaymentPublic(BaseModel):
    """``CreditRepaid``: a payment applied fees first, then interest, then principal."""

    at: datetime
    tx_hash: Bytes32
    payer: Address = Field(description="Who paid (the line itself when it settled a refund)")
    by_refund: bool = Field(description="Whether it was an order's refund being settled")
    total: Amount
    fees: Amount
    interest: Amount
    principal: Amount


class RefundPublic(BaseModel):
    """``CreditRefundSettled``: an order's refund applied to the line; what was beyond the debt
    (``surplus``) went to the borrower."""

    at: datetime
    tx_hash: Bytes32
    order_id: Bytes32
    refund: Amount
    surplus: Amount


class LineEventPublic(BaseModel):
    """A late fee charged, a default or a restoration."""

    kind: Literal["late_fee_charged", "defaulted", "restored"]
    at: datetime
    tx_hash: Bytes32


class CreditLinePublic(BaseModel):
    """A borrower's credit decision and line, explained from the chain's record. Public: the chain
    already shows all of it to anyone; the report itself is only at ``/report``, to its borrower."""

    borrower: Address
    decision: DecisionPublic = Field(description="The latest decision")
    earlier_decisions: list[DecisionPublic] = Field(description="Older decisions, newest first")
    policy: PolicyPublic | None = Field(
        description="The version the decision applied (null: not indexed)"
    )
    attestation: AttestationPublic | None
    line: LineStatePublic | None = Field(
        description="Null when the line was never opened, or the chain cannot be read now"
    )
    draws: list[DrawPublic]
    repayments: list[RepaymentPublic]
    refunds: list[RefundPublic]
    line_events: list[LineEventPublic]
    token: Address | None = Field(description="The pool's stablecoin (null: unknown now)")
    indexed_to_block: int | None = Field(description="The index's last block")


class AttesterPublic(BaseModel):
    """An attester whose signature the application carried."""

    address: Address
    by_service: bool = Field(description="This service's own key (else the bureau's cosigner)")


class BorrowerReportPublic(BaseModel):
    """The report behind the latest decision, decrypted, for its borrower alone; with who attested
    it and how to check that it is the report the chain's commitment names."""

    borrower: Address
    report_id: str = Field(description="The service's id of the report")
    bureau: str = Field(description="The credit bureau that sent it (its source name)")
    model: str
    score: int
    report: dict[str, Any]
    received_at: datetime
    report_hash: Bytes32
    salt: Bytes32 = Field(description="The commitment's salt")
    commitment_holds: bool = Field(
        description="keccak256(salt || canonical JSON of report) equals report_hash"
    )
    attesters: list[AttesterPublic]
    verifier: Address = Field(description="The AttestationVerifier that counted the signatures")


class BorrowerSessionPublic(BaseModel):
    """A borrower's session: send ``Authorization: Bearer <token>`` to read the own report."""

    token: str
    borrower: Address
    expires_at: datetime
