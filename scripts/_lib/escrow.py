"""Escrow orders on a deployed OrderEscrow: finding orders and their terms, reading their state,
pre-flight checks that mirror the contract's rules, and sending. Used by ``scripts/buyer.py``,
``scripts/arbiter.py``, ``scripts/carrier.py`` and ``ape run merchant order``.

Every action is checked twice before anything is sent: first against the rules below, read from
the chain (clear messages: wrong state, past deadline, not your order, too little balance), then
by simulating the very call (``eth_call``), so that a refusal the checks missed still sends
nothing. Deadlines are compared with the latest block's time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.domain.abi_types import hex32
from app.domain.deployments import contract_address, deployments_dir, load_record
from app.domain.vocab import LogisticsKind, OrderStatus, Verdict
from scripts._lib.orders import ETH, OrderFile, OrderTerms, read_order_file

# Re-exported: the scripts raise it for their own checks.
from scripts._lib.registry import PreflightError as PreflightError
from scripts._lib.units import format_amount, format_duration, format_moment

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from ape.api.transactions import ReceiptAPI
    from ape.contracts.base import ContractInstance

ESCROW = "OrderEscrow"
BPS = 10_000
Echo = Callable[[str], None]

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": output}],
    }
    for name, mutability, inputs, output in (
        ("symbol", "view", [], "string"),
        ("decimals", "view", [], "uint8"),
        ("balanceOf", "view", [("account", "address")], "uint256"),
        ("allowance", "view", [("owner", "address"), ("spender", "address")], "uint256"),
        ("approve", "nonpayable", [("spender", "address"), ("amount", "uint256")], "bool"),
    )
]


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


# ---------------------------------------------------------------------------------------- assets


@dataclass(frozen=True)
class Asset:
    """What an order is paid in: ETH or an ERC-20, with its symbol and decimals."""

    token: str
    symbol: str
    decimals: int

    @property
    def is_eth(self) -> bool:
        return self.token == ETH

    def fmt(self, units: int) -> str:
        return format_amount(units, self.decimals, self.symbol)

    def balance_of(self, account: str) -> int:
        from ape import chain

        if self.is_eth:
            return int(chain.get_balance(account))
        return int(erc20(self.token).balanceOf(account))


def erc20(token: str) -> ContractInstance:
    from ape import Contract

    instance: ContractInstance = Contract(token, abi=ERC20_ABI)
    return instance


def asset_of(token: str) -> Asset:
    """ETH for the zero address, else the ERC-20 at ``token`` (its code must exist)."""
    from ape import chain

    if token == ETH:
        return Asset(ETH, "ETH", 18)
    if not chain.provider.get_code(token):
        raise click.UsageError(f"no contract code at token address {token}")
    contract = erc20(token)
    try:
        symbol = str(contract.symbol())
        decimals = int(contract.decimals())
    except Exception:  # a token without metadata: show base units
        return Asset(token, f"units of {token}", 0)
    return Asset(token, symbol, decimals)


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


@dataclass(frozen=True)
class OrderView:
    """An order's terms with its state on chain, read at ``now``."""

    terms: OrderTerms
    order_id: str
    status: OrderStatus
    merchant_answered: bool
    buyer_bps: int
    delivered_at: int
    dispute_deadline: int
    delivered_items: int
    released_items: int
    offer: Offer | None
    escrowed: int
    now: int

    @property
    def all_items(self) -> int:
        return (1 << self.terms.item_count) - 1

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
        delivered_at=int(state.deliveredAt),
        dispute_deadline=int(state.disputeDeadline),
        delivered_items=int(state.deliveredItems),
        released_items=int(state.releasedItems),
        offer=Offer(int(offer.buyerBps), bool(offer.byMerchant)) if offer.exists else None,
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


# ---------------------------------------------------------------------------------------- checks
# Each returns the problems that make the contract refuse the call (empty: it would go through).


def _not(view: OrderView, caller: str, who: str) -> list[str]:
    address = view.terms.buyer if who == "buyer" else view.terms.merchant
    if caller != address:
        return [f"{caller} is not the {who} of order {view.order_id} (the {who} is {address})"]
    return []


def _is_party(view: OrderView, caller: str) -> list[str]:
    if caller not in (view.terms.buyer, view.terms.merchant):
        return [f"{caller} is neither the buyer nor the merchant of order {view.order_id}"]
    return []


def _open_status(view: OrderView) -> list[str]:
    if view.status.is_final:
        return [f"order {view.order_id} is already {_status(view)}"]
    return []


