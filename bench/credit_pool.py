"""The credit benchmark's set-up: registry, escrow, verifier, vault and lines wired as the
deployment wires them, the lender's pool, and yesterday's business (another borrower applied,
paid an order with credit and repaid part)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from ape import accounts, chain
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, SignedAttestation, model_id_of, sign_all
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.ids import item_id_from_sku, item_key
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import IdScheme
from bench.context import BenchContext, breakdown, gas_used
from harness.nodes import rpc

USD = 10**6
DAY = 86_400
MAX_UINT256 = 2**256 - 1
POOL = 1_000_000 * USD
PRICE = 250 * USD
FEE_BPS = 100
MODEL = "trustmall-score-v3"
SKU = "TM-CHAIR-7"
ATTESTERS = 5
BAND = 2
# Policy v1: (limit, APR bps, term, grace, late fee) per band; rules: minimum band 1, 30-day
# refresh, default 60 days after the due time, wallet draws allowed, and the deployment's cap on
# new credit: 50,000 stablecoins a day across all lines.
TIERS = (
    (100 * USD, 3_600, 30 * DAY, 5 * DAY, 10 * USD),
    (500 * USD, 2_400, 30 * DAY, 5 * DAY, 15 * USD),
    (2_000 * USD, 1_800, 30 * DAY, 7 * DAY, 25 * USD),
    (5_000 * USD, 1_200, 60 * DAY, 7 * DAY, 25 * USD),
)
RULES = (1, 30 * DAY, 60 * DAY, True, DAY, 50_000 * USD)


@dataclass
class Pool:
    """The credit suite under test and who plays each part."""

    ctx: BenchContext
    registry: Any
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
        """A fresh band-2 attestation of ``borrower`` (its own identity), signed by ``signers``."""
        now = int(chain.blocks.head.timestamp)
        attestation = Attestation(
            borrower=borrower,
            identity_hash=hex32(identity_commitment(f"ID-{borrower}", DEV_IDENTITY_KEY)),
            band=BAND,
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
        """Terms of an order of one registry item of the merchant, paid with credit (payer: the
        lines); the item is registered first."""
        salt = next(self.salts)
        serial = f"C{salt:06d}"
        metadata = json.dumps({"sku": SKU, "serial": serial}, separators=(",", ":")).encode()
        uri = "ipfs://bafkrei" + keccak(metadata).hex()[:52]
        self.registry.registerItem(
            item_key(IdScheme.SKU, SKU, serial), keccak(metadata), uri, sender=self.ctx.merchant
        )
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
            bytes(32),
            salt,
            [item_id_from_sku(self.ctx.merchant.address, SKU, serial)],
        )

    def breakdown(self, receipt: Any) -> str:
        """Where the transaction's gas went, the calls to the suite's contracts named."""
        contracts = {
            "registry": self.registry,
            "escrow": self.escrow,
            "vault": self.vault,
            "verifier": self.verifier,
            "lines": self.lines,
            "stablecoin": self.stable,
        }
        return breakdown(self.ctx, receipt, contracts)

    def pin_next_block_time(self, timestamp: int) -> None:
        rpc(self.ctx.rpc_url, "evm_setNextBlockTimestamp", [timestamp])

    def travel(self, seconds: int) -> None:
        rpc(self.ctx.rpc_url, "evm_increaseTime", [seconds])
        rpc(self.ctx.rpc_url, "evm_mine")


def pool(ctx: BenchContext) -> Pool:
    """Registry (the merchant approved under its owner's identity), escrow (stablecoin allowed,
    the registry's ESCROW_ROLE), verifier (1 attester, k = 1), vault, lines with their roles and
    policy v1; the lender has funded the pool; borrowers hold stablecoins and approved the lines
    for repayments."""
    admin, lender = ctx.admin, accounts.test_accounts[5]
    registry = admin.deploy(ctx.project.ProductRegistry, admin.address, ZERO_ADDRESS)
    registry.grantRole(registry.VERIFIER_ROLE(), ctx.verifier.address, sender=admin)
    merchant_identity = identity_commitment("MERCHANT-OWNER-1", DEV_IDENTITY_KEY)
    registry.approveMerchant(
        ctx.merchant.address, "Bench Furniture Ltd", merchant_identity, sender=ctx.verifier
    )
    escrow = admin.deploy(ctx.project.OrderEscrow, admin.address, registry.address, admin.address)
    registry.grantRole(registry.ESCROW_ROLE(), escrow.address, sender=admin)
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
        ctx, registry, stable, escrow, vault, verifier, lines, attesters, lender,
        itertools.count(1), itertools.count(1),
    )  # fmt: skip


def steady_use(pool: Pool, warm: Any) -> None:
    """Yesterday's business: another borrower applied, paid an order with credit, repaid part."""
    signed = pool.attest(str(warm.address), pool.verifier, pool.attesters[:1])
    gas_used(pool.lines.applyForCredit(*signed.abi_args(), sender=warm))
    gas_used(pool.lines.drawToOrder(pool.terms(warm), sender=warm))
    pool.travel(DAY)
    gas_used(pool.lines.repay(warm.address, 10 * USD, sender=warm))
