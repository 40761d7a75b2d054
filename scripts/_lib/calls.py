"""Commands made from a contract function itself, a row (:class:`Call`) each: options from its
ABI inputs (typed as docs/scripts.md#calls says), help from its interface's NatSpec, the call sent
by ``chain.send`` and what it did read from its receipt's events. The words a user reads about a
rule are the contract's own, so they cannot drift from it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import click

from app.domain.orders import ZERO_ADDRESS
from app.domain.reverts import described
from app.domain.roles import ROLE_NAMES
from app.index.decoding import EventDecoder
from scripts._lib import chain
from scripts._lib.assets import Asset, asset_of
from scripts._lib.chain import SUITE, Run, parse_address
from scripts._lib.credit import commitment

CONTRACTS = dict(zip(chain.SHORT, SUITE, strict=True))
ROLES = {name: role for role, name in ROLE_NAMES.items()}
TERMS, ITEMS = "terms", "items"
LATE = (TERMS, ITEMS)  # inputs read with the order
IDENTITY = "identityHash"  # a commitment under the platform's identity key, not a keccak256
# Inputs and event fields counted in a token's base units, by name.
AMOUNT = re.compile(
    r"(?:^|[a-z])(?:[Aa]mount|[Aa]ssets|[Pp]rincipal|[Ii]nterest|[Ff]ees?|[Rr]efund|[Ss]urplus"
    r"|[Ii]ncome|Total)$"
)


@dataclass(frozen=True)
class Call:
    """A command that sends one contract function of ``contracts`` (short names; with several the
    command takes which as CONTRACT); ``signer`` says who may send it, the contract decides."""

    name: str
    contracts: tuple[str, ...]
    function: str
    signer: str
    short_help: str
    arguments: tuple[str, ...] = ()
    then: str | None = None  # may name inputs ({carrier}) and the order ({order})
    help: str | None = None  # for functions whose NatSpec is a library's (OpenZeppelin's)
    options: dict[str, str] | None = None  # help of inputs whose NatSpec says too little


def _spec(call: Call) -> tuple[Any, str, dict[str, str]]:
    """The function's ABI, its ``@notice`` and ``@dev`` text, its ``@param`` (and row's) texts."""
    from ape import project

    contract_type = project.get_contract(CONTRACTS[call.contracts[0]]).contract_type
    abi = contract_type.methods[call.function]
    user = ((contract_type.userdoc or {}).get("methods") or {}).get(abi.selector) or {}
    dev = ((contract_type.devdoc or {}).get("methods") or {}).get(abi.selector) or {}
    said = " ".join(part for part in (user.get("notice"), dev.get("details")) if part)
    docs = {k: " ".join(v.split()) for k, v in (dev.get("params") or {}).items()}
    return abi, " ".join(said.split()), docs | (call.options or {})


def _kebab(name: str) -> str:
    """``newAdmin`` -> ``new-admin``: an input as an option's name."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def _metavar(name: str) -> str:
    """``newAdmin`` -> ``NEW_ADMIN``: a positional argument as --help shows it."""
    return _kebab(name).upper().replace("-", "_")


def _dest(name: str) -> str:
    """Where click keeps an input's value: apart from the command's own (``account`` ...)."""
    return "in_" + _metavar(name).lower()


def _stem(name: str) -> str:
    """``reasonHash`` -> ``reason``: what a hashed input is called on the command line."""
    return _kebab(name.removesuffix("Hash"))


def _is_amount(name: str, kind: str = "uint256") -> bool:
    """An input or event field counted in a token's base units."""
    return kind == "uint256" and bool(AMOUNT.search(name))


def _params(call: Call, inputs: list[Any], docs: dict[str, str]) -> list[click.Parameter]:
    """The click parameters of ``call``, in the function's order (CONTRACT first if several)."""
    from scripts._lib.escrow import hashed_text_options, items_option, order_options

    params: list[click.Parameter] = []
    if len(call.contracts) > 1:
        choice = click.Choice(call.contracts)
        params.append(click.Argument(["contract"], type=choice, metavar="CONTRACT"))
    for item in inputs:
        name, kind, doc = item.name, item.type, docs.get(item.name, "")
        words = _stem(name).replace("-", " ")
        if name == TERMS:
            params += _click_params(order_options)
        elif name == IDENTITY:
            said = "The owner's legal id; only its HMAC under $TRUSTMALL_IDENTITY_KEY is sent."
            params.append(click.Option(["--identity"], help=said))
            params.append(click.Option(["--identity-hash"], help="Or its commitment (0x+64 hex)."))
        elif kind == "bytes32" and name.endswith("Hash"):
            params += _click_params(hashed_text_options(_stem(name), words))
        elif kind == "uint32" and name == ITEMS:
            params += _click_params(items_option(doc or "An item, 0-based (repeatable)."))
        elif name in call.arguments:
            params.append(click.Argument([_dest(name)], metavar=_metavar(name)))
        else:
            settings: dict[str, Any] = {"required": True, "help": doc}
            if _is_amount(name, kind):
                settings["help"] = f"{doc or words} (in whole tokens: 19.99)."
            elif kind.startswith("uint"):
                settings["type"] = click.IntRange(0, 2 ** int(kind[4:] or 256) - 1)
            elif kind == "bool":
                settings["type"] = click.BOOL
            params.append(click.Option([f"--{_kebab(name)}", _dest(name)], **settings))
    return params


def _click_params(decorate: Any) -> list[click.Parameter]:
    """The parameters a decorator adds, in the order --help shows them."""
    params: list[click.Parameter] = getattr(decorate(lambda: None), "__click_params__", [])
    return params[::-1]


