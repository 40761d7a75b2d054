"""The scripts' chain toolkit: the command class and shared options, the signing account
(docs/scripts.md#accounts), contract handles, chain time and logs, and one simulate-then-send path
(:func:`send`) whose refusals are the contract's own custom errors in words: nothing here
re-checks a contract's rules. A stop exits 2 with one ``Error:`` line, or 1 once something went."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from ape.cli import AccountAliasPromptChoice, ConnectedProviderCommand
from ape_ethereum.provider import Web3Provider
from eth_utils.address import is_address, to_checksum_address

from app.chain.contracts import without_unused_middleware
from app.domain.abi_types import bytes32_hex, from_hex, hex32
from app.domain.deployments import DEPLOYMENTS_DIR_ENV, deployments_dir, load_record
from app.domain.errors import TrustMallError
from app.domain.networks import profile_of_ape_network
from app.domain.reverts import RevertDecoder, explain
from scripts._lib.network_rules import check_signer, profile, settle

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from ape.contracts.base import ContractInstance

# Where `make demo` keeps its deployment record: the scripts join the demo's chain with it.
DEMO_DEPLOYMENTS = "var/demo/deployments"
# The suite's contracts, and the short names commands take.
SUITE = ("ProductRegistry", "OrderEscrow", "AttestationVerifier", "CreditVault", "CreditLines")
SHORT = ("registry", "escrow", "verifier", "vault", "lines")
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
DRY_RUN_HELP = "Check, simulate, estimate gas; send nothing."
# What the running command has sent (transaction hashes), and the gas a dry run estimated.
_sent: list[str] = []
_gas: list[int] = []


class Stop(click.ClickException):
    """The run stops in one line: exit status 2 when nothing was sent, else 1 and how much was."""

    def __init__(self, message: str) -> None:
        if _sent and "sent before this" not in message:
            message += f" ({len(_sent)} transaction(s) were sent before this; see above)"
        super().__init__(message)
        self.exit_code = 1 if _sent else 2


def lean_provider(provider: Any) -> None:
    """A connected Ape provider's web3 without the middleware the project's clients go without
    (``app.chain.contracts.UNUSED_MIDDLEWARE``): one request per simulated call, not three."""
    if isinstance(provider, Web3Provider) and provider.is_connected:
        without_unused_middleware(provider.web3)


class Command(ConnectedProviderCommand):
    """Ape's connected command; any error that is not the command's own becomes one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except TrustMallError as exc:  # the domain's own errors carry whole messages
            raise Stop(str(exc)) from None
        except Exception as exc:  # a node that is not there, an RPC that refuses ...
            raise Stop(_unexpected(exc, ctx)) from None
        finally:  # a later command in this process starts with nothing sent
            del _sent[:], _gas[:]

    def _invoke(self, ctx: click.Context, provider: Any = None) -> Any:
        lean_provider(provider)
        result = super()._invoke(ctx, provider)
        if _sent:  # while the provider is still connected
            settle()
        return result


def _unexpected(exc: Exception, ctx: click.Context) -> str:
    text, name = _first_line(exc).rstrip("."), type(exc).__name__
    choice: Any = ctx.params.get("network")  # a provider; its network_choice may hold the URL
    net = getattr(choice, "network", None)
    network = f"{net.choice}:{choice.name}" if net is not None else str(choice or "the network")
    if any(word in name for word in ("Provider", "Connection", "Network", "NotInstalled")) or any(
        word in text.lower()
        for word in ("connect", "no node", "node found", "rpc", "provider", "uri")
    ):
        hint = (
            "start it first (`make chain`, or `make demo`), or pass --provider-settings "
            '\'{"uri": "http://HOST:PORT"}\''
            if ":local:" in network
            else f"set {rules.rpc_url_env} to its RPC URL"
            if (rules := profile_of_ape_network(network)) and rules.rpc_url_env
            else "give it an RPC URL in ape-config.yaml (node: ECOSYSTEM: NETWORK: uri: https://...)"
        )
        return f"cannot reach a node for {network} ({text}): {hint}"
    return f"{name}: {text}"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def stacked(*options: Decorator) -> Decorator:
    """The options' decorators as one, in the order --help lists them."""
    return lambda command: reduce(lambda built, option: option(built), reversed(options), command)


def signer_option(who: str | None = None, default: int | None = None) -> Decorator:
    """Ape's ``--account`` (an alias or TEST::N), never prompting, its help naming who signs."""
    said = f"TEST::N locally{f' (default TEST::{default})' if default is not None else ''}"
    help_text = f"{who or 'The signer'}: an Ape account alias or {said}; docs/scripts.md#accounts."
    return click.option("--account", type=AccountAliasPromptChoice(), help=help_text)


