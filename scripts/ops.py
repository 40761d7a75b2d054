"""`ape run ops ...`: the operators' commands (verifiers, risk, the suite's admins). Most are
rows of :mod:`scripts._lib.calls` (one contract function each, help from its NatSpec); the
report list and the policy publication are written out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.orders import ZERO_ADDRESS
from app.domain.units import format_time
from app.domain.vocab import ReportKind, ReportStatus
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.calls import Call, add_calls
from scripts._lib.chain import Run, Stop
from scripts._lib.identity import IDENTITY_KEY_ENV, commitment
from scripts._lib.policy import policy_changes, policy_from_toml, read_policy
from scripts._lib.signers import parse_address

EVERY = ("registry", "escrow", "verifier", "vault", "lines")
PAUSABLE = ("registry", "escrow", "vault", "lines")
ADMIN = "DEFAULT_ADMIN_ROLE"
VERIFIER = "VERIFIER_ROLE"

CALLS = (
    Call("suspend-merchant", ("registry",), "suspendMerchant", VERIFIER, "suspend a merchant",
         ("merchant",), "reverse it with ape run ops reinstate-merchant MERCHANT"),
    Call("reinstate-merchant", ("registry",), "reinstateMerchant", VERIFIER,
         "reinstate a suspended merchant", ("merchant",)),
    Call("grant-prefix", ("registry",), "grantGs1Prefix", VERIFIER,
         "grant a merchant a GS1 company prefix", ("prefix", "merchant"),
         "the merchant registers its GTINs: ape run merchant register FILE"),
    Call("revoke-prefix", ("registry",), "revokeGs1Prefix", VERIFIER,
         "revoke a GS1 company prefix", ("prefix",),
         "move or revoke a squatted item: ape run ops reassign-item ITEM_ID"),
    Call("confirm-report", ("registry",), "confirmReport", VERIFIER,
         "confirm a report: its item is flagged", ("reportId",), "ape run ops reports"),
    Call("dismiss-report", ("registry",), "dismissReport", VERIFIER, "dismiss a report",
         ("reportId",), "ape run ops reports"),
    Call("add-attester", ("verifier",), "addAttester", ADMIN, "add a credit attester",
         ("attester",)),
    Call("remove-attester", ("verifier",), "removeAttester", ADMIN, "remove a credit attester",
         ("attester",)),
    Call("set-quorum", ("verifier",), "setQuorum", ADMIN, "signatures an attestation needs",
         ("newQuorum",)),
    Call("write-off", ("lines",), "writeOff", "RISK_ROLE", "write off a defaulted line",
         ("borrower",), "ape run lender status shows the loss"),
    Call("settle-refund", ("lines",), "settleRefund", "anyone",
         "apply a credit-paid order's refund to its line", (), "ape run borrower status"),
    Call("pause", PAUSABLE, "pause", ADMIN, "pause a contract", (),
         "ape run ops unpause CONTRACT lifts it"),
    Call("unpause", PAUSABLE, "unpause", ADMIN, "lift a contract's pause"),
    Call("grant-role", EVERY, "grantRole", ADMIN, "grant a role", ("role", "account"),
         help="Grant ROLE (its name, e.g. ORACLE_ROLE, or 0x + 64 hex) to ACCOUNT on CONTRACT. "
         "The admin role is never granted: it is handed over in two steps."),
    Call("revoke-role", EVERY, "revokeRole", ADMIN, "revoke a role", ("role", "account"),
         help="Revoke ROLE (its name, or 0x + 64 hex) from ACCOUNT on CONTRACT."),
    Call("begin-admin-transfer", EVERY, "beginDefaultAdminTransfer", ADMIN,
         "start handing the admin role over", ("newAdmin",),
         "after the delay, the new admin: ape run ops accept-admin-transfer CONTRACT",
         help="Start handing CONTRACT's admin role to NEW_ADMIN: it may take it once the "
         "contract's admin delay (2 days) has passed; until then the admin may cancel."),
    Call("accept-admin-transfer", EVERY, "acceptDefaultAdminTransfer", "the pending admin",
         "take the admin role handed over",
         help="Take CONTRACT's admin role handed over to --account, once the delay has passed."),
    Call("cancel-admin-transfer", EVERY, "cancelDefaultAdminTransfer", ADMIN,
         "cancel a pending admin handover", help="Cancel a pending admin handover of CONTRACT."),
)  # fmt: skip


@click.group(
    help="""Operators' commands on the TrustMall suite: merchants, GS1 prefixes, reports,
credit risk and policy, pauses, roles and the two-step admin handover. Each sends one contract
function, simulated first (a refusal is explained from the contract's own error and nothing is
sent), with --dry-run to estimate gas only. Who may send each is the contract's rule; --account
names the signer (an Ape account alias, or TEST::N on a local network, TEST::0 by default:
the deployer, who holds the admin, policy and risk roles after `ape run deploy`).

