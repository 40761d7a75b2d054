"""Credit lines and the credit pool on a deployed suite: finding the contracts, reading lines,
policies and the pool, pre-flight checks that mirror CreditLines' and CreditVault's rules, and
sending. Used by ``scripts/lender.py``, ``scripts/borrower.py`` and ``scripts/bureau.py``.

As for the escrow scripts, every action is simulated (``eth_call``) before it is sent and the
contract's refusal explained from its custom error (``scripts/_lib/reverts.py``); a few checks
read from the chain first give plainer messages for what they cover (the limit, idle cash).
Times are compared with the latest block's time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.domain.attestations import Attestation, Domain, SignedAttestation
from app.domain.deployments import deployments_dir, load_record
from app.domain.vocab import DenialReason, LineStatus, Standing
from scripts._lib import escrow as ops
from scripts._lib import reverts
from scripts._lib.escrow import PreflightError, require
from scripts._lib.options import deployments_dir_option
from scripts._lib.policy import read_policy
from scripts._lib.signers import signer_option
from scripts._lib.units import format_moment

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from ape.api.transactions import ReceiptAPI
    from ape.contracts.base import ContractInstance

__all__ = ["PreflightError", "require"]

LINES = "CreditLines"
BPS = 10_000
YEAR = 365 * 86_400
MAX_UINT256 = 2**256 - 1


# ---------------------------------------------------------------------------------------- options


def credit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--deployments-dir and --account."""
    command = deployments_dir_option(command)
    with_account: Callable[..., Any] = signer_option()(command)
    return with_account


# ---------------------------------------------------------------------------------------- contracts


@dataclass(frozen=True)
class Credit:
    """The credit lines and what they work with: verifier, vault, escrow and the stablecoin."""

    lines: ContractInstance
    verifier: ContractInstance
    vault: ContractInstance
    escrow: ops.Escrow
    asset: ops.Asset
    from_block: int

    @property
    def address(self) -> str:
        return str(self.lines.address)

    def domain(self) -> Domain:
        from ape import chain

        return Domain(chain_id=int(chain.chain_id), verifying_contract=str(self.verifier.address))


def open_credit(directory: Path | None) -> Credit:
    """The CreditLines recorded for this chain in the deployments dir, and its contracts."""
    from ape import chain, project

    folder = deployments_dir(directory)
    record = load_record(folder, chain.chain_id)
    if record is None or LINES not in record.contracts:
        raise click.UsageError(
            f"no {LINES} deployment recorded for chain {chain.chain_id} in {folder}: run "
            "`ape run deploy --stablecoin ADDRESS` (or --dev-stablecoin on a local network)"
        )
    entry = record.contracts[LINES]
    if not chain.provider.get_code(entry.address):
        raise click.UsageError(f"no contract code at {entry.address} on chain {chain.chain_id}")
    lines = project.CreditLines.at(entry.address)
    verifier, vault, escrow, asset = lines.contracts()
    escrow_block = 0
    if "OrderEscrow" in record.contracts and record.contracts["OrderEscrow"].address == escrow:
        escrow_block = record.contracts["OrderEscrow"].block_number
    return Credit(
        lines=lines,
        verifier=project.AttestationVerifier.at(verifier),
        vault=project.CreditVault.at(vault),
        escrow=ops.Escrow(project.OrderEscrow.at(escrow), escrow_block),
        asset=ops.asset_of(str(asset)),
        from_block=entry.block_number,
    )


# ---------------------------------------------------------------------------------------- lines


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
        now=ops.chain_now() if now is None else now,
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


# ---------------------------------------------------------------------------------------- checks


def attestation_problems(credit: Credit, signed: SignedAttestation) -> list[str]:
    """Whether the verifier would take the attestation: its domain, then ``verify`` itself."""
    domain = credit.domain()
    if signed.domain != domain:
        return [
            f"the attestation was signed for verifier {signed.domain.verifying_contract} on chain "
            f"{signed.domain.chain_id}, not {domain.verifying_contract} on chain {domain.chain_id}"
        ]
    refusal = refusal_of(credit, credit.verifier.verify, *signed.abi_args())
    if refusal is not None:
        return [f"the verifier refuses the attestation: {refusal}"]
    return []


def denial_reasons(
    attestation: Attestation, line: LineView, current: dict[str, Any], now: int
) -> list[DenialReason]:
    """Why the current policy would deny the application now (CreditLines._denialReasons)."""
    reasons = []
    if attestation.band < current["minBand"]:
        reasons.append(DenialReason.BAND_BELOW_MINIMUM)
    if attestation.band >= len(current["tiers"]):
        reasons.append(DenialReason.BAND_NOT_IN_POLICY)
    if now > attestation.issued_at + current["refreshPeriod"]:
        reasons.append(DenialReason.ATTESTATION_STALE)
    if line.status is not LineStatus.NONE and attestation.issued_at <= line.attested_at:
        reasons.append(DenialReason.ATTESTATION_NOT_NEWER)
    if line.status in (LineStatus.DEFAULTED, LineStatus.WRITTEN_OFF):
        reasons.append(DenialReason.LINE_DEFAULTED)
    return reasons


