"""Commands made from a contract function itself: options from the function's ABI inputs, help
from the NatSpec its interface carries (``@notice``, ``@dev``, ``@param``), the call simulated and
sent through the one path (``scripts._lib.chain.send``), and what it did read back from the
events of its receipt. A command here is a row (:class:`Call`), not a function: the words a user
reads about a rule are the contract's own, so they cannot drift from it.

How an input is given, by its ABI type and name:
  address           an address, or TEST::N on a local network
  uintN             an integer
  bool              true or false
  bytes32 ...Hash   ``--X TEXT``, ``--X-file FILE`` (keccak256 of it is sent) or ``--X-hash 0x..``
  bytes32 role      a role's name (VERIFIER_ROLE, DEFAULT_ADMIN_ROLE ...) or 0x + 64 hex
  bytes32           0x + 64 hex
  string            text
  uint32 items      ``--item INDEX`` (repeatable): some of the order's items, as a bitmap
  uint256 amount    in whole tokens of the order's token, or the credit pool's stablecoin
  tuple terms       the escrow order: ``--order 0xID`` or ``--order-file FILE``
Inputs named in ``Call.arguments`` are positional arguments; the others are options. What a
command did is printed from its receipt's events, amounts in the token they are paid in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import click

from app.domain.reverts import ROLE_NAMES, described
from app.domain.units import parse_amount
from app.index.decoding import EventDecoder
from scripts._lib import chain
from scripts._lib.assets import Asset
from scripts._lib.chain import Run
from scripts._lib.signers import parse_address

# The suite's contracts by the short names commands take.
CONTRACTS = {
    "registry": "ProductRegistry",
    "escrow": "OrderEscrow",
    "verifier": "AttestationVerifier",
    "vault": "CreditVault",
    "lines": "CreditLines",
}
ROLES = {name: role for role, name in ROLE_NAMES.items()}
TERMS, ITEMS = "terms", "items"
LATE = (TERMS, ITEMS)  # inputs read with the order
# Inputs and event fields counted in a token's base units, by name.
AMOUNT = re.compile(
    r"(?:^|[a-z])(?:[Aa]mount|[Aa]ssets|[Pp]rincipal|[Ii]nterest|[Ff]ees?|[Rr]efund|[Ss]urplus"
    r"|[Ii]ncome|Total)$"
)


@dataclass(frozen=True)
class Call:
    """A command that sends one contract function. ``contracts`` (short names) is one contract,
    or several: then the command takes which as its first argument (CONTRACT). ``signer`` says
    who may send it, for --account's help; the contract decides."""

    name: str
    contracts: tuple[str, ...]
    function: str
    signer: str
    short_help: str
    arguments: tuple[str, ...] = ()
    then: str | None = None  # may name inputs ({carrier}) and the order ({order})
    help: str | None = None  # for functions whose NatSpec is a library's (OpenZeppelin's)
    options: dict[str, str] | None = None  # help of inputs whose NatSpec says too little


@cache
def _contract_type(name: str) -> Any:
    from ape import project

    return project.get_contract(name).contract_type


def _function(name: str, function: str) -> dict[str, Any]:
    for entry in _contract_type(name).abi:
        if entry.type == "function" and entry.name == function:
            data: dict[str, Any] = entry.model_dump(mode="json", by_alias=True)
            return data
    raise LookupError(f"{name} has no function {function}")


def _signature(abi: dict[str, Any]) -> str:
    def kind(item: dict[str, Any]) -> str:
        if item["type"].startswith("tuple"):
            inner = ",".join(kind(c) for c in item["components"])
            return f"({inner}){item['type'][5:]}"
        return str(item["type"])

    return f"{abi['name']}({','.join(kind(i) for i in abi['inputs'])})"


def natspec(name: str, function: str) -> tuple[str, dict[str, str]]:
    """The function's ``@notice`` and ``@dev`` as one text, and its ``@param`` texts."""
    contract_type = _contract_type(name)
    signature = _signature(_function(name, function))
    user = ((contract_type.userdoc or {}).get("methods") or {}).get(signature) or {}
    dev = ((contract_type.devdoc or {}).get("methods") or {}).get(signature) or {}
    text = " ".join(part for part in (user.get("notice"), dev.get("details")) if part)
    return _spaced(text), {k: _spaced(v) for k, v in (dev.get("params") or {}).items()}


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _kebab(name: str) -> str:
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


