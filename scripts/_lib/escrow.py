"""Escrow orders on a deployed OrderEscrow: finding orders and their terms, reading their state,
and sending. Used by ``scripts/buyer.py``, ``scripts/arbiter.py``, ``scripts/carrier.py`` and
``ape run merchant order``; the pre-flight checks are in ``order_checks.py``, the status view in
``order_status.py``.

Every call is simulated (``eth_call``) before it is sent: the contract's own refusal, explained
from its custom error (``scripts/_lib/reverts.py``), stops the run with nothing sent. Deadlines
are compared with the latest block's time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.domain.abi_types import hex32
from app.domain.deployments import contract_address, deployments_dir, load_record
from app.domain.vocab import OrderStatus, Verdict

# Re-exported: what an order is paid in (scripts/_lib/assets.py).
from scripts._lib.assets import ERC20_ABI as ERC20_ABI
from scripts._lib.assets import Asset as Asset
from scripts._lib.assets import asset_of as asset_of
from scripts._lib.assets import erc20 as erc20
from scripts._lib.orders import OrderFile, OrderTerms, read_order_file

# Re-exported: the scripts raise it for their own checks.
from scripts._lib.registry import PreflightError as PreflightError
from scripts._lib.reverts import explain_data, refusal_of

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from ape.api.transactions import ReceiptAPI
    from ape.contracts.base import ContractInstance

ESCROW = "OrderEscrow"
BPS = 10_000
Echo = Callable[[str], None]

# ---------------------------------------------------------------------------------------- escrow


@dataclass(frozen=True)
class Escrow:
    contract: ContractInstance
    from_block: int

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def registry(self) -> ContractInstance:
        """The ProductRegistry this escrow records sales in."""
        from ape import project

        registry: ContractInstance = project.ProductRegistry.at(self.contract.registry())
        return registry


def open_escrow(address: str | None, directory: Path | None) -> Escrow:
    """The escrow at ``address``, else the one recorded for this chain in the deployments dir."""
    from ape import chain, project

    folder = deployments_dir(directory)
    record = load_record(folder, chain.chain_id)
    if address is None:
        address = contract_address(folder, chain.chain_id, ESCROW)
        if address is None:
            raise click.UsageError(
                f"no {ESCROW} deployment recorded for chain {chain.chain_id} in {folder}: "
                "run `ape run deploy` first, or pass --escrow ADDRESS"
            )
    if not chain.provider.get_code(address):
        raise click.UsageError(f"no contract code at {address} on chain {chain.chain_id}")
    from_block = 0
    if record is not None and ESCROW in record.contracts:
        entry = record.contracts[ESCROW]
        if entry.address == address:
            from_block = entry.block_number
    return Escrow(project.OrderEscrow.at(address), from_block)


def chain_now() -> int:
    """The latest block's time: what deadlines are checked against."""
    from ape import chain

    return int(chain.blocks.head.timestamp)


def chain_head() -> int:
    from ape import chain

    return int(chain.blocks.height)


def event_logs(
    escrow: Escrow,
    event: str,
    topics: dict[str, Any] | None = None,
    *,
    from_block: int | None = None,
) -> list[Any]:
    """The escrow's ``event`` logs from ``from_block`` (default: its deployment) to the head,
    filtered by indexed arguments. Asks the provider directly: Ape's query manager would load its
    cache plugin (SQLAlchemy), a second of start-up for every command."""
    from ape import chain
    from ape.types import LogFilter

    log_filter = LogFilter.from_event(
        event=getattr(escrow.contract, event).abi,
        search_topics=topics or None,
        addresses=[escrow.address],
        start_block=escrow.from_block if from_block is None else from_block,
        stop_block=chain_head(),
    )
    return list(chain.provider.get_contract_logs(log_filter))


# ---------------------------------------------------------------------------------------- orders