def _value(item: Any, given: dict[str, Any], run: Run, order: Any, asset: Asset | None) -> Any:
    """The ABI value of one input, from what the command line gave."""
    from scripts._lib.escrow import bits_of, hashed_text

    name, kind, hint = item.name, item.type, _metavar(item.name)
    if name == TERMS:
        return order.terms.as_abi()
    if name == IDENTITY:
        text, digest = given.pop("identity"), given.pop("identity_hash")
        if (text is None) == (digest is None):
            raise chain.Stop("give exactly one of --identity and --identity-hash")
        if text is not None:
            return commitment(text, run.network)
        return chain.bytes32(digest, "--identity-hash")
    if kind == "bytes32" and name.endswith("Hash"):
        stem = _stem(name)
        keys = (f"{stem}{end}".replace("-", "_") for end in ("", "_file", "_hash"))
        return hashed_text(stem, *(given.pop(key) for key in keys))
    if kind == "uint32" and name == ITEMS:
        return bits_of(given.pop(ITEMS), order.terms.item_count, "--item")
    text = given.pop(_dest(name))
    if kind == "address":  # 0: the zero address, where the function gives it a meaning
        return ZERO_ADDRESS if text == "0" else parse_address(str(text), hint)
    if kind == "bytes32":
        role = ROLES.get(str(text).upper()) if name == "role" else None
        return role or chain.bytes32(str(text), hint)
    if _is_amount(name, kind) and asset is not None:
        return asset.parse(str(text), f"--{_kebab(name)}")
    if kind.startswith("uint") and isinstance(text, str):
        return chain.parsed(int, text, hint)
    return text


@cache
def _event_decoders() -> dict[bytes, EventDecoder]:
    """The events of every contract of the suite, by topic."""
    from ape import project

    decoders = (
        EventDecoder(entry.model_dump(mode="json", by_alias=True))
        for name in SUITE
        for entry in project.get_contract(name).contract_type.events
    )
    return {bytes.fromhex(d.topic[2:]): d for d in decoders}


def report(receipt: Any, what: str, then: str | None = None, asset: Asset | None = None) -> None:
    """What a transaction did, from its receipt's events (amounts in ``asset`` or their token)."""
    for log in receipt.logs:
        topics = [bytes(t) for t in log["topics"]]
        decoder = _event_decoders().get(topics[0]) if topics else None
        if decoder is None:
            continue
        args = decoder.decode(topics, bytes(log["data"]))
        paid_in = asset_of(str(args["token"])) if "token" in args else asset
        for key, value in args.items():
            if isinstance(value, dict | list | tuple):  # a struct: the command's own input
                args[key] = "(...)"
            elif paid_in is not None and _is_amount(key) and isinstance(value, int):
                args[key] = paid_in.fmt(value)
        click.echo(f"  {described(decoder.name, args)}")
    chain.done(what, receipt, then)


def add_calls(
    group: click.Group,
    calls: Iterable[Call],
    default_signer: int | None = 0,
    address: str | None = None,
) -> None:
    """A command in ``group`` for each of ``calls`` (``address``: e.g. ``escrow`` for --escrow)."""
    for call in calls:
        _add(group, call, default_signer, address)


def _add(group: click.Group, call: Call, default_signer: int | None, address: str | None) -> None:
    abi, notice, docs = _spec(call)
    inputs = list(abi.inputs)
    amounts = any(_is_amount(item.name, item.type) for item in inputs)

    def run_call(run: Run, **given: Any) -> None:
        from scripts._lib.escrow import session

        name = CONTRACTS[given.pop("contract", call.contracts[0])]
        asset = None
        if amounts and name in ("CreditVault", "CreditLines"):  # in the pool's stablecoin
            asset = asset_of(str(run.contract("CreditVault").asset()))
        # What the command line alone decides is checked before the order is read.
        values = {i.name: _value(i, given, run, None, asset) for i in inputs if i.name not in LATE}
        order = None
        if "order_file" in given:  # the function takes an escrow order's terms
            order = session(run, given.pop("order_file"), given.pop("order_id"))
            values |= {"order": order.flag, "orderId": order.view.order_id}
        values |= {i.name: _value(i, given, run, order, asset) for i in inputs if i.name in LATE}
        if order is not None and name == "OrderEscrow":  # the escrow the order was opened on
            contract = order.escrow.contract
        else:
            contract = run.contract(name, run.address)
        what = f"{name}.{call.function}"
        args = [values[item.name] for item in inputs]
        receipt = chain.send(run, getattr(contract, call.function), *args, what=what)
        if receipt is None:
            shown = {i.name: "(...)" if i.name == TERMS else values[i.name] for i in inputs}
            chain.dry_run_report(f"would send {described(what, shown)}")
            return
        then = call.then and call.then.format(**values)
        report(receipt, f"sent {what}", then, asset or (order.asset if order else None))

    listed = "\n".join(f"  {_metavar(a):<12} {docs[a]}" for a in call.arguments if docs.get(a))
    run_call.__doc__ = (call.help or notice or call.short_help) + (listed and f"\n\n\b\n{listed}")
    run_call.__name__ = call.name.replace("-", "_")
    built: Any = run_call
    built.__click_params__ = list(reversed(_params(call, inputs, docs)))
    chain.command(
        group, call.name, short_help=call.short_help, signer=f"Who sends it ({call.signer})",
        default_signer=default_signer, dry_run=True, address=address,
    )(built)  # fmt: skip