def _int_type(abi_type: str) -> click.IntRange:
    bits = int(abi_type.removeprefix("uint") or 256)
    return click.IntRange(0, 2**bits - 1)


def _is_amount(name: str, kind: str = "uint256") -> bool:
    """An input or event field counted in a token's base units."""
    return kind == "uint256" and bool(AMOUNT.search(name))


def _params(call: Call) -> list[click.Parameter]:
    """The click parameters of ``call``, in the function's order (CONTRACT first if several)."""
    from scripts._lib.escrow import hashed_text_options, order_options

    abi = _function(CONTRACTS[call.contracts[0]], call.function)
    _, docs = natspec(CONTRACTS[call.contracts[0]], call.function)
    docs |= call.options or {}
    params: list[click.Parameter] = []
    if len(call.contracts) > 1:
        choice = click.Choice(call.contracts)
        params.append(click.Argument(["contract"], type=choice, metavar="CONTRACT"))
    for item in abi["inputs"]:
        name, kind, doc = item["name"], item["type"], docs.get(item["name"], "")
        if name == TERMS:
            params += _click_params(order_options)
        elif kind == "bytes32" and name.endswith("Hash"):
            params += _click_params(hashed_text_options(_stem(name), _words(name)))
        elif kind == "uint32" and name == ITEMS:
            params.append(click.Option(
                ["--item", _dest(name)], type=int, multiple=True, required=True,
                metavar="INDEX", help=doc or "An item of the order, 0-based (repeatable).",
            ))  # fmt: skip
        elif name in call.arguments:
            params.append(click.Argument([_dest(name)], metavar=_metavar(name)))
        else:
            settings: dict[str, Any] = {"required": True, "help": doc}
            if _is_amount(name, kind):
                settings["help"] = f"{doc or _words(name)} (in whole tokens: 19.99)."
            elif kind.startswith("uint"):
                settings["type"] = _int_type(kind)
            elif kind == "bool":
                settings["type"] = click.BOOL
            elif kind not in ("address", "bytes32", "string"):
                raise TypeError(f"{call.function}: no option for ABI type {kind}")
            params.append(click.Option([f"--{_kebab(name)}", _dest(name)], **settings))
    return params


def _click_params(decorate: Any) -> list[click.Parameter]:
    """The parameters a decorator adds, in the order --help shows them."""
    params: list[click.Parameter] = getattr(decorate(lambda: None), "__click_params__", [])
    return params[::-1]


def _words(name: str) -> str:
    return _kebab(name.removesuffix("Hash")).replace("-", " ")


def _value(item: dict[str, Any], given: dict[str, Any], order: Any, asset: Asset | None) -> Any:
    """The ABI value of one input, from what the command line gave."""
    from scripts._lib.escrow import bits_of, hashed_text

    name, kind = item["name"], item["type"]
    if name == TERMS:
        return order.terms.as_abi()
    if kind == "bytes32" and name.endswith("Hash"):
        stem = _stem(name).replace("-", "_")
        text, file, digest = (given.pop(f"{stem}{end}") for end in ("", "_file", "_hash"))
        return hashed_text(_stem(name), text, file, digest)
    text = given.pop(_dest(name))
    if kind == "uint32" and name == ITEMS:
        return bits_of(text, order.terms.item_count, "--item")
    if kind == "address":
        return parse_address(str(text), name.upper())
    if kind == "bytes32":
        if name == "role" and str(text).upper() in ROLES:
            return ROLES[str(text).upper()]
        return chain.bytes32(str(text), name.upper())
    if _is_amount(name, kind) and asset is not None:
        decimals = asset.decimals
        return chain.parsed(lambda t: parse_amount(t, decimals), str(text), f"--{_kebab(name)}")
    if kind.startswith("uint") and isinstance(text, str):
        return chain.parsed(int, text, name.upper())
    return text


@cache
def _event_decoders() -> dict[bytes, EventDecoder]:
    """The events of every contract of the suite, by topic."""
    decoders = (
        EventDecoder(entry.model_dump(mode="json", by_alias=True))
        for name in CONTRACTS.values()
        for entry in _contract_type(name).abi
        if entry.type == "event"
    )
    return {bytes.fromhex(d.topic[2:]): d for d in decoders}