def check_ship(view: OrderView, caller: str) -> list[str]:
    problems = _not(view, caller, "merchant")
    if view.status is not OrderStatus.FUNDED:
        problems.append(f"order {view.order_id} is {_status(view)}; only a funded one ships")
    elif view.now > view.terms.ship_by:
        problems.append(
            f"the ship-by deadline {format_moment(view.terms.ship_by, view.now)} has passed; "
            "the buyer may now cancel for a full refund"
        )
    return problems


def check_confirm(view: OrderView, caller: str, items: int = 0) -> list[str]:
    """confirmReceipt (items 0) or the buyer's releaseItems."""
    problems = _not(view, caller, "buyer")
    if view.status >= OrderStatus.DISPUTED:
        problems.append(f"order {view.order_id} is {_status(view)}")
    elif items and (items & ~view.all_items or items & view.released_items):
        problems.append(
            f"items {bits_text(items)}: the order has items {bits_text(view.all_items)}, "
            f"of which {bits_text(view.released_items) or 'none'} already released"
        )
    return problems


def check_release(view: OrderView) -> list[str]:
    if view.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return [f"order {view.order_id} is {_status(view)}; only a shipped or delivered one"]
    if view.now < view.releasable_at:
        return [
            f"the dispute window runs until {format_moment(view.releasable_at, view.now)}; "
            "before that only the buyer can release"
        ]
    return []


def check_release_items(view: OrderView, items: int) -> list[str]:
    """releaseItems by anyone but the buyer: delivered items whose dispute window is over."""
    if view.status >= OrderStatus.DISPUTED:
        return [f"order {view.order_id} is {_status(view)}"]
    if items & ~view.all_items or items & view.released_items:
        return [
            f"items {bits_text(items)}: the order has items {bits_text(view.all_items)}, "
            f"of which {bits_text(view.released_items) or 'none'} already released"
        ]
    if items & ~view.delivered_items:
        return [
            f"items {bits_text(items & ~view.delivered_items)} are not reported delivered; "
            "before that only the buyer can release them"
        ]
    releasable_at = view.delivered_at + view.terms.dispute_window
    if view.now < releasable_at:
        return [
            f"the dispute window after the latest delivery runs until "
            f"{format_moment(releasable_at, view.now)}"
        ]
    return []


def check_cancel(view: OrderView, caller: str) -> list[str]:
    terms = view.terms
    if view.status.is_final or caller == terms.merchant:
        return _open_status(view)
    if view.status is OrderStatus.FUNDED and view.now > terms.ship_by:
        return []
    if caller == terms.buyer:
        if view.status is OrderStatus.FUNDED:
            return []
        return [
            f"order {view.order_id} is {_status(view)}: the buyer may cancel only before "
            "shipment (after it: dispute, or offer a settlement)"
        ]
    return [
        f"{caller} is neither party of order {view.order_id}, and it is not funded past its "
        f"ship-by deadline {format_moment(terms.ship_by, view.now)}"
    ]


def check_offer(view: OrderView, caller: str) -> list[str]:
    return _is_party(view, caller) + _open_status(view)


def check_accept(view: OrderView, caller: str, buyer_bps: int) -> list[str]:
    problems = _is_party(view, caller) + _open_status(view)
    if problems:
        return problems
    offer = view.offer
    if offer is None:
        return [f"order {view.order_id} has no pending settlement offer"]
    if offer.by_merchant == (caller == view.terms.merchant):
        return [f"the pending offer ({offer.buyer_bps} bps to the buyer) is your own"]
    if offer.buyer_bps != buyer_bps:
        return [f"the pending offer gives the buyer {offer.buyer_bps} bps, not {buyer_bps}"]
    return []


def check_dispute(view: OrderView, caller: str) -> list[str]:
    problems = _not(view, caller, "buyer")
    if view.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        hint = " (cancel it instead)" if view.status is OrderStatus.FUNDED else ""
        problems.append(
            f"order {view.order_id} is {_status(view)}; only a shipped or delivered one can be "
            f"disputed{hint}"
        )
    elif view.now >= view.releasable_at:
        problems.append(f"the dispute window closed {format_moment(view.releasable_at, view.now)}")
    return problems


def check_evidence(view: OrderView, caller: str) -> list[str]:
    problems = _is_party(view, caller)
    if view.status is not OrderStatus.DISPUTED:
        problems.append(f"order {view.order_id} is {_status(view)}, not disputed")
    return problems


