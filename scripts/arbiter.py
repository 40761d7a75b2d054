"""`ape run arbiter ...`: list open disputes, rule on them, apply the default to expired ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.abi_types import hex32
from app.domain.vocab import OrderStatus
from scripts._lib import escrow as ops
from scripts._lib.escrow_cli import (
    BPS_TYPE,
    connect,
    done,
    escrow_options,
    hashed_text,
    hashed_text_options,
    order_options,
    session,
)
from scripts._lib.order_checks import check_resolve, check_resolve_expired
from scripts._lib.order_status import default_outcome
from scripts._lib.orders import OrderTerms
from scripts._lib.party_commands import status_command
from scripts._lib.signers import resolve_account
from scripts._lib.units import format_moment

# Test account 3 is the arbiter `ape run deploy` names on a local network.
LOCAL_ARBITER_TEST_INDEX = 3


@click.group(
    help="""Arbiter operations on the OrderEscrow's disputes.

\b
  list             open disputes: evidence, answers, deadlines, pending offers
  status           one order in full
  settle           rule on a dispute: split what is escrowed (ARBITER_ROLE)
  resolve-expired  after the arbitration deadline, apply the default outcome
                   (full refund if the merchant never answered, else an even split);
                   anyone may send it

An arbiter who never rules cannot lock funds: each dispute has an arbitration deadline
(set by the admin's arbitration period when it opened), after which only the default applies.
--account is the arbiter (on a local network the default is TEST::3, the arbiter that
`ape run deploy` names). Every command checks the chain first and sends nothing if a check
fails."""
)
def cli() -> None:
    pass


cli.add_command(status_command(None, "ape run arbiter", LOCAL_ARBITER_TEST_INDEX))


def _disputed(escrow: ops.Escrow, now: int) -> list[tuple[ops.OrderView, Any]]:
    """Orders disputed now, with the DisputeOpened event of their current dispute."""
    latest: dict[str, Any] = {}
    for log in ops.event_logs(escrow, "DisputeOpened"):
        latest[hex32(log.orderId)] = log
    found = []
    for order_id, log in latest.items():
        state = escrow.contract.orderOf(order_id)
        if OrderStatus(int(state.status)) is not OrderStatus.DISPUTED:
            continue
        terms, _ = ops.terms_from_event(escrow, order_id)
        found.append((ops.read_order(escrow, terms, now), log))
    return found


@cli.command("list", cls=ConnectedProviderCommand, short_help="list open disputes")
@escrow_options
def list_disputes(
    network: Any, account: Any, escrow_address: str | None, deployments_dir: Path | None
) -> None:
    """List the escrow's open disputes, oldest first, from its events and current state:
    who opened each, the evidence hashes of both sides, the arbitration deadline, what is
    escrowed and any pending settlement offer. Sends nothing."""
    escrow, _ = connect(escrow_address, deployments_dir)
    now = ops.chain_now()
    disputes = _disputed(escrow, now)
    if not disputes:
        click.echo(f"no open disputes on {escrow.address}")
        return
    for view, opened in disputes:
        terms = view.terms
        asset = ops.asset_of(terms.token)
        state = "expired" if now >= view.dispute_deadline else "open"
        click.echo(f"order {view.order_id}  [{state}]")
        click.echo(f"  buyer {terms.buyer}  merchant {terms.merchant}")
        click.echo(f"  escrowed {asset.fmt(view.escrowed)} of {asset.fmt(terms.amount)}")
        opener = "buyer" if opened.by == terms.buyer else f"oracle {opened.by}"
        click.echo(
            f"  opened by the {opener} in block {opened.block_number}, "
            f"evidence {hex32(opened.evidenceHash)}"
        )
        for log in ops.event_logs(
            escrow,
            "EvidenceSubmitted",
            {"orderId": view.order_id},
            from_block=opened.block_number,
        ):
            side = _side(terms, str(log.by))
            click.echo(f"  evidence from the {side}: {hex32(log.evidenceHash)}")
        default = default_outcome(view).removeprefix("an ").removeprefix("a ")
        click.echo(f"  rule until {format_moment(view.dispute_deadline, now)}; default: {default}")
        if view.offer is not None:
            side = "merchant" if view.offer.by_merchant else "buyer"
            click.echo(
                f"  pending offer by the {side}: {view.offer.buyer_bps} bps to the buyer, until "
                f"{format_moment(view.offer.expires_at, now)}"
            )


def _side(terms: OrderTerms, address: str) -> str:
    if address == terms.buyer:
        return "buyer"
    if address == terms.merchant:
        return "merchant"
    return address


@cli.command(cls=ConnectedProviderCommand, short_help="rule on a dispute")
@escrow_options
@order_options
@click.option(
    "--buyer-bps",
    type=BPS_TYPE,
    required=True,
    help="Share of what is escrowed refunded to the buyer (payer), in basis points.",
)
@hashed_text_options("ruling", "written ruling")
def settle(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    buyer_bps: int,
    ruling: str | None,
    ruling_file: Path | None,
    ruling_hash: str | None,
) -> None:
    """Rule on a disputed order before its arbitration deadline: the buyer (payer) is credited
    --buyer-bps of what is escrowed, the merchant the rest less the platform fee. The written
    ruling's keccak256 is recorded."""
    digest = hashed_text("ruling", ruling, ruling_file, ruling_hash)
    s = session(
        network,
        account,
        escrow_address,
        deployments_dir,
        order_file,
        order_id,
        default_test_index=LOCAL_ARBITER_TEST_INDEX,
    )
    contract = s.escrow.contract
    is_arbiter = bool(contract.hasRole(contract.ARBITER_ROLE(), s.address))
    ops.require(check_resolve(s.view, is_arbiter, s.address))
    receipt = ops.send(s.account, contract.resolveDispute, s.view.terms.as_abi(), buyer_bps, digest)
    (event,) = receipt.events.filter(contract.OrderSettled)
    asset = ops.asset_of(s.view.terms.token)
    done(
        f"ruled on order {s.view.order_id}: {asset.fmt(event.payerAmount)} to the buyer, "
        f"{asset.fmt(event.merchantAmount)} to the merchant, fee {asset.fmt(event.feeAmount)}",
        receipt,
    )


@cli.command("resolve-expired", cls=ConnectedProviderCommand, short_help="apply the default")
@escrow_options
@order_options
@click.option("--all", "every", is_flag=True, help="Every dispute past its deadline.")
def resolve_expired(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    every: bool,
) -> None:
    """Apply the default outcome to a dispute whose arbitration deadline has passed (one
    transaction per order): a full refund if the merchant never answered, else an even split.
    Anyone may send it. Name one order, or --all."""
    if every:
        if order_file is not None or order_id is not None:
            raise click.UsageError("--all goes without --order-file and --order")
        signer = resolve_account(account, network, default_test_index=LOCAL_ARBITER_TEST_INDEX)
        escrow, _ = connect(escrow_address, deployments_dir)
        now = ops.chain_now()
        views = [view for view, _ in _disputed(escrow, now) if now >= view.dispute_deadline]
        if not views:
            click.echo("no dispute is past its arbitration deadline")
            return
    else:
        s = session(
            network,
            account,
            escrow_address,
            deployments_dir,
            order_file,
            order_id,
            default_test_index=LOCAL_ARBITER_TEST_INDEX,
        )
        ops.require(check_resolve_expired(s.view))
        signer, escrow, views = s.account, s.escrow, [s.view]
    contract = escrow.contract
    for view in views:
        receipt = ops.send(signer, contract.resolveExpiredDispute, view.terms.as_abi())
        (event,) = receipt.events.filter(contract.OrderSettled)
        asset = ops.asset_of(view.terms.token)
        done(
            f"default outcome on order {view.order_id}: {event.buyerBps} bps to the buyer, "
            f"{asset.fmt(event.payerAmount)} to the buyer, {asset.fmt(event.merchantAmount)} "
            "to the merchant",
            receipt,
        )