def reason_text(reason: DenialReason) -> str:
    return {
        DenialReason.BAND_BELOW_MINIMUM: "score band below the policy's minimum",
        DenialReason.BAND_NOT_IN_POLICY: "score band has no tier in the policy",
        DenialReason.ATTESTATION_STALE: "attestation older than the policy's refresh period",
        DenialReason.ATTESTATION_NOT_NEWER: "attestation not newer than the line's current one",
        DenialReason.LINE_DEFAULTED: "the line is defaulted (repay it in full first)",
        DenialReason.IDENTITY_BOUND_ELSEWHERE: (
            "the attested identity already has a line under another address (one identity, "
            "one line)"
        ),
    }.get(reason, reason.name.lower().replace("_", " "))


def draw_problems(
    credit: Credit, line: LineView, amount: int, *, to_wallet: bool = False
) -> list[str]:
    """What would make ``drawToOrder``/``drawToWallet`` refuse a draw of ``amount``."""
    fmt, now = credit.asset.fmt, line.now
    if line.status is LineStatus.NONE:
        return [
            f"{line.borrower} has no credit line: apply first "
            "(ape run borrower apply --attestation FILE)"
        ]
    problems = []
    if line.status is not LineStatus.ACTIVE:
        problems.append(f"the line is {line.status.name.lower()}: frozen until repaid in full")
    elif line.due_at and now > line.due_at:
        problems.append(
            f"the line was due {format_moment(line.due_at, now)}: repay what is owed first"
        )
    elif now > line.eligible_until:
        problems.append(
            f"the line is on hold: its attestation ({format_moment(line.attested_at, now)}) is "
            f"older than the policy's refresh period; apply with a fresh one"
        )
    if line.principal + amount > line.limit:
        problems.append(
            f"{fmt(amount)} is over the limit: {fmt(line.principal)} drawn of {fmt(line.limit)}, "
            f"{fmt(line.available)} available"
        )
    if to_wallet:
        rules = policy(credit, line.policy_version)
        if rules is not None and not rules["walletDraws"]:
            problems.append(
                f"policy v{line.policy_version} pays escrow orders only: no draws to the wallet"
            )
    problems += liquidity_problems(credit, amount)
    return problems


def liquidity_problems(credit: Credit, amount: int) -> list[str]:
    if credit.vault.paused():
        return [f"the credit pool {credit.vault.address} is paused"]
    idle = int(credit.vault.idleAssets())
    if amount > idle:
        fmt = credit.asset.fmt
        return [f"the pool holds {fmt(idle)} idle, less than {fmt(amount)}"]
    return []


# ---------------------------------------------------------------------------------------- sending


def refusal_of(credit: Credit, method: Any, *args: Any, sender: str | None = None) -> str | None:
    """Runs the call with ``eth_call`` (nothing is sent); returns the contract's refusal
    explained (``CreditLineFrozen(borrower=0x.., status=defaulted)``), or None when it would go
    through. Errors are decoded with the ABIs of every contract of the suite."""
    del credit  # the whole suite's errors are known (scripts/_lib/reverts.py)
    return reverts.refusal_of(method, *args, sender=sender)


def send(credit: Credit, account: AccountAPI, method: Any, *args: Any) -> ReceiptAPI:
    """Simulates the call (``eth_call``), then signs, sends it and waits for the receipt."""
    from ape.exceptions import ApeException

    refusal = refusal_of(credit, method, *args, sender=str(account.address))
    if refusal is not None:
        raise PreflightError([f"the contract would refuse it: {refusal}"])
    try:
        receipt: ReceiptAPI = method(*args, sender=account)
    except ApeException as exc:
        raise click.ClickException(f"the transaction failed: {exc}") from None
    return receipt


def approve(credit: Credit, account: AccountAPI, spender: str, amount: int, what: str) -> None:
    """Approves ``spender`` for ``amount`` of the stablecoin unless the allowance covers it."""
    asset = credit.asset
    token = ops.erc20(asset.token)
    allowance = int(token.allowance(account.address, spender))
    if allowance >= amount:
        return
    receipt = send(credit, account, token.approve, spender, amount)
    done(f"approved {what} for {asset.fmt(amount)}", receipt)


def done(what: str, receipt: Any) -> None:
    click.echo(f"{what} in tx {receipt.txn_hash} (block {receipt.block_number})")


def balance_problems(asset: ops.Asset, account: str, amount: int, what: str) -> list[str]:
    balance = asset.balance_of(account)
    if balance < amount:
        return [f"{account} holds {asset.fmt(balance)}, less than {what} {asset.fmt(amount)}"]
    return []


def interest_for(principal: int, apr_bps: int, seconds: int) -> int:
    """Interest the contract accrues on ``principal`` over ``seconds`` (rounded up)."""
    return -(-principal * apr_bps * seconds // (BPS * YEAR))
