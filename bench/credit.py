"""Credit lines (issue #4): attestation checks, applications, draws into escrow orders,
repayments and the pool's deposits and withdrawals, in gas.

Every transaction row is its receipt's total gas (21,000 base included); attestation checks are
the node's ``eth_estimateGas`` of the verifier's ``verify`` view. Measured in steady use, as a
running pool is: before anything is measured, another borrower has applied, drawn into an order
and repaid part, so the vault has lent before, the escrow holds the stablecoin and the
verifier's nonce word is in use (nonces are sequential). The measured borrower applies and draws
for the first time. Each row's note says what was warm or cold.

The peer, Chronicle's Scribe ``poke`` with 5 signers (a signed oracle report checked on chain),
is a published figure, not measured in this run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from ape import accounts, chain
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, SignedAttestation, model_id_of, sign_all
from bench.context import BenchContext, gas_used
from bench.model import Peer, Row, Target
from tests.support.nodes import rpc

SECTION = "Credit lines (issue #4)"

# Chronicle Protocol's published gas of Scribe's poke with 5 signers (its documentation's
# benchmark), shown as the peer for checking signed reports on chain; not measured here.
SCRIBE_POKE_5_SIGNERS = 81_025
SCRIBE_PEER = Peer("Chronicle Scribe poke, 5 signers (published)", SCRIBE_POKE_5_SIGNERS)
APPLY_K1_TARGET = Target(100_000)
DRAW_ORDER_TARGET = Target(160_000)

USD = 10**6
DAY = 86_400
MAX_UINT256 = 2**256 - 1
POOL = 1_000_000 * USD
PRICE = 250 * USD
FEE_BPS = 100
MODEL = "trustmall-score-v3"
ATTESTERS = 5
QUORUM = 3
# Policy v1: (limit, APR bps, term, grace, late fee); minimum band 1, 30-day refresh, default
# 60 days after the due time, wallet draws allowed.
TIERS = (
    (100 * USD, 3_600, 30 * DAY, 5 * DAY, 10 * USD),
    (500 * USD, 2_400, 30 * DAY, 5 * DAY, 15 * USD),
    (2_000 * USD, 1_800, 30 * DAY, 7 * DAY, 25 * USD),
    (5_000 * USD, 1_200, 60 * DAY, 7 * DAY, 25 * USD),
)
RULES = (1, 30 * DAY, 60 * DAY, True)


@dataclass
class Pool:
    """The credit suite under test and who plays each part."""

    ctx: BenchContext
    stable: Any
    escrow: Any
    vault: Any
    verifier: Any
    lines: Any
    attesters: list[LocalAccount]
    lender: Any
    nonces: itertools.count[int]
    salts: itertools.count[int]

    def attest(
        self, borrower: str, verifier: Any, signers: list[LocalAccount]
    ) -> SignedAttestation:
        """A fresh band-2 attestation of ``borrower``, signed by ``signers`` (ascending)."""
        now = int(chain.blocks.head.timestamp)
        attestation = Attestation(
            borrower=borrower,
            band=2,
            model_id=model_id_of(MODEL),
            report_hash=hex32(keccak(text=f"report {borrower} {now}")),
            issued_at=now,
            expires_at=now + 7 * DAY,
            nonce=next(self.nonces),
            attester_set_version=int(verifier.attesterSetVersion()),
        )
        domain = Domain(chain_id=int(chain.chain_id), verifying_contract=str(verifier.address))
        return sign_all(attestation, domain, signers, MODEL)

    def terms(self, buyer: Any) -> tuple[Any, ...]:
        """Terms of a SKU order paid with credit (payer: the lines)."""
        now = int(chain.blocks.head.timestamp)
        return (
            buyer.address,
            self.ctx.merchant.address,
            self.lines.address,
            self.stable.address,
            PRICE,
            now + 3 * DAY,
            now + 10 * DAY,
            2 * DAY,
            FEE_BPS,
            keccak(text="SKU TM-CHAIR-7 x1"),
            next(self.salts),
            [],
        )


def run(ctx: BenchContext) -> list[Row]:
    pool = _pool(ctx)
    warm, borrower = accounts.test_accounts[6], ctx.shopper
    _steady_use(pool, warm)
    return _k1(pool, borrower) + _quorum(pool, warm, borrower) + _vault(pool)


# ------------------------------------------------------------------ set-up


def _pool(ctx: BenchContext) -> Pool:
    """Registry, escrow (stablecoin allowed), verifier (5 attesters, k = 1), vault, lines with
    their roles and policy v1; the lender has funded the pool; borrowers hold stablecoins and
    approved the lines for repayments."""
    admin, lender = ctx.admin, accounts.test_accounts[5]
    registry = admin.deploy(ctx.project.ProductRegistry, admin.address)
    escrow = admin.deploy(ctx.project.OrderEscrow, admin.address, registry.address, admin.address)
    escrow.setFee(FEE_BPS, sender=admin)
    stable = admin.deploy(ctx.project.DevStablecoin, admin.address)
    escrow.setTokenAllowed(stable.address, True, sender=admin)
    attesters = sorted(
        (Account.from_key(keccak(text=f"bench attester {i}")) for i in range(ATTESTERS)),
        key=lambda a: int(a.address, 16),
    )
    verifier = admin.deploy(
        ctx.project.AttestationVerifier, admin.address, [attesters[0].address], 1
    )
    vault = admin.deploy(ctx.project.CreditVault, stable.address, admin.address)
    lines = admin.deploy(
        ctx.project.CreditLines, admin.address, verifier.address, vault.address, escrow.address
    )
    verifier.grantRole(verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines.address, sender=admin)
    escrow.grantRole(escrow.FUNDER_ROLE(), lines.address, sender=admin)
    lines.grantRole(lines.POLICY_ROLE(), admin.address, sender=admin)
    lines.publishPolicy(RULES, list(TIERS), sender=admin)
    stable.mint(lender.address, 2 * POOL, sender=admin)
    stable.approve(vault.address, MAX_UINT256, sender=lender)
    gas_used(vault.deposit(POOL, lender.address, sender=lender))
    for borrower in (ctx.shopper, accounts.test_accounts[6]):
        stable.mint(borrower.address, 100_000 * USD, sender=admin)
        stable.approve(lines.address, MAX_UINT256, sender=borrower)
    return Pool(
        ctx, stable, escrow, vault, verifier, lines, attesters, lender,
        itertools.count(1), itertools.count(1),
    )  # fmt: skip


def _steady_use(pool: Pool, warm: Any) -> None:
    """Yesterday's business: another borrower applied, paid an order with credit, repaid part."""
    signed = pool.attest(str(warm.address), pool.verifier, pool.attesters[:1])
    gas_used(pool.lines.applyForCredit(*signed.abi_args(), sender=warm))
    gas_used(pool.lines.drawToOrder(pool.terms(warm), sender=warm))
    _travel(pool, DAY)
    gas_used(pool.lines.repay(warm.address, 10 * USD, sender=warm))