def told(receipt: Any, asset: Asset | None = None) -> list[str]:
    """What a transaction did, from the suite's events in its receipt: amounts in ``asset``
    (or in the ``token`` an event names)."""
    from scripts._lib.assets import asset_of

    found = []
    for log in receipt.logs:
        topics = [bytes(t) for t in log["topics"]]
        decoder = _event_decoders().get(topics[0]) if topics else None
        if decoder is None:
            continue
        # A struct (an order's terms, a policy) is the command's own input: not said again.
        args = {
            k: "(...)" if isinstance(v, dict | list | tuple) else v
            for k, v in decoder.decode(topics, bytes(log["data"])).items()
        }
        paid_in = asset_of(str(args["token"])) if "token" in args else asset
        if paid_in is not None:
            args = {k: paid_in.fmt(v) if _is_amount(k) and isinstance(v, int) else v
                    for k, v in args.items()}  # fmt: skip
        found.append(described(decoder.name, args))
    return found


def report(receipt: Any, what: str, then: str | None = None, asset: Asset | None = None) -> None:
    """The receipt's events, then what was sent and the command to run next."""
    for line in told(receipt, asset):
        click.echo(f"  {line}")
    chain.done(what, receipt, then)


def add_calls(
    group: click.Group,
    calls: Iterable[Call],
    default_signer: int | None = 0,
    address: str | None = None,
) -> None:
    """Adds a command to ``group`` for each of ``calls`` (``address``: an option overriding
    the recorded contract's address, e.g. ``escrow``)."""
    for call in calls:
        _add(group, call, default_signer, address)


def _asset(run: Run, name: str) -> Asset | None:
    """What the call's amounts are counted in: the credit pool's stablecoin."""
    from scripts._lib.assets import asset_of

    if name in ("CreditVault", "CreditLines"):
        vault = run.contract("CreditVault")
        return asset_of(str(vault.asset()))
    return None


def _add(group: click.Group, call: Call, default_signer: int | None, address: str | None) -> None:
    def run_call(run: Run, **given: Any) -> None:
        from scripts._lib.escrow import session

        short = given.pop("contract", call.contracts[0])
        name = CONTRACTS[short]
        abi = _function(name, call.function)
        inputs = abi["inputs"]
        amounts = any(_is_amount(item["name"], item["type"]) for item in inputs)
        asset = _asset(run, name) if amounts else None
        # What the command line alone decides is checked before the order is read.
        early = {i["name"]: _value(i, given, None, asset) for i in inputs if i["name"] not in LATE}
        order = None
        if any(item["name"] == TERMS for item in inputs):
            order = session(run, given.pop("order_file"), given.pop("order_id"))
        args = [
            early[i["name"]] if i["name"] in early else _value(i, given, order, asset)
            for i in inputs
        ]
        if order is not None and name == "OrderEscrow":  # the escrow the order was opened on
            contract = order.escrow.contract
        else:
            contract = run.contract(name, run.address)
        what = f"{name}.{call.function}"
        receipt = chain.send(run, getattr(contract, call.function), *args, what=what)
        if receipt is None:
            chain.dry_run_report(f"would send {what}")
            return
        named = {item["name"]: arg for item, arg in zip(inputs, args, strict=True)}
        if order is not None:
            named |= {"order": order.flag, "orderId": order.view.order_id}
        then = call.then and call.then.format(**named)
        report(receipt, f"sent {what}", then, asset or (order.asset if order else None))

    notice, docs = natspec(CONTRACTS[call.contracts[0]], call.function)
    text = call.help or notice or call.short_help
    listed = [
        f"  {_kebab(a).upper().replace('-', '_'):<12} {docs[a]}"
        for a in call.arguments
        if docs.get(a)
    ]
    run_call.__doc__ = text + ("\n\n\b\n" + "\n".join(listed) if listed else "")
    run_call.__name__ = call.name.replace("-", "_")
    built: Any = run_call
    built.__click_params__ = list(reversed(_params(call)))
    signer = f"Who sends it ({call.signer}): an Ape account alias, or TEST::N locally."
    chain.command(
        group, call.name, short_help=call.short_help, signer=signer,
        default_signer=default_signer, dry_run=True, address=address,
    )(built)  # fmt: skip