def check_refund_recalled(view: OrderView, caller: str, verdicts: Sequence[Verdict]) -> list[str]:
    problems = _not(view, caller, "buyer") + _open_status(view)
    if not view.terms.item_ids:
        problems.append(f"order {view.order_id} names no registry items (a SKU order)")
    elif not any(v in (Verdict.RECALLED, Verdict.FLAGGED) for v in verdicts):
        problems.append(
            f"no item of order {view.order_id} is recalled or flagged in the registry "
            f"(verdicts: {', '.join(v.name.lower() for v in verdicts)})"
        )
    return problems


def check_resolve(view: OrderView, caller_is_arbiter: bool, caller: str) -> list[str]:
    problems = [] if caller_is_arbiter else [f"{caller} does not hold ARBITER_ROLE"]
    if view.status is not OrderStatus.DISPUTED:
        problems.append(f"order {view.order_id} is {_status(view)}, not disputed")
    elif view.now >= view.dispute_deadline:
        problems.append(
            f"the arbitration deadline passed {format_moment(view.dispute_deadline, view.now)}; "
            "anyone may now apply the default outcome (resolve-expired)"
        )
    return problems


def check_resolve_expired(view: OrderView) -> list[str]:
    if view.status is not OrderStatus.DISPUTED:
        return [f"order {view.order_id} is {_status(view)}, not disputed"]
    if view.now < view.dispute_deadline:
        return [
            f"the arbiter may rule until {format_moment(view.dispute_deadline, view.now)}; "
            "the default outcome applies only after that"
        ]
    return []


def check_report(view: OrderView, kind: LogisticsKind, items: int) -> list[str]:
    """One logistics report of the oracle (reportLogistics)."""
    if kind is LogisticsKind.SHIPPED:
        if view.status is not OrderStatus.FUNDED:
            return [f"order {view.order_id} is {_status(view)}; only a funded one ships"]
        if view.now > view.terms.ship_by:
            passed = format_moment(view.terms.ship_by, view.now)
            return [f"order {view.order_id}: its ship-by deadline passed {passed}"]
        return []
    if kind is LogisticsKind.DELIVERED:
        if view.status is not OrderStatus.SHIPPED:
            return [f"order {view.order_id} is {_status(view)}; only a shipped one is delivered"]
        if items and (items & ~view.all_items or items & view.delivered_items):
            return [
                f"order {view.order_id}: items {bits_text(items)} are not undelivered items "
                f"of the order (delivered so far: {bits_text(view.delivered_items) or 'none'})"
            ]
        return []
    if view.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return [f"order {view.order_id} is {_status(view)}; only a shipped or delivered one"]
    return []


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
    """A contract's refusal as text: ``EscrowInvalidStatus(orderId=0x.., status=shipped)``."""
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
    return str(exc) or type(exc).__name__


def simulate(account: AccountAPI, method: Any, *args: Any, value: int = 0) -> None:
    """Runs the call without sending it (``eth_call``); a refusal raises PreflightError."""
    from ape.exceptions import ApeException, ContractLogicError

    kwargs: dict[str, Any] = {"sender": account}
    if value:
        kwargs["value"] = value
    try:
        method.call(*args, **kwargs)
    except ContractLogicError as exc:
        raise PreflightError([f"the contract would refuse it: {describe_revert(exc)}"]) from None
    except ApeException as exc:  # e.g. the node refuses: too little ETH for value and gas
        raise PreflightError([f"the node refused the call: {exc}"]) from None


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


# ---------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class Action:
    command: str
    note: str
    options: str = ""


