"""A borrower's credit line explained (``CreditLinePublic``), from the index's rows and the
contract's ``lineOf``: the decision with every reason in words, the policy version it applied as
a table, what the attestation committed to, and how anyone checks each on chain. It reads and
explains; the contract alone decided."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from app.api.page_language import Phrase
from app.credit import line_wording as w
from app.credit.line_facts import ChainLine, Decided, LineRows
from app.credit.line_schemas import (
    Amount,
    AttestationPublic,
    CreditLinePublic,
    DecisionPublic,
    DrawPublic,
    LineEventPublic,
    LineStatePublic,
    OnChainCheck,
    PolicyPublic,
    ReasonPublic,
    RefundPublic,
    RepaymentPublic,
    TierPublic,
    Words,
)
from app.domain.credit_reasons import denial_words, reason_code
from app.domain.vocab import DenialReason, LineStatus, Standing
from app.index.credit_events import CREDIT_LINES
from app.index.credit_rows import CreditPolicyRow
from app.shop.tokens import AmountText

VERIFIER = "AttestationVerifier"
# ICreditLines.LineView, in ABI order.
(
    _STATUS,
    _STANDING,
    _VERSION,
    _BAND,
    _LIMIT,
    _APR,
    _PRINCIPAL,
    _INTEREST,
    _FEES,
    _DUE,
    _ATTESTED,
    _ELIGIBLE,
    _DENIED,
) = range(13)


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


class LineExplainer:
    """Turns one borrower's facts into the answer; amounts in the pool's stablecoin."""

    def __init__(
        self,
        borrower: str,
        rows: LineRows,
        chain: ChainLine | None,
        addresses: tuple[str | None, str | None],
        amount_text: AmountText,
        model_names: dict[str, str],
    ) -> None:
        self.borrower = borrower
        self.rows = rows
        self.chain = chain
        self.lines_address, self.verifier_address = addresses
        self._amount_text = amount_text
        self._model_names = model_names

    def amount(self, value: int | str) -> Amount:
        units = int(value)
        if self.chain is None:
            return Amount(amount=units, amount_text=f"{units} base units")
        return Amount(amount=units, amount_text=self._amount_text(self.chain.token, units))

    def answer(self) -> CreditLinePublic:
        latest, *earlier = self.rows.decisions
        refund_txs = {row.tx_hash for row in self.rows.refunds}
        return CreditLinePublic(
            borrower=self.borrower,
            decision=self.decision(latest),
            earlier_decisions=[self.decision(d) for d in earlier],
            policy=self.policy(self.rows.policy, latest.decision.band),
            attestation=self.attestation(latest),
            line=self.line_state(),
            draws=[
                DrawPublic(
                    at=utc(row.block_time),
                    tx_hash=row.tx_hash,
                    order_id=row.order_id,
                    amount=self.amount(row.amount),
                    principal_after=self.amount(row.principal),
                    due_at=utc(row.due_at),
                )
                for row in self.rows.draws
            ],
            repayments=[
                RepaymentPublic(
                    at=utc(row.block_time),
                    tx_hash=row.tx_hash,
                    payer=row.payer,
                    by_refund=row.tx_hash in refund_txs,
                    total=self.amount(int(row.fees) + int(row.interest) + int(row.principal)),
                    fees=self.amount(row.fees),
                    interest=self.amount(row.interest),
                    principal=self.amount(row.principal),
                )
                for row in self.rows.repayments
            ],
            refunds=[
                RefundPublic(
                    at=utc(row.block_time),
                    tx_hash=row.tx_hash,
                    order_id=row.order_id,
                    refund=self.amount(row.refund),
                    surplus=self.amount(row.surplus),
                )
                for row in self.rows.refunds
            ],
            line_events=[
                LineEventPublic.model_validate(
                    {"kind": row.kind, "at": utc(row.block_time), "tx_hash": row.tx_hash}
                )
                for row in self.rows.line_events
            ],
            token=self.chain.token if self.chain is not None else None,
            indexed_to_block=self.rows.indexed_to_block,
        )

    def decision(self, decided: Decided) -> DecisionPublic:
        row = decided.decision
        event = "CreditApproved" if row.approved else "CreditDenied"
        reasons = [] if row.approved else DenialReason.decode(row.denial_reasons)
        return DecisionPublic(
            outcome="approved" if row.approved else "denied",
            decided_at=utc(row.block_time),
            block_number=row.block_number,
            tx_hash=row.tx_hash,
            log_index=row.log_index,
            policy_version=row.policy_version,
            band=row.band,
            reasons=[
                ReasonPublic(
                    code=reason_code(r), bit=int(r), en=denial_words(r).en, zh=denial_words(r).zh
                )
                for r in reasons
            ],
            check=self._event(
                CREDIT_LINES,
                self.lines_address,
                event,
                row.tx_hash,
                row.log_index,
                _words(
                    w.EXPECT_DECISION,
                    (w.EXPECT_REASONS,) if not row.approved else (),
                    borrower=self.borrower,
                    version=row.policy_version,
                    band=row.band,
                    reasons=row.denial_reasons,
                ),
            ),
        )

    def policy(self, row: CreditPolicyRow | None, band: int) -> PolicyPublic | None:
        if row is None:
            return None
        rules: dict[str, Any] = json.loads(row.rules)
        tiers: list[dict[str, Any]] = json.loads(row.tiers)
        min_band = int(rules["minBand"])
        version = row.version
        return PolicyPublic(
            version=version,
            published_at=utc(row.block_time),
            tx_hash=row.tx_hash,
            min_band=min_band,
            refresh_period_seconds=int(rules["refreshPeriod"]),
            default_after_seconds=int(rules["defaultAfter"]),
            wallet_draws=bool(rules["walletDraws"]),
            tiers=[
                TierPublic(
                    band=index,
                    approved=index >= min_band,
                    limit=self.amount(tier["limit"]),
                    apr_bps=int(tier["aprBps"]),
                    apr_text=f"{int(tier['aprBps']) / 100:.2f}%",
                    term_seconds=int(tier["term"]),
                    grace_period_seconds=int(tier["gracePeriod"]),
                    late_fee=self.amount(tier["lateFee"]),
                )
                for index, tier in enumerate(tiers)
            ],
            checks=[
                self._view(
                    CREDIT_LINES,
                    self.lines_address,
                    "policyTier(uint16,uint8)",
                    {"version": version, "band": band},
                    _words(w.EXPECT_TIER, band=band, version=version),
                ),
                self._view(
                    CREDIT_LINES,
                    self.lines_address,
                    "policyRules(uint16)",
                    {"version": version},
                    _words(w.EXPECT_RULES),
                ),
                self._event(
                    CREDIT_LINES,
                    self.lines_address,
                    "PolicyPublished",
                    row.tx_hash,
                    row.log_index,
                    _words(w.EXPECT_PUBLISHED, version=version),
                ),
            ],
        )

    def attestation(self, decided: Decided) -> AttestationPublic | None:
        said = decided.attestation
        if said is None:
            return None
        nonce = int(said.nonce)
        return AttestationPublic(
            band=decided.decision.band,
            model_id=said.model_id,
            model=self._model_names.get(said.report_hash),
            report_hash=said.report_hash,
            nonce=nonce,
            issued_at=utc(said.issued_at),
            expires_at=utc(said.expires_at),
            checks=[
                self._event(
                    CREDIT_LINES,
                    self.lines_address,
                    "CreditApproved" if decided.decision.approved else "CreditDenied",
                    said.tx_hash,
                    said.log_index,
                    _words(w.EXPECT_ATTESTATION),
                ),
                self._view(
                    VERIFIER,
                    self.verifier_address,
                    "isNonceUsed(uint256)",
                    {"nonce": str(nonce)},
                    _words(w.EXPECT_NONCE),
                ),
            ],
        )

    def line_state(self) -> LineStatePublic | None:
        chain = self.chain
        if chain is None or LineStatus(int(chain.view[_STATUS])) is LineStatus.NONE:
            return None
        view = chain.view
        principal, interest, fees = int(view[_PRINCIPAL]), int(view[_INTEREST]), int(view[_FEES])
        due, eligible, denied = int(view[_DUE]), int(view[_ELIGIBLE]), int(view[_DENIED])
        return LineStatePublic(
            status=LineStatus(int(view[_STATUS])).name.lower(),
            standing=Standing(int(view[_STANDING])).name.lower(),
            limit=self.amount(view[_LIMIT]),
            principal=self.amount(principal),
            interest=self.amount(interest),
            fees=self.amount(fees),
            owed=self.amount(principal + interest + fees),
            due_at=utc(due) if due else None,
            eligible_until=utc(eligible) if eligible else None,
            denied_at=utc(denied) if denied else None,
            as_of_block=chain.block,
            check=self._view(
                CREDIT_LINES,
                chain.lines_address,
                "lineOf(address)",
                {"borrower": self.borrower},
                _words(w.EXPECT_LINE),
            ),
        )

    @staticmethod
    def _view(
        contract: str, address: str | None, name: str, arguments: dict[str, Any], expect: Words
    ) -> OnChainCheck:
        return OnChainCheck(
            contract=contract,
            address=address,
            kind="view",
            name=name,
            arguments=arguments,
            expect=expect,
        )

    @staticmethod
    def _event(
        contract: str, address: str | None, name: str, tx_hash: str, log_index: int, expect: Words
    ) -> OnChainCheck:
        return OnChainCheck(
            contract=contract,
            address=address,
            kind="event",
            name=name,
            arguments={"transaction": tx_hash, "log_index": log_index},
            expect=expect,
        )


def _words(phrase: Phrase, more: tuple[Phrase, ...] = (), **values: object) -> Words:
    """``phrase`` (and any ``more``) with ``values`` put in, in both languages."""
    return Words(
        en="".join(p.en for p in (phrase, *more)).format(**values),
        zh="".join(p.zh for p in (phrase, *more)).format(**values),
    )