@dataclass(frozen=True)
class LoadedOrder:
    """An order's terms and where they came from."""

    terms: OrderTerms
    order_id: str
    source: str
    file: OrderFile | None = None
    path: Path | None = None


def load_order_file(path: Path) -> OrderFile:
    from ape import chain

    try:
        data = read_order_file(path)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--order-file") from None
    if data.chain_id != int(chain.chain_id):
        raise click.UsageError(
            f"{path} is an order on chain {data.chain_id}, not on chain {chain.chain_id}"
        )
    return data


def terms_from_event(escrow: Escrow, order_id: str) -> tuple[OrderTerms, Any]:
    """The terms an order was opened with, from its ``OrderOpened`` event."""
    logs = event_logs(escrow, "OrderOpened", {"orderId": order_id})
    if not logs:
        raise click.UsageError(
            f"no order {order_id} on escrow {escrow.address} (no OrderOpened event since block "
            f"{escrow.from_block})"
        )
    terms = OrderTerms.from_abi(list(logs[0].terms))
    if terms.order_id != order_id:
        raise click.ClickException(f"the OrderOpened event of {order_id} carries other terms")
    return terms, logs[0]


def find_order(
    escrow: Escrow, order_file: OrderFile | None, path: Path | None, order_id: str | None
) -> LoadedOrder:
    """The order named by ``--order-file`` (already read) or ``--order``: exactly one."""
    if (order_file is None) == (order_id is None):
        raise click.UsageError("name the order: --order-file FILE or --order 0xID")
    if order_file is not None:
        if order_file.escrow != escrow.address:
            raise click.UsageError(
                f"{path} is an order on escrow {order_file.escrow}, not on {escrow.address}"
            )
        return LoadedOrder(
            order_file.terms, order_file.order_id, f"order file {path}", order_file, path
        )
    assert order_id is not None
    terms, log = terms_from_event(escrow, order_id)
    return LoadedOrder(terms, order_id, f"OrderOpened event in block {log.block_number}")


def opened_orders(escrow: Escrow, topics: dict[str, str]) -> list[tuple[OrderTerms, Any]]:
    """Every order opened on the escrow, filtered by indexed ``buyer`` or ``merchant``."""
    logs = event_logs(escrow, "OrderOpened", topics)
    return [(OrderTerms.from_abi(list(log.terms)), log) for log in logs]


# ---------------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Offer:
    buyer_bps: int
    by_merchant: bool
    expires_at: int


@dataclass(frozen=True)
class OrderView:
    """An order's terms with its state on chain, read at ``now``."""

    terms: OrderTerms
    order_id: str
    status: OrderStatus
    merchant_answered: bool
    buyer_bps: int
    carrier: int
    delivered_at: int
    dispute_deadline: int
    delivered_items: int
    released_items: int
    refunded_items: int
    offer: Offer | None
    escrowed: int
    now: int

    @property
    def all_items(self) -> int:
        return (1 << self.terms.item_count) - 1

    @property
    def open_items(self) -> int:
        """Items neither released nor refunded."""
        return self.all_items & ~(self.released_items | self.refunded_items)

    @property
    def funder_paid(self) -> bool:
        """Paid by a funder (a credit line), not by the buyer."""
        return self.terms.payer != self.terms.buyer

    @property
    def releasable_at(self) -> int:
        """When the dispute window closes and anyone may release (OrderEscrow._releasableAt)."""
        delivered_at = self.delivered_at
        if self.status is not OrderStatus.DELIVERED and self.terms.deliver_by > delivered_at:
            delivered_at = self.terms.deliver_by
        return delivered_at + self.terms.dispute_window