def actions_for(
    view: OrderView,
    address: str,
    *,
    verdicts: Sequence[Verdict] = (),
    is_arbiter: bool = False,
    credit: int = 0,
) -> list[Action]:
    """What ``address`` may do now on this order, by the same checks the commands run."""
    terms, now = view.terms, view.now
    role = (
        "buyer"
        if address == terms.buyer
        else "merchant"
        if address == terms.merchant
        else "arbiter"
        if is_arbiter
        else "anyone"
    )
    found: list[Action] = []

    def offer(command: str, problems: list[str], note: str, options: str = "") -> None:
        if not problems:
            found.append(Action(command, note, options))

    if role == "buyer":
        offer("confirm", check_confirm(view, address), "confirm receipt: pays the merchant now")
        cancel_note = (
            "ship-by passed: full refund"
            if view.status is OrderStatus.FUNDED and now > terms.ship_by
            else "cancel before shipment: full refund"
        )
        offer("cancel", check_cancel(view, address), cancel_note)
        offer(
            "dispute",
            check_dispute(view, address),
            f"until {format_moment(view.releasable_at, now)}",
            "--evidence TEXT",
        )
        offer(
            "refund-recalled",
            check_refund_recalled(view, address, verdicts),
            "an item is recalled or flagged: full refund",
        )
    if role == "merchant":
        offer(
            "ship",
            check_ship(view, address),
            f"until {format_moment(terms.ship_by, now)}",
            "--tracking TEXT",
        )
        offer("cancel", check_cancel(view, address), "refund the buyer in full")
    if role in ("buyer", "merchant"):
        offer(
            "evidence",
            check_evidence(view, address),
            "add evidence to the dispute",
            "--evidence TEXT",
        )
        offer(
            "offer",
            check_offer(view, address),
            "offer a split of what is escrowed",
            "--buyer-bps N",
        )
        if view.offer is not None:
            offer(
                "accept",
                check_accept(view, address, view.offer.buyer_bps),
                f"accept the pending split: {view.offer.buyer_bps} bps to the buyer",
                f"--buyer-bps {view.offer.buyer_bps}",
            )
    if role == "arbiter":
        offer(
            "settle",
            check_resolve(view, True, address),
            f"rule until {format_moment(view.dispute_deadline, now)}",
            "--buyer-bps N --ruling TEXT",
        )
    if role != "buyer" and role != "merchant":
        offer("cancel", check_cancel(view, address), "ship-by passed: refund the payer")
    if role != "buyer":
        offer("release", check_release(view), "anyone: the dispute window is over")
    offer("resolve-expired", check_resolve_expired(view), "anyone: apply the default outcome")
    if credit:
        token = "" if terms.is_eth else f"--token {terms.token}"
        found.append(Action("withdraw", "collect your credit", token))
    return found


def describe(
    escrow: Escrow, view: OrderView, asset: Asset, verdicts: Sequence[Verdict]
) -> list[str]:
    """The order as lines of text: parties, price, items, deadlines, state."""
    terms, now = view.terms, view.now
    fee = terms.fee_bps
    lines = [
        f"order      {view.order_id}",
        f"escrow     {escrow.address}",
        f"buyer      {terms.buyer}",
        f"merchant   {terms.merchant}",
    ]
    if terms.payer != terms.buyer:
        lines.append(f"payer      {terms.payer} (refunds go here)")
    lines.append(f"price      {asset.fmt(terms.amount)} (platform fee {fee / 100:.2f}% on release)")
    if terms.item_ids:
        lines.append(f"items      {len(terms.item_ids)} registry item(s):")
        for index, (item, verdict) in enumerate(zip(terms.item_ids, verdicts, strict=True)):
            marks = []
            if view.delivered_items >> index & 1:
                marks.append("delivered")
            if view.released_items >> index & 1:
                marks.append("released")
            extra = f" [{', '.join(marks)}]" if marks else ""
            lines.append(f"  {index:>2} {item}  {verdict.name.lower()}{extra}")
    else:
        lines.append(f"reference  {terms.order_ref} (off-registry SKU order)")
    lines.append(f"status     {_status(view)}")
    lines.append(f"ship by    {format_moment(terms.ship_by, now)}")
    lines.append(f"deliver by {format_moment(terms.deliver_by, now)}")
    window = format_duration(terms.dispute_window)
    if view.status in (OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        if view.delivered_at:
            lines.append(f"delivered  {format_moment(view.delivered_at, now)}")
        if view.status is not OrderStatus.FUNDED:
            lines.append(
                f"window     {window}: disputes until, and release from, "
                f"{format_moment(view.releasable_at, now)}"
            )
        else:
            lines.append(f"window     {window} after delivery")
    if view.status is OrderStatus.DISPUTED:
        answered = "answered" if view.merchant_answered else "not answered"
        default = "an even split" if view.merchant_answered else "a full refund"
        deadline = format_moment(view.dispute_deadline, now)
        if now < view.dispute_deadline:
            outcome = f"the arbiter rules until {deadline}, then the default is {default}"
        else:
            outcome = f"the arbitration deadline passed {deadline}: the default is {default}"
        lines.append(f"dispute    merchant {answered}; {outcome}")
    if view.status is OrderStatus.SETTLED:
        lines.append(f"settled    {view.buyer_bps} bps of the remainder to the buyer")
    lines.append(f"escrowed   {asset.fmt(view.escrowed)}")
    if view.offer is not None:
        side = "merchant" if view.offer.by_merchant else "buyer"
        lines.append(f"offer      by the {side}: {view.offer.buyer_bps} bps to the buyer")
    return lines
