"""`ape run deploy`: its options, read and checked before anything is sent (the limits the contracts
enforce are left to them), the steps of ``scripts/_lib/suite.py``, what the chain now holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from ape import chain, config

from app.domain.deployments import deployments_dir, load_record
from app.domain.units import format_duration, parse_duration
from scripts._lib.abi import abi_dir, compiled_abis, write_abis
from scripts._lib.assets import asset_of, erc20, parse_token
from scripts._lib.chain import (
    Command,
    Stop,
    parse_address,
    resolve_account,
    signer_option,
    test_account_address,
    writable,
)
from scripts._lib.credit import describe_policy
from scripts._lib.deployer import deploy_suite
from scripts._lib.network_rules import profile
from scripts._lib.suite import CreditOptions

HELP = """Deploy the TrustMall suite (with a stablecoin, the credit contracts too), grant its roles
and apply the admin settings, each transaction simulated first. A recorded deployment is reused
while its code is live and unchanged (--redeploy deploys anew); a setting left out keeps what a
reused contract holds. Roles, parties, defaults, files written: docs/scripts.md#deploy."""
# Local networks' test accounts: the parties', and the attesters' (the service's and the bureau's
# cosigner), with which the tests and the demo sign.
PARTIES = {"oracle": 1, "logistics_oracle": 8, "arbiter": 3}
LOCAL_ATTESTERS = (6, 9)
# Settings asked for, by their names on chain (the options' too); those recorded in seconds.
SETTINGS = ("feeBps", "feeRecipient", "disputeWindowBounds", "arbitrationPeriod", "shipByHorizon",
            "allowedTokens", "quorum")  # fmt: skip
DURATIONS = ("disputeWindowBounds", "arbitrationPeriod", "shipByHorizon", "redeemCooldown",
             "defaultAdminDelay")  # fmt: skip


def _reading(read: Callable[[str, str], Any]) -> Callable[..., Any]:
    """A click callback reading each text given with ``read(text, hint)``."""

    def callback(ctx: click.Context, param: Any, value: Any) -> Any:
        hint = param.opts[0] + (f" (${param.envvar})" if param.envvar else "")
        try:
            if param.multiple:
                return tuple(read(text, hint) for text in value)
            return None if value is None else read(value, hint)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    return callback


def _bounds(text: str, hint: str) -> list[int]:
    if len(parts := text.split(":")) != 2:
        raise ValueError("give MIN:MAX, e.g. 1d:30d")
    return [parse_duration(part) for part in parts]


def _floor(text: str, hint: str) -> tuple[str, str]:
    """``TOKEN=AMOUNT``: ETH or an address, and the amount, read later in the token's decimals."""
    token, sep, amount = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r}: give TOKEN=AMOUNT, e.g. ETH=0.001")
    return parse_token(token, hint), amount


ADDRESS: dict[str, Any] = {"metavar": "ADDRESS", "callback": _reading(parse_address)}
ADDRESSES = ADDRESS | {"multiple": True}
DURATION = {"metavar": "DURATION", "callback": _reading(lambda text, _: parse_duration(text))}
BOUNDS = {"metavar": "MIN:MAX", "callback": _reading(_bounds)}
FLOORS = {"metavar": "TOKEN=AMOUNT", "callback": _reading(_floor), "multiple": True}
FLAG, DIRECTORY = {"is_flag": True}, {"type": click.Path(file_okay=False, path_type=Path)}
ENV = {p: dict(ADDRESS, envvar=f"TRUSTMALL_{p.upper()}_ADDRESS", show_envvar=True) for p in PARTIES}