def _travel(pool: Pool, seconds: int) -> None:
    rpc(pool.ctx.rpc_url, "evm_increaseTime", [seconds])
    rpc(pool.ctx.rpc_url, "evm_mine")


# ------------------------------------------------------------------ k = 1


def _k1(pool: Pool, borrower: Any) -> list[Row]:
    lines = pool.lines
    signed = pool.attest(str(borrower.address), pool.verifier, pool.attesters[:1])
    check = int(pool.verifier.verify.estimate_gas_cost(*signed.abi_args(), sender=borrower))
    receipt = lines.applyForCredit(*signed.abi_args(), sender=borrower)
    apply = gas_used(receipt)
    if not receipt.events.filter(lines.CreditApproved):
        raise RuntimeError("the application was not approved")
    first_draw = gas_used(lines.drawToOrder(pool.terms(borrower), sender=borrower))
    second_draw = gas_used(lines.drawToOrder(pool.terms(borrower), sender=borrower))
    _travel(pool, 10 * DAY)
    partial = gas_used(lines.repay(borrower.address, 100 * USD, sender=borrower))
    owed = int(lines.debtOf(borrower.address))
    full = gas_used(lines.repay(borrower.address, owed + USD, sender=borrower))
    if int(lines.debtOf(borrower.address)) != 0:
        raise RuntimeError("a full repayment left debt behind")
    warm_lines = "the pool has lent before; the escrow already holds the stablecoin"
    return [
        Row(
            "credit.peer_scribe_poke_5_signers",
            "Peer: Chronicle Scribe `poke`, 5 signers (published figure)",
            SCRIBE_POKE_5_SIGNERS,
            "gas",
            note="Chronicle's published benchmark of a signed oracle report checked on chain;"
            " not measured in this run",
        ),
        Row(
            "credit.attestation_check_k1",
            "`verify`: attestation check, k = 1 (1 signature)",
            check,
            "gas",
            peer=SCRIBE_PEER,
            note="eth_estimateGas of the view, 21,000 base included: EIP-712 digest, 1 ecrecover,"
            " attester, set version, time window and nonce checked",
        ),
        Row(
            "credit.apply_k1",
            "`applyForCredit`, k = 1: new line approved",
            apply,
            "gas",
            target=APPLY_K1_TARGET,
            peer=SCRIBE_PEER,
            note="the attestation checked and its nonce spent (the nonce word already in use);"
            " the line's first slot 0 → non-zero; CreditApproved carries the attestation and"
            " the tier",
        ),
        Row(
            "credit.draw_to_order_first",
            "`drawToOrder`: first draw, escrow order opened and funded",
            first_draw,
            "gas",
            target=DRAW_ORDER_TARGET,
            note=f"{PRICE // USD} stablecoins; includes the vault's lending (transfer to the"
            " lines) and the escrow's `openFor` (order slot 0 → non-zero, pull from the lines);"
            f" {warm_lines}",
        ),
        Row(
            "credit.draw_to_order_second",
            "`drawToOrder`: another draw in the same cycle",
            second_draw,
            "gas",
            note="the line's first slot non-zero → non-zero (due time already set); interest"
            " accrued since the first draw fills its second slot (0 → non-zero)",
        ),
        Row(
            "credit.repay_partial",
            "`repay`, partial (after 10 days)",
            partial,
            "gas",
            note="interest accrued and paid first, the rest to principal; the line's second slot"
            " (interest) touched; transfer from the borrower to the vault",
        ),
        Row(
            "credit.repay_full",
            "`repay`, everything owed (ends the cycle)",
            full,
            "gas",
            note="principal and interest to 0 (storage refunds), due time cleared",
        ),
    ]