\b
CONTRACT names one of: registry, escrow, verifier, vault, lines."""
)
def cli() -> None:
    pass


add_calls(cli, CALLS)


def verifier_command(name: str, short_help: str) -> chain.Decorator:
    return chain.command(cli, name, short_help=short_help, signer=VERIFIER, default_signer=0,
                         dry_run=True)  # fmt: skip


def _send(run: Run, method: Any, *args: Any, what: str, then: str) -> Any:
    receipt = chain.send(run, method, *args, what=what)
    if receipt is None:
        chain.dry_run_report(f"would send: {what}")
    else:
        chain.done(what, receipt, then)
    return receipt


@verifier_command("approve-merchant", "approve a merchant with its owner's identity")
@click.argument("merchant")
@click.option("--name", required=True, help="Display name shown to shoppers.")
@click.option(
    "--identity",
    help="The owner's legal identifier (national id, company registration number); only "
    f"its commitment under ${IDENTITY_KEY_ENV} is recorded.",
)
@click.option("--identity-hash", help="The identity commitment itself (0x + 64 hex).")
def approve(
    run: Run, merchant: str, name: str, identity: str | None, identity_hash: str | None
) -> None:
    """Approve MERCHANT (an address, or TEST::N on a local network) with its owner's
    identity commitment: HMAC-SHA256 of the legal identifier under the platform's identity
    key ($TRUSTMALL_IDENTITY_KEY, 0x-hex; on a local network the development key), the same
    commitment a credit bureau attests for a borrower, so credit never pays a borrower's own
    shop. The identifier itself never leaves this machine."""
    if (identity is None) == (identity_hash is None):
        raise Stop("give exactly one of --identity and --identity-hash")
    if identity is not None:
        digest = commitment(identity, run.network)
    else:
        digest = chain.bytes32(str(identity_hash), "--identity-hash")
    target = parse_address(merchant, "MERCHANT")
    contract = run.contract("ProductRegistry")
    _send(
        run,
        contract.approveMerchant,
        target,
        name,
        digest,
        what=f"approved merchant {target} ({name}), identity commitment {hex32(digest)}",
        then="the merchant registers items: ape run merchant register FILE --account ALIAS",
    )


@verifier_command("reassign-item", "move a squatted item to its merchant, or revoke it")
@click.argument("item_id", metavar="ITEM_ID")
@click.option("--to", "to", help="The approved merchant the item belongs to.")
@click.option("--revoke", is_flag=True, help="Delete the record: its owner registers it anew.")
@click.option("--reason", required=True, help="The finding; its keccak256 is recorded.")
def reassign(run: Run, item_id: str, to: str | None, revoke: bool, reason: str) -> None:
    """Move ITEM_ID (0x + 64 hex) to the merchant it belongs to (--to ADDRESS), or revoke its
    record (--revoke) so that its rightful owner can register it, e.g. a GS1 serial a
    squatter registered. The item leaves its batch; an escrow order holding it keeps its
    money rules."""
    if (to is None) == (not revoke):
        raise Stop("give --to ADDRESS or --revoke")
    item = chain.bytes32(item_id, "ITEM_ID")
    target = parse_address(to, "--to") if to is not None else ZERO_ADDRESS
    contract = run.contract("ProductRegistry")
    owner = str(contract.itemOf(item).merchant)
    moved = f"of {owner} moved to {target}" if to is not None else f"of {owner} revoked"
    _send(
        run,
        contract.reassignItem,
        item,
        target,
        keccak(reason.encode("utf-8")),
        what=f"item {hex32(item)} {moved}",
        then="the rightful merchant registers it anew, or uses it as its own",
    )


@chain.command(cli, "reports", short_help="list counterfeit and problem reports", signer=VERIFIER,
               default_signer=0)  # fmt: skip
@click.option("--all", "every", is_flag=True, help="Confirmed and dismissed ones too.")
def reports(run: Run, every: bool) -> None:
    """List the registry's reports, open ones by default, oldest first: the item and its
    merchant, who filed it and when, the kind, the evidence hash. Sends nothing."""
    registry = run.contract("ProductRegistry")
    shown = 0
    for report_id in range(1, int(registry.reportCount()) + 1):
        report = registry.reportOf(report_id)
        status = ReportStatus(int(report.status))
        if status is not ReportStatus.OPEN and not every:
            continue
        merchant = registry.itemOf(report.itemId).merchant
        kind = ReportKind(int(report.kind)).name.lower()
        click.echo(
            f"report {report_id}  [{status.name.lower()}] {kind} on item "
            f"{hex32(bytes(report.itemId))} of {merchant}"
        )
        click.echo(
            f"  filed {format_time(int(report.filedAt))} by {report.reporter}, evidence "
            f"{hex32(bytes(report.evidenceHash))}"
        )
        shown += 1
    if not shown:
        click.echo("no open reports" if not every else "no reports")
        return
    click.echo("next: ape run ops confirm-report ID --finding TEXT (or dismiss-report)")


@chain.command(cli, "publish-policy", short_help="publish a credit policy from a TOML file",
               signer="POLICY_ROLE", default_signer=0, dry_run=True)  # fmt: skip
@click.argument("policy_file", type=click.Path(dir_okay=False, path_type=Path))
def publish_policy(run: Run, policy_file: Path) -> None:
    """Publish POLICY_FILE (TOML: see examples/policy.toml) as the next version of the credit
    policy; new applications are decided by it. Prints what changes from the policy in force
    first. Amounts are whole stablecoins, durations like 30d or 36h."""
    credit = cr.open_credit(run)
    policy = policy_from_toml(policy_file, credit.asset.decimals)
    current = read_policy(credit.lines)
    changes = policy_changes(current, policy.as_json(), credit.asset.fmt)
    in_force = current["version"] if current else "none"
    if not changes:
        raise Stop(f"{policy_file} is the policy in force (version {in_force}); nothing was sent")
    version = int(credit.lines.currentPolicyVersion()) + 1
    click.echo(f"policy version {version}, against version {in_force}:")
    for line in changes:
        click.echo(f"  {line}")
    call = credit.lines.publishPolicy
    receipt = chain.send(run, call, policy.rules_abi(), policy.tiers_abi(), what="the policy")
    if receipt is None:
        chain.dry_run_report(f"would publish policy version {version}")
        return
    chain.done(f"published policy version {version}", receipt, "ape run borrower status")
