"""The verifier's commands of `ape run merchant`: approve a merchant with its owner's identity
commitment, grant and revoke GS1 company prefixes, and move or revoke a squatted item id.

Each is signed by a VERIFIER_ROLE holder (--account; on a local network TEST::0, the default
verifier of `ape run deploy`), simulated first, and explained from the registry's own error when
it refuses (a prefix inside another merchant's, a target that is no approved merchant ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.vocab import MerchantStatus
from scripts._lib import registry as ops
from scripts._lib.escrow_cli import parse_bytes32
from scripts._lib.identity import IDENTITY_KEY_ENV, commitment
from scripts._lib.registry_cli import dry_run_option, open_registry, registry_options, send_one
from scripts._lib.signers import parse_address, resolve_account

VERIFIER_TEST_INDEX = 0


def _verifier(account: Any, network: Any) -> Any:
    return resolve_account(account, network, default_test_index=VERIFIER_TEST_INDEX)


def _done(what: str, receipt: Any) -> None:
    if receipt is not None:
        click.echo(f"{what} in tx {receipt.txn_hash}")


@click.command(cls=ConnectedProviderCommand, short_help="(verifier) approve a merchant")
@registry_options
@click.argument("merchant")
@click.option("--name", required=True, help="Display name shown to shoppers.")
@click.option(
    "--identity",
    help="The owner's legal identifier (national id, company registration number); only its "
    f"commitment under ${IDENTITY_KEY_ENV} is recorded.",
)
@click.option("--identity-hash", help="The identity commitment itself (0x + 64 hex).")
@dry_run_option
def approve(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    merchant: str,
    name: str,
    identity: str | None,
    identity_hash: str | None,
    dry_run: bool,
) -> None:
    """Approve MERCHANT (an address) with its owner's identity commitment:
    HMAC-SHA256 of the legal identifier under the platform's identity key
    ($TRUSTMALL_IDENTITY_KEY, 0x-hex; on a local network the development key), the same
    commitment a credit bureau attests for a borrower, so credit never pays a borrower's own
    shop. The identifier itself never leaves this machine."""
    if (identity is None) == (identity_hash is None):
        raise click.UsageError("give exactly one of --identity and --identity-hash")
    if identity is not None:
        digest = commitment(identity, network)
    else:
        digest = parse_bytes32(str(identity_hash), "--identity-hash")
    verifier = _verifier(account, network)
    target = parse_address(merchant, "MERCHANT")
    reg = open_registry(registry, deployments_dir)
    contract = reg.contract
    problems = []
    if not contract.hasRole(contract.VERIFIER_ROLE(), verifier.address):
        problems.append(f"{verifier.address} does not hold VERIFIER_ROLE on {reg.address}")
    status = MerchantStatus(int(contract.merchantOf(target).status))
    if status is not MerchantStatus.NONE:
        problems.append(f"merchant {target} already has a record (status {status.name.lower()})")
    if problems:
        raise ops.PreflightError(problems)
    args = [target, name, digest]
    receipt = send_one(verifier, contract.approveMerchant, args, "approve", dry_run=dry_run)
    _done(f"approved merchant {target} ({name}), identity commitment {hex32(digest)}", receipt)


@click.command("grant-prefix", cls=ConnectedProviderCommand, short_help="(verifier) grant a prefix")
@registry_options
@click.argument("prefix")
@click.argument("merchant")
@dry_run_option
def grant_prefix(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    prefix: str,
    merchant: str,
    dry_run: bool,
) -> None:
    """Grant MERCHANT the GS1 company PREFIX, as GS1 licensed it: from then on it alone may
    register (and activate in batches) GTINs under it. The prefix is in its GTIN-13 form,
    4-12 digits: digits 2 to L+1 of the GTIN-14 (GTIN 09506000134352 lies under 9506000).
    Refused when the prefix, or a shorter one it lies in, belongs to another merchant."""
    verifier = _verifier(account, network)
    target = parse_address(merchant, "MERCHANT")
    contract = open_registry(registry, deployments_dir).contract
    args = [prefix.strip(), target]
    receipt = send_one(verifier, contract.grantGs1Prefix, args, "grant", dry_run=dry_run)
    _done(f"granted GS1 company prefix {prefix.strip()} to {target}", receipt)


@click.command(
    "revoke-prefix", cls=ConnectedProviderCommand, short_help="(verifier) revoke a prefix"
)
@registry_options
@click.argument("prefix")
@dry_run_option
def revoke_prefix(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    prefix: str,
    dry_run: bool,
) -> None:
    """Revoke the GS1 company PREFIX: its holder registers no more GTINs under it. Items it
    registered stay; move or revoke a squatted one with `reassign`."""
    verifier = _verifier(account, network)
    contract = open_registry(registry, deployments_dir).contract
    holder = str(contract.gs1PrefixHolder(prefix.strip()))
    receipt = send_one(
        verifier, contract.revokeGs1Prefix, [prefix.strip()], "revoke", dry_run=dry_run
    )
    _done(f"revoked GS1 company prefix {prefix.strip()} from {holder}", receipt)


@click.command(cls=ConnectedProviderCommand, short_help="(verifier) move or revoke an item")
@registry_options
@click.argument("item_id", metavar="ITEM_ID")
@click.option("--to", "to", help="The approved merchant the item belongs to.")
@click.option("--revoke", is_flag=True, help="Delete the record: its owner registers it afresh.")
@click.option("--reason", required=True, help="The finding; its keccak256 is recorded.")
@dry_run_option
def reassign(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    item_id: str,
    to: str | None,
    revoke: bool,
    reason: str,
    dry_run: bool,
) -> None:
    """Move ITEM_ID (0x + 64 hex) to the merchant it belongs to (--to ADDRESS), or revoke its
    record (--revoke) so that its rightful owner can register it, e.g. a GS1 serial a squatter
    registered. The item leaves its batch; an escrow order holding it keeps its money rules."""
    if (to is None) == (not revoke):
        raise click.UsageError("give --to ADDRESS or --revoke")
    verifier = _verifier(account, network)
    item = parse_bytes32(item_id, "ITEM_ID")
    target = parse_address(to, "--to") if to is not None else ops.ZERO_ADDRESS
    contract = open_registry(registry, deployments_dir).contract
    args = [item, target, keccak(reason.encode("utf-8"))]
    receipt = send_one(verifier, contract.reassignItem, args, "reassign", dry_run=dry_run)
    if receipt is None:
        return
    for event in receipt.events.filter(contract.ItemReassigned):
        args = event.event_arguments
        moved = f"moved to {args['to']}" if int(str(args["to"]), 16) else "revoked"
        _done(f"item {hex32(item)} of {args['from']} {moved}", receipt)


COMMANDS = (approve, grant_prefix, revoke_prefix, reassign)