# ------------------------------------------------------------------ k = 3


def _quorum(pool: Pool, warm: Any, borrower: Any) -> list[Row]:
    """A verifier of 5 attesters with k = 3 and lines of its own on the same vault and escrow."""
    admin = pool.ctx.admin
    verifier = admin.deploy(
        pool.ctx.project.AttestationVerifier,
        admin.address,
        [a.address for a in pool.attesters],
        QUORUM,
    )
    lines = admin.deploy(
        pool.ctx.project.CreditLines,
        admin.address,
        verifier.address,
        pool.vault.address,
        pool.escrow.address,
    )
    verifier.grantRole(verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    lines.grantRole(lines.POLICY_ROLE(), admin.address, sender=admin)
    lines.publishPolicy(RULES, list(TIERS), sender=admin)
    signers = pool.attesters[:QUORUM]
    # The verifier's nonce word in use, as above.
    warm_up = pool.attest(str(warm.address), verifier, signers)
    gas_used(lines.applyForCredit(*warm_up.abi_args(), sender=warm))
    signed = pool.attest(str(borrower.address), verifier, signers)
    check = int(verifier.verify.estimate_gas_cost(*signed.abi_args(), sender=borrower))
    apply = gas_used(lines.applyForCredit(*signed.abi_args(), sender=borrower))
    return [
        Row(
            "credit.attestation_check_k3",
            f"`verify`: attestation check, k = {QUORUM} of {ATTESTERS} ({QUORUM} signatures)",
            check,
            "gas",
            peer=SCRIBE_PEER,
            note="eth_estimateGas of the view, 21,000 base included; signers ascending, each"
            " recovered and checked",
        ),
        Row(
            "credit.apply_k3",
            f"`applyForCredit`, k = {QUORUM}: new line approved",
            apply,
            "gas",
            peer=SCRIBE_PEER,
            note=f"as for k = 1, with {QUORUM} signatures in calldata and {QUORUM} ecrecovers",
        ),
    ]


# ------------------------------------------------------------------ the pool


def _vault(pool: Pool) -> list[Row]:
    vault, lender = pool.vault, accounts.test_accounts[7]
    pool.stable.mint(lender.address, 10_000 * USD, sender=pool.ctx.admin)
    pool.stable.approve(vault.address, MAX_UINT256, sender=lender)
    first = gas_used(vault.deposit(5_000 * USD, lender.address, sender=lender))
    again = gas_used(vault.deposit(1_000 * USD, lender.address, sender=lender))
    part = gas_used(vault.withdraw(2_000 * USD, lender.address, lender.address, sender=lender))
    shares = int(vault.balanceOf(lender.address))
    redeem = gas_used(vault.redeem(shares, lender.address, lender.address, sender=lender))
    return [
        Row(
            "credit.vault_deposit_first",
            "`deposit` into the pool: a lender's first",
            first,
            "gas",
            note="ERC-4626 (OpenZeppelin): the lender's share balance 0 → non-zero; the vault's"
            " token balance non-zero → non-zero; lender approved the vault once (unlimited)",
        ),
        Row(
            "credit.vault_deposit_again",
            "`deposit` into the pool: the same lender again",
            again,
            "gas",
            note="share balance non-zero → non-zero",
        ),
        Row(
            "credit.vault_withdraw_part",
            "`withdraw` from the pool: part of a lender's claim",
            part,
            "gas",
            note="paid from idle cash; shares burned, the lender keeps some",
        ),
        Row(
            "credit.vault_redeem_all",
            "`redeem` all of a lender's shares",
            redeem,
            "gas",
            note="share balance non-zero → 0 (storage refund)",
        ),
    ]