def read_order(escrow: Escrow, terms: OrderTerms, now: int | None = None) -> OrderView:
    order_id = terms.order_id
    state = escrow.contract.orderOf(order_id)
    offer = escrow.contract.offerOf(order_id)
    return OrderView(
        terms=terms,
        order_id=order_id,
        status=OrderStatus(int(state.status)),
        merchant_answered=bool(state.merchantAnswered),
        buyer_bps=int(state.buyerBps),
        carrier=int(state.carrier),
        delivered_at=int(state.deliveredAt),
        dispute_deadline=int(state.disputeDeadline),
        delivered_items=int(state.deliveredItems),
        released_items=int(state.releasedItems),
        refunded_items=int(state.refundedItems),
        offer=(
            Offer(int(offer.buyerBps), bool(offer.byMerchant), int(offer.expiresAt))
            if offer.exists
            else None
        ),
        escrowed=int(escrow.contract.escrowedOf(terms.as_abi())),
        now=chain_now() if now is None else now,
    )


def load_view(escrow: Escrow, order: LoadedOrder) -> OrderView:
    view = read_order(escrow, order.terms)
    if view.status is OrderStatus.NONE:
        raise PreflightError(
            [f"order {order.order_id} (from {order.source}) was never opened on {escrow.address}"]
        )
    return view


def _status(view: OrderView) -> str:
    return view.status.name.lower()


def settlement_split(view: OrderView, buyer_bps: int) -> tuple[int, int, int]:
    """(payer, merchant net, fee) of a split of the remainder, rounded as the contract does."""
    payer = view.escrowed * buyer_bps // BPS
    gross = view.escrowed - payer
    fee = gross * view.terms.fee_bps // BPS
    return payer, gross - fee, fee


# ---------------------------------------------------------------------------------------- items


def bits_of(indices: Sequence[int], count: int, option: str) -> int:
    """A bitmap of 0-based item indices, checked against the order's item count."""
    bits = 0
    for index in indices:
        if not 0 <= index < count:
            raise click.BadParameter(
                f"item {index} is not an item of the order (0-{count - 1})", param_hint=option
            )
        bits |= 1 << index
    return bits


def bits_text(bits: int) -> str:
    return ",".join(str(i) for i in range(32) if bits >> i & 1)


def item_verdicts(escrow: Escrow, terms: OrderTerms) -> list[Verdict]:
    if not terms.item_ids:
        return []
    registry = escrow.registry()
    return [Verdict(int(registry.verify(item))) for item in terms.item_ids]


# ---------------------------------------------------------------------------------------- sending


def describe_revert(exc: Exception) -> str:
    """A failed transaction's refusal as text, from its custom error when it carries one."""
    from ape.exceptions import CustomError

    if isinstance(exc, CustomError):
        parts = []
        for key, value in exc.inputs.items():
            if key == "status":
                text = OrderStatus(int(value)).name.lower()
            elif isinstance(value, bytes | bytearray):
                text = hex32(bytes(value))
            else:
                text = str(value)
            parts.append(f"{key}={text}")
        return f"{exc.name}({', '.join(parts)})"
    message = str(exc)
    if message.startswith("0x"):  # an error of another contract, undecoded by Ape
        return explain_data(message)
    return message or type(exc).__name__


def simulate(account: AccountAPI, method: Any, *args: Any, value: int = 0) -> None:
    """Runs the call without sending it (``eth_call``); a refusal raises PreflightError with
    the contract's error explained."""
    refusal = refusal_of(method, *args, sender=str(account.address), value=value)
    if refusal is not None:
        raise PreflightError([f"the contract would refuse it: {refusal}"])


def send(account: AccountAPI, method: Any, *args: Any, value: int = 0) -> ReceiptAPI:
    """Simulates the call, then signs and sends it and waits for the receipt."""
    from ape.exceptions import ApeException

    simulate(account, method, *args, value=value)
    kwargs: dict[str, Any] = {"sender": account}
    if value:
        kwargs["value"] = value
    try:
        receipt: ReceiptAPI = method(*args, **kwargs)
    except ApeException as exc:
        raise click.ClickException(f"the transaction failed: {describe_revert(exc)}") from None
    return receipt


def require(problems: Sequence[str]) -> None:
    if problems:
        raise PreflightError(problems)