# (option names, how it is read, help) in the order --help lists them; "fresh": a fresh contract's.
OPTIONS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("--verifier", ADDRESS, "Receives VERIFIER_ROLE (default: the deployer)."),
    ("--oracle", ENV["oracle"], "The custody oracle (registry's ORACLE_ROLE)."),
    ("--logistics-oracle", ENV["logistics_oracle"], "Carriers' reports (escrow's ORACLE_ROLE)."),
    ("--arbiter", ENV["arbiter"], "Rules on disputes (escrow's ARBITER_ROLE)."),
    ("--fee-bps feeBps", {"type": click.IntRange(0, 65535)}, "Fee on releases in bps (fresh 100)."),
    ("--fee-recipient feeRecipient", ADDRESS, "Who is credited the fee (fresh: the deployer)."),
    ("--dispute-window-bounds disputeWindowBounds", BOUNDS, "Dispute windows (fresh 1d:30d)."),
    ("--arbitration-period arbitrationPeriod", DURATION, "Time an arbiter has (fresh 14d)."),
    ("--ship-by-horizon shipByHorizon", DURATION, "How far ahead a ship-by may lie (fresh 60d)."),
    ("--allow-token allowedTokens", ADDRESSES, "Allow-list an ERC-20 for payments (repeatable)."),
    ("--seller-record-floor sellerRecordFloors", FLOORS, "Smallest order seller records count, "
     "in whole tokens (repeatable; fresh ETH=0.001 and one stablecoin)."),
    ("--stablecoin", ADDRESS, "The credit pool's ERC-20, an existing token."),
    ("--dev-stablecoin", FLAG, "Local networks: deploy a faucet token (DevStablecoin) for it."),
    ("--attester attesters", ADDRESSES, "An attester's address (repeatable; local: TEST::6, 9)."),
    ("--quorum", {"type": click.IntRange(0)}, "Attesters who must sign (fresh 2; 1 locally only)."),
    ("--redeploy", FLAG, "Deploy anew even if a live deployment is recorded."),
    ("--deployments-dir", DIRECTORY, "Where <chain-id>.json goes ($TRUSTMALL_DEPLOYMENTS_DIR)."),
    ("--abi-dir", DIRECTORY, "Where the ABI files go (default: $TRUSTMALL_ABI_DIR or abi/)."),
)  # fmt: skip


def resolve_party(role: str, given: str | None, network: Any) -> str:
    """A party (see --help): the option or its variable, else ape-config.yaml's ``trustmall:``
    entry (an address, or one per network name), else a test account on a local network."""
    if given:
        return given
    flag = role.replace("_", "-")
    configured = config.get_config("trustmall").get(role)
    if isinstance(configured, dict):
        configured = configured.get(network.choice) or configured.get(network.name)
    if configured:
        return parse_address(str(configured), f"ape-config.yaml trustmall.{role}")
    if network.is_local:
        return test_account_address(PARTIES[role])
    raise click.UsageError(
        f"no {flag} address for network {network.choice!r}: pass --{flag}, set "
        f"TRUSTMALL_{role.upper()}_ADDRESS, or add `trustmall: {{{role}: {{<network>: "
        "<address>}}` to ape-config.yaml"
    )


def settings_asked(given: dict[str, Any]) -> dict[str, Any]:
    """The settings given, by their names on chain: tokens checked to hold code, floors read in
    their tokens' decimals (ETH's, or an ERC-20's holding code)."""
    if missing := [t for t in given["allowedTokens"] if not chain.provider.get_code(t)]:
        raise Stop(f"--allow-token: no contract code at {missing[0]}")
    floors = given["sellerRecordFloors"]
    parsed = {t: asset_of(t).parse(a, "--seller-record-floor") for t, a in floors}
    return {key: given[key] for key in SETTINGS} | {"sellerRecordFloors": parsed}


def credit_options(network: Any, directory: Path, given: dict[str, Any]) -> CreditOptions:
    """The credit part's stablecoin (given, a DevStablecoin, or the recorded vault's), its
    attesters."""
    stablecoin, dev_stablecoin = given["stablecoin"], given["dev_stablecoin"]
    if stablecoin and dev_stablecoin:
        raise click.UsageError("give --stablecoin ADDRESS or --dev-stablecoin, not both")
    if dev_stablecoin and not network.is_local:
        where = f"a faucet token for local devnets only, not on {network.choice!r}"
        raise click.UsageError(f"--dev-stablecoin deploys {where}: pass --stablecoin ADDRESS")
    if given["quorum"] == 1 and not network.is_local:  # the contract allows it; we must not
        why = f"one attester key alone would open credit lines on {network.choice!r}: quorum 1"
        raise click.BadParameter(f"{why} is for local networks only", param_hint="--quorum")
    record = load_record(directory, int(chain.chain_id))
    recorded = record.contracts if record is not None else {}
    if not stablecoin and not dev_stablecoin and "CreditVault" in recorded:
        stablecoin = str(recorded["CreditVault"].constructor_args[0])  # credit goes on with it
    if (dev := recorded.get("DevStablecoin")) is not None and dev.address == stablecoin:
        stablecoin, dev_stablecoin = None, True  # the recorded DevStablecoin stays in the suite
    if not stablecoin and not dev_stablecoin:
        if given["attesters"] or given["quorum"] is not None:
            raise click.UsageError("--attester and --quorum need the credit part: add a stablecoin")
        return CreditOptions()
    try:
        decimals = 6 if stablecoin is None else int(erc20(stablecoin).decimals())
    except Exception:
        raise Stop(f"--stablecoin: {stablecoin} answers no decimals(): not an ERC-20") from None
    local = tuple(test_account_address(i) for i in LOCAL_ATTESTERS) if network.is_local else ()
    attesters = tuple(dict.fromkeys(given["attesters"]))
    return CreditOptions(stablecoin, dev_stablecoin, attesters, local, decimals)