def resolve_account(
    account: AccountAPI | None, network: Any, *, default_test_index: int | None = None
) -> AccountAPI:
    """The signer: the given account, or test account ``default_test_index`` on a local network;
    the network's profile refuses kinds it does not take, keyfile accounts are unlocked once."""
    from ape import accounts
    from ape_accounts import KeyfileAccount

    if account is None and network.is_local and default_test_index is not None:
        account = accounts.test_accounts[default_test_index]
    if account is None:
        raise Stop(
            f"--account is required on network {network.choice!r}: an Ape account alias "
            "(`ape accounts list`)" + (" or TEST::N" if network.is_local else "")
        )
    check_signer(account)
    if isinstance(account, KeyfileAccount):
        passphrase = os.environ.get(f"APE_ACCOUNTS_{account.alias}_PASSPHRASE")
        account.set_autosign(True, passphrase=passphrase)
    return account


def parse_address(value: str, what: str) -> str:
    """A checksummed address (or ``TEST::N``'s, or an Ape alias's), else a stop naming ``what``."""
    from ape import accounts

    text = value.strip()
    if text.upper().startswith("TEST::") and text[6:].isdigit():
        return test_account_address(int(text[6:]))
    if is_address(text):
        return str(to_checksum_address(text))
    if text not in accounts.aliases:
        raise Stop(f"{what}: {value!r} is not an address (0x + 40 hex, TEST::N or an alias)")
    return str(accounts.load(text).address)


def test_account_address(index: int) -> str:
    from ape import accounts

    try:
        return str(accounts.test_accounts[index].address)
    except IndexError:
        raise Stop(f"there is no test account TEST::{index}") from None


deployments_dir_option: Decorator = click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Deployment records (default: ${DEPLOYMENTS_DIR_ENV} or deployments/; "
    f"beside `make demo`: {DEMO_DEPLOYMENTS}).",
)


@dataclass
class Run:
    """What a command works with: the network, the signer, the deployment record."""

    network: Any
    account: Any
    directory: Path | None
    address: str | None = None
    dry_run: bool = False
    default_signer: int | None = None

    @cached_property
    def signer(self) -> AccountAPI:
        return resolve_account(self.account, self.network, default_test_index=self.default_signer)

    @property
    def me(self) -> str:
        return str(self.signer.address)

    def record_block(self, name: str, address: str) -> int:
        """The block ``name`` was deployed in (where its logs begin), if recorded at ``address``."""
        entry = self._recorded(name)
        return entry.block_number if entry and entry.address == address else 0

    def _recorded(self, name: str) -> Any:
        from ape import chain

        record = load_record(deployments_dir(self.directory), chain.chain_id)
        return record.contracts.get(name) if record else None

    def contract(self, name: str, address: str | None = None) -> ContractInstance:
        """``name`` at ``address``, else as recorded for this chain in the deployments dir."""
        from ape import chain, project

        if address is None and (entry := self._recorded(name)) is None:
            raise Stop(
                f"no {name} recorded for chain {chain.chain_id} in "
                f"{deployments_dir(self.directory)}: run `ape run deploy`, or beside `make "
                f"demo` pass --deployments-dir {DEMO_DEPLOYMENTS}"
            )
        address = address or entry.address
        if not chain.provider.get_code(address):
            raise Stop(f"no contract code at {address} on chain {chain.chain_id}")
        instance: ContractInstance = project.get_contract(name).at(address)
        return instance


def command(
    group: click.Group,
    name: str | None = None,
    *,
    short_help: str,
    signer: str | None = None,
    default_signer: int | None = None,
    address: str | None = None,
    dry_run: bool = False,
) -> Decorator:
    """A command of ``group`` whose callback takes a :class:`Run` first, then its own options; it
    has --account and --deployments-dir, and when asked an address override and --dry-run."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def callback(network: Any, account: Any, deployments_dir: Path | None, **kw: Any) -> Any:
            given, dry = kw.pop("contract_address", None), kw.pop("dry_run", False)
            at = parse_address(given, f"--{address}") if given else None
            return fn(Run(network, account, deployments_dir, at, dry, default_signer), **kw)

        # Not functools.wraps: Ape reads the callback's own signature (`network`).
        callback.__doc__, callback.__name__ = fn.__doc__, fn.__name__
        built: Any = callback
        built.__click_params__ = list(getattr(fn, "__click_params__", []))
        if dry_run:
            built = click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)(built)
        if address:
            said = f"The {address} contract's address (default: the deployment record's)."
            built = click.option(f"--{address}", "contract_address", help=said)(built)
        built = signer_option(signer, default_signer)(deployments_dir_option(built))
        made: Callable[..., Any] = group.command(name, cls=Command, short_help=short_help)(built)
        return made

    return decorate


def now() -> int:
    """The latest block's time: what deadlines are compared with."""
    from ape import chain

    return int(chain.blocks.head.timestamp)


def logs(contract: Any, event: str, topics: Any = None, start: int = 0) -> list[Any]:
    """``event`` logs of ``contract`` from block ``start``, filtered by indexed arguments, from the
    provider: Ape's query manager would load its cache plugin, a second of every command's start."""
    from ape import chain
    from ape.types import LogFilter

    addresses, stop = [str(contract.address)], int(chain.blocks.height)
    found = LogFilter.from_event(getattr(contract, event), topics or None, addresses, start, stop)
    return list(chain.provider.get_contract_logs(found))


