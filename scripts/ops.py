"""`ape run ops ...`: the operators' commands, most of them rows of :mod:`scripts._lib.calls`;
the report list and the policy publication are written out."""

from __future__ import annotations

from pathlib import Path

import click

from app.domain.abi_types import hex32
from app.domain.units import format_time
from app.domain.vocab import ReportKind, ReportStatus
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.calls import Call, add_calls
from scripts._lib.chain import Run, Stop

EVERY = chain.SHORT
PAUSABLE = ("registry", "escrow", "vault", "lines")
REG, VER, LINES = ("registry",), ("verifier",), ("lines",)
ADMIN = "DEFAULT_ADMIN_ROLE"
VERIFIER = "VERIFIER_ROLE"

CALLS = (
    Call("approve-merchant", REG, "approveMerchant", VERIFIER,
         "approve a merchant with its owner's identity", ("merchant",),
         "the merchant registers items: ape run merchant register FILE --account ALIAS"),
    Call("suspend-merchant", REG, "suspendMerchant", VERIFIER, "suspend a merchant", ("merchant",),
         "reverse it with ape run ops reinstate-merchant MERCHANT"),
    Call("reinstate-merchant", REG, "reinstateMerchant", VERIFIER,
         "reinstate a suspended merchant", ("merchant",)),
    Call("grant-prefix", REG, "grantGs1Prefix", VERIFIER, "grant a merchant a GS1 company prefix",
         ("prefix", "merchant"), "the merchant registers GTINs: ape run merchant register FILE"),
    Call("revoke-prefix", REG, "revokeGs1Prefix", VERIFIER, "revoke a GS1 company prefix",
         ("prefix",), "move or revoke a squatted item: ape run ops reassign-item ITEM_ID"),
    Call("reassign-item", REG, "reassignItem", VERIFIER, "move a squatted item, or revoke it",
         ("itemId",), "the rightful merchant registers it anew, or uses it as its own",
         options={"to": "The approved merchant it belongs to, or 0 to revoke its record."}),
    Call("file-report", REG, "fileReport", "anyone", "open a shopper's report on chain",
         ("itemId",), "ape run ops reports", options={"kind": "0 a counterfeit, 1 a problem."}),
    Call("confirm-report", REG, "confirmReport", VERIFIER, "confirm a report: its item is flagged",
         ("reportId",), "ape run ops reports"),
    Call("dismiss-report", REG, "dismissReport", VERIFIER, "dismiss a report", ("reportId",),
         "ape run ops reports"),
    Call("add-attester", VER, "addAttester", ADMIN, "add an attester", ("attester",)),
    Call("remove-attester", VER, "removeAttester", ADMIN, "remove an attester", ("attester",)),
    Call("set-quorum", VER, "setQuorum", ADMIN, "signatures an attestation needs", ("newQuorum",)),
    Call("write-off", LINES, "writeOff", "RISK_ROLE", "write off a defaulted line", ("borrower",),
         "ape run lender status shows the loss"),
    Call("settle-refund", LINES, "settleRefund", "anyone",
         "apply a credit-paid order's refund to its line", (), "ape run borrower status"),
    Call("pause", PAUSABLE, "pause", ADMIN, "pause a contract", (),
         "ape run ops unpause CONTRACT lifts it"),
    Call("unpause", PAUSABLE, "unpause", ADMIN, "lift a contract's pause"),
    Call("grant-role", EVERY, "grantRole", ADMIN, "grant a role", ("role", "account"),
         help="Grant ROLE (a name, e.g. ORACLE_ROLE, or 0x + 64 hex) to ACCOUNT on CONTRACT."),
    Call("revoke-role", EVERY, "revokeRole", ADMIN, "revoke a role", ("role", "account"),
         help="Revoke ROLE (its name, or 0x + 64 hex) from ACCOUNT on CONTRACT."),
    Call("begin-admin-transfer", EVERY, "beginDefaultAdminTransfer", ADMIN,
         "start handing the admin role over", ("newAdmin",),
         "after the delay, the new admin: ape run ops accept-admin-transfer CONTRACT",
         help="Hand CONTRACT's admin role to NEW_ADMIN, who takes it after the delay (2 days)."),
    Call("accept-admin-transfer", EVERY, "acceptDefaultAdminTransfer", "the pending admin",
         "take the admin role", help="Take CONTRACT's admin role, handed over to --account."),
    Call("cancel-admin-transfer", EVERY, "cancelDefaultAdminTransfer", ADMIN,
         "cancel a pending admin handover", help="Cancel a pending admin handover of CONTRACT."),
)  # fmt: skip


@click.group(
    help="""Operators' commands: merchants, GS1 prefixes, reports, credit risk and policy, pauses,
roles, the admin handover, each one contract function simulated first (a refusal sends nothing).
CONTRACT is one of: registry, escrow, verifier, vault, lines. Roles: docs/scripts.md#ops."""
)
def cli() -> None:
    pass


add_calls(cli, CALLS)


@chain.command(cli, "reports", short_help="list counterfeit and problem reports",
               signer=f"A {VERIFIER} holder", default_signer=0)  # fmt: skip
@click.option("--all", "every", is_flag=True, help="Confirmed and dismissed ones too.")
def reports(run: Run, every: bool) -> None:
    """List the registry's reports (open ones unless --all), oldest first. Sends nothing."""
    registry, shown = run.contract("ProductRegistry"), 0
    for report_id in range(1, int(registry.reportCount()) + 1):
        report = registry.reportOf(report_id)
        status = ReportStatus(int(report.status))
        if status is ReportStatus.OPEN or every:
            shown += 1
            click.echo(
                f"report {report_id}  [{status.name.lower()}] "
                f"{ReportKind(int(report.kind)).name.lower()} on item {hex32(report.itemId)} "
                f"of {registry.itemOf(report.itemId).merchant}\n  filed "
                f"{format_time(int(report.filedAt))} by {report.reporter}, evidence "
                f"{hex32(report.evidenceHash)}"
            )
    then = "next: ape run ops confirm-report ID --finding TEXT (or dismiss-report)"
    click.echo(then if shown else "no reports" if every else "no open reports")


@chain.command(cli, "publish-policy", short_help="publish a credit policy from a TOML file",
               signer="A POLICY_ROLE holder", default_signer=0, dry_run=True)  # fmt: skip
@click.argument("policy_file", type=click.Path(dir_okay=False, path_type=Path))
def publish_policy(run: Run, policy_file: Path) -> None:
    """Publish POLICY_FILE (TOML: examples/policy.toml) as the next version of the credit policy,
    which decides new applications; prints what it changes first. See docs/scripts.md#ops."""
    credit = cr.open_credit(run)
    policy = cr.policy_from_toml(policy_file, credit.asset.decimals)
    current = cr.read_policy(credit.lines)
    changes = cr.policy_changes(current, policy.as_json(), credit.asset.fmt)
    in_force = current["version"] if current else "none"
    if not changes:
        raise Stop(f"{policy_file} is the policy in force (version {in_force}); nothing was sent")
    version = int(current["version"] if current else 0) + 1
    click.echo("\n  ".join([f"policy version {version}, against version {in_force}:", *changes]))
    call = credit.lines.publishPolicy
    receipt = chain.send(run, call, policy.rules_abi(), policy.tiers_abi(), what="the policy")
    then, would = "ape run borrower status", f"would publish policy version {version}"
    chain.done(f"published policy version {version}", receipt, then, would)
