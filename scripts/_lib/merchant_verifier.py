"""The verifier's commands of `ape run merchant`: approve a merchant with its owner's identity
commitment, grant and revoke GS1 company prefixes, and move or revoke a squatted item id.

Each is signed by a VERIFIER_ROLE holder (--account; on a local network TEST::0, the default
verifier of `ape run deploy`), simulated first, and explained from the registry's own error when
it refuses (a prefix inside another merchant's, a target that is no approved merchant ...).
"""

from __future__ import annotations

from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from scripts._lib import chain
from scripts._lib.chain import Run, Stop
from scripts._lib.identity import IDENTITY_KEY_ENV, commitment
from scripts._lib.registry import ZERO_ADDRESS, open_registry
from scripts._lib.signers import parse_address

VERIFIER = "The verifier (VERIFIER_ROLE): an Ape account alias, or TEST::N locally (TEST::0)."


def _send(run: Run, method: Any, *args: Any, what: str, then: str) -> Any:
    receipt = chain.send(run, method, *args, what=what)
    if receipt is None:
        chain.dry_run_report(f"would send: {what}")
    else:
        chain.done(what, receipt, then)
    return receipt


def add_verifier_commands(group: click.Group) -> None:
    def command(name: str, short_help: str) -> chain.Decorator:
        return chain.command(
            group, name, short_help=short_help, signer=VERIFIER, default_signer=0,
            address="registry", dry_run=True,
        )  # fmt: skip

    @command("approve", "(verifier) approve a merchant")
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
        contract = open_registry(run).contract
        _send(
            run,
            contract.approveMerchant,
            target,
            name,
            digest,
            what=f"approved merchant {target} ({name}), identity commitment {hex32(digest)}",
            then="the merchant registers items: ape run merchant register FILE --account ALIAS",
        )

    @command("grant-prefix", "(verifier) grant a prefix")
    @click.argument("prefix")
    @click.argument("merchant")
    def grant_prefix(run: Run, prefix: str, merchant: str) -> None:
        """Grant MERCHANT the GS1 company PREFIX, as GS1 licensed it: from then on it alone may
        register (and activate in batches) GTINs under it. The prefix is in its GTIN-13 form,
        4-12 digits: digits 2 to L+1 of the GTIN-14 (GTIN 09506000134352 lies under 9506000).
        Refused when the prefix, or a shorter one it lies in, belongs to another merchant."""
        target = parse_address(merchant, "MERCHANT")
        contract = open_registry(run).contract
        _send(
            run,
            contract.grantGs1Prefix,
            prefix.strip(),
            target,
            what=f"granted GS1 company prefix {prefix.strip()} to {target}",
            then="the merchant registers its GTINs: ape run merchant register FILE",
        )

    @command("revoke-prefix", "(verifier) revoke a prefix")
    @click.argument("prefix")
    def revoke_prefix(run: Run, prefix: str) -> None:
        """Revoke the GS1 company PREFIX: its holder registers no more GTINs under it. Items it
        registered stay; move or revoke a squatted one with `reassign`."""
        contract = open_registry(run).contract
        holder = str(contract.gs1PrefixHolder(prefix.strip()))
        _send(
            run,
            contract.revokeGs1Prefix,
            prefix.strip(),
            what=f"revoked GS1 company prefix {prefix.strip()} from {holder}",
            then="move or revoke a squatted item: ape run merchant reassign ITEM_ID",
        )

    @command("reassign", "(verifier) move or revoke an item")
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
        contract = open_registry(run).contract
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