@cache
def decoder() -> RevertDecoder:
    """The errors of every contract of the suite (a call may reach the registry through another)."""
    from ape import project

    from scripts._lib.abi import abi_list

    names = (*SUITE, "DevStablecoin")
    return RevertDecoder(abi_list(project.get_contract(n).contract_type) for n in names)


def explain_data(data: bytes | str | None) -> str:
    return explain(decoder().decode(data))


def refusal(method: Any, *args: Any, sender: str | None = None, value: int = 0) -> str | None:
    """The contract's refusal of the call in words (``eth_call``, nothing is sent), or None."""
    data = "0x" + bytes(method.encode_input(*args)).hex()
    call: dict[str, Any] = {"to": str(method.contract.address), "data": data, "value": value}
    return simulated(call | ({"from": sender} if sender else {}))


def simulated(call: Any) -> str | None:
    """The refusal of ``call`` (``eth_call``; without ``to``, a deployment) in the contract's words,
    or None; through web3, as Ape decodes no error raised by another contract than the one asked."""
    from ape import chain
    from web3.exceptions import ContractLogicError, Web3RPCError

    from app.chain.reverts import revert_data

    try:
        chain.provider.web3.eth.call(call)
    except ContractLogicError as exc:
        found = revert_data(exc)
        return explain_data(found) if found else str(exc.message or exc)
    except (Web3RPCError, ValueError) as exc:  # the node refuses: e.g. too little ETH for value
        return f"the node refuses the call: {exc}"
    return None


def send(
    run: Run,
    method: Any,
    *args: Any,
    value: int = 0,
    what: str = "the transaction",
    journal: Any = None,
    keys: list[str] | None = None,
) -> Any:
    """Simulates the call as the signer (a refusal stops the run), then sends it and waits for the
    receipt (--dry-run: only estimates its gas); ``journal`` records the hash and the receipt."""
    from ape import chain
    from ape.exceptions import ApeException

    account = run.signer
    if (refused := refusal(method, *args, sender=str(account.address), value=value)) is not None:
        raise Stop(f"{what}: the contract refuses it: {refused}; nothing was sent")
    if run.dry_run:
        _gas.append(int(method.estimate_gas_cost(*args, sender=account, value=value)))
        return None
    try:
        txn = method.as_transaction(*args, sender=account, value=value, **profile().fees_wei())
        txn = account.prepare_transaction(txn)
        signed = account.sign_transaction(txn)
    except ApeException as exc:  # e.g. a wallet that cannot pay the value and the gas
        raise Stop(f"{what}: {_first_line(exc)}; nothing was sent") from None
    if signed is None:
        raise Stop(f"{account.address} declined to sign {what}")
    tx_hash = hex32(signed.txn_hash)
    if journal is not None:
        journal.sent(keys or [], tx_hash)
    _sent.append(tx_hash)
    try:
        receipt = chain.provider.send_transaction(signed)
    except ApeException as exc:
        reason = explain_data(str(exc)) if str(exc).startswith("0x") else _first_line(exc)
        raise click.ClickException(f"{what} failed (tx {tx_hash}): {reason}") from None
    if journal is not None:
        journal.chunk_confirmed(tx_hash, receipt.block_number)
    return receipt


def dry_run_report(what: str) -> None:
    """What a dry run would have sent: transactions and gas at today's price."""
    from ape import chain

    gas, price = sum(_gas), int(chain.provider.gas_price)
    click.echo(
        f"dry run: {what} in {len(_gas)} transaction(s); estimated gas {gas} "
        f"(~{gas * price / 1e18:.6f} ETH at {price / 1e9:.2f} gwei); nothing was sent"
    )
    click.echo("next: the same command without --dry-run sends it")


def done(what: str, receipt: Any, then: str | None = None, would: str | None = None) -> None:
    """What a transaction did and the command to run next; after a dry run, what it would send."""
    if receipt is None:
        dry_run_report(would or f"would send: {what}")
        return
    click.echo(f"{what} in tx {receipt.txn_hash} (block {receipt.block_number})")
    if then:
        click.echo(f"next: {then}")


def progress(total: int, label: str) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)


def bytes32(value: str, hint: str) -> bytes:
    return from_hex(parsed(bytes32_hex, value.strip(), hint))


def parsed(parse: Callable[[str], Any], text: str, hint: str) -> Any:
    """``parse(text)``, its ValueError as a one-line stop naming the option."""
    try:
        return parse(text)
    except ValueError as exc:
        raise Stop(f"{hint}: {exc}") from None


def writable(path: Path, hint: str, *, new: bool = False) -> Path:
    """Stops unless ``path`` can be written (missing folders are made when it is written)."""
    if new and path.exists():
        raise Stop(f"{hint}: {path} exists; it is never overwritten")
    if path.exists() and not path.is_file():
        raise Stop(f"{hint}: {path} is not a regular file")
    folder = next(parent for parent in path.parents if parent.exists())
    if not folder.is_dir():
        raise Stop(f"{hint}: cannot write {path}: {folder} is a file")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise Stop(f"{hint}: {path} is not writable")
    return path