def _options(command: Any) -> Any:
    for names, settings, text in reversed(OPTIONS):
        command = click.option(*names.split(), **settings, help=text)(command)
    return signer_option("The deployer", 0)(command)


@click.command(cls=Command, help=HELP, short_help="Deploy the TrustMall suite")
@_options
def cli(network: Any, provider: Any, account: Any, **given: Any) -> None:
    deployer = resolve_account(account, network, default_test_index=0)
    parties: dict[str, Any] = {role: resolve_party(role, given[role], network) for role in PARTIES}
    directory = deployments_dir(given["deployments_dir"])
    abis, settings = abi_dir(given["abi_dir"]), settings_asked(given)
    credit = credit_options(network, directory, given)
    for folder, option in ((directory, "--deployments-dir"), (abis, "--abi-dir")):
        writable(folder / ".deploy-check", option)  # a record or ABI that cannot be written
    # A public network's record is committed: not Ape's choice, which holds a configured RPC URL
    # (often with its API key); a local one keeps it, a choice that reaches the node again.
    choice = f"{network.choice}:{provider.name}" if profile().public else provider.network_choice
    click.echo(f"network {choice}, deployer {deployer.address}")
    if not credit.enabled:
        click.echo("credit: left out (no stablecoin: --stablecoin ADDRESS or --dev-stablecoin)")
    outcome = deploy_suite(
        deployer,
        verifier=given["verifier"] or str(deployer.address),
        **parties,
        settings=settings,
        credit=credit,
        network_choice=choice,
        directory=directory,
        redeploy=given["redeploy"],
    )
    for name in write_abis(abis, compiled_abis()):
        click.echo(f"updated ABI {name}")
    state = "written" if outcome.changed else "unchanged"
    click.echo(f"deployment record {outcome.path} ({state})")
    _echo_record(outcome.record.contracts)
    click.echo(
        "next: a verifier onboards merchants (`ape run ops approve-merchant ADDRESS --name NAME "
        "--identity TEXT`); `make api` serves the oracle service against this record"
    )


def _shown(key: str, value: Any) -> str:
    """A recorded setting for people: durations, amounts in their token, lists."""
    if key == "sellerRecordFloors":
        return ", ".join(asset_of(token).fmt(units) for token, units in value.items()) or "none"
    if key in DURATIONS:
        return "-".join(format_duration(v) for v in (value if isinstance(value, list) else [value]))
    if key == "asset":
        return f"{asset_of(value).symbol} {value}"
    return (", ".join(value) or "none") if isinstance(value, list) else str(value)


def _echo_record(contracts: dict[str, Any]) -> None:
    for name, entry in contracts.items():
        shown = [f"{k} {_shown(k, v)}" for k, v in entry.settings.items() if k != "policy"]
        click.echo(f"{name} {entry.address}" + (f": {'; '.join(shown)}" if shown else ""))
    custody, logistics = (
        ", ".join(contracts[name].roles.get("ORACLE_ROLE", [])) or "none"
        for name in ("ProductRegistry", "OrderEscrow")
    )
    click.echo(f"custody oracle {custody}; logistics oracle {logistics}")
    if "CreditLines" in contracts:  # a fresh one was given the default policy
        fmt = asset_of(contracts["CreditVault"].settings["asset"]).fmt
        first, *rest = describe_policy(policy := contracts["CreditLines"].settings["policy"], fmt)
        click.echo("\n  ".join([f"Credit policy v{policy['version']}: {first}", *rest]))
