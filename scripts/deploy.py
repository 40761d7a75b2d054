"""`ape run deploy`: its options, read and checked before anything is sent (the limits the contracts
enforce are left to them), the steps of ``scripts/_lib/suite.py``, what the chain now holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from app.domain.deployments import deployments_dir as resolve_deployments_dir
from app.domain.deployments import load_record
from app.domain.units import format_duration, parse_amount, parse_duration
from scripts._lib.abi import abi_dir as resolve_abi_dir
from scripts._lib.abi import compiled_abis, write_abis
from scripts._lib.assets import asset_of, erc20, parse_token
from scripts._lib.chain import Command, parsed, writable
from scripts._lib.deployer import deploy_suite
from scripts._lib.policy import default_policy, describe_policy
from scripts._lib.signers import parse_address, resolve_account, signer_option, test_account_address
from scripts._lib.suite import CreditOptions, EscrowOptions

HELP = """Deploy the TrustMall suite (ProductRegistry, OrderEscrow and, with a stablecoin,
the credit contracts), grant its roles and apply the admin settings. Every transaction is
simulated first: one a contract refuses stops the run with the contract's error in words.

\b
The deployer (--account) holds DEFAULT_ADMIN_ROLE of every contract from its constructor.
It is never granted: a new admin takes it in two steps, 2 days apart (beginDefaultAdminTransfer
by the admin, then acceptDefaultAdminTransfer by the new one), so a reused contract whose
admin is another account stops the run (deploy with the admin, or --redeploy).
Roles granted (one key, one job):
  VERIFIER_ROLE  on ProductRegistry to --verifier
  ORACLE_ROLE    on ProductRegistry to the custody oracle (--oracle)
  ORACLE_ROLE    on OrderEscrow to the logistics oracle, carriers' reports (--logistics-oracle)
  ARBITER_ROLE   on OrderEscrow to the arbiter (--arbiter)
  ESCROW_ROLE    on ProductRegistry to OrderEscrow: orders hold their items, free them on
                 refunds and record them sold (an ORACLE_ROLE older suites gave it is revoked)
  CONSUMER_ROLE, LINE_ROLE, FUNDER_ROLE on the verifier, vault and escrow to CreditLines;
  POLICY_ROLE and RISK_ROLE on CreditLines to the deployer.
Each oracle and the arbiter is the first of: its option or variable; ape-config.yaml
  trustmall:
    oracle: {sepolia: "0x..."}   # or one address for all; logistics_oracle, arbiter alike
and on a local network test accounts 1, 8 and 3.

\b
A fresh contract gets the defaults the options name; on a reused one an option left out keeps
what the chain holds. Durations: 90m, 36h, 7d, 1d12h or seconds. Credit (AttestationVerifier,
CreditVault, CreditLines) comes with a stablecoin only: --stablecoin, --dev-stablecoin, else
the recorded CreditVault's; the vault is tied to it for life (another one deploys a new vault
and new lines). Its default policy, published with a fresh CreditLines (version 1), in whole
stablecoins: bands below the minimum are denied; an attestation older than the refresh
period puts a line on hold; a line unpaid that long after its due time defaults.
{policy}

\b
Output: <deployments-dir>/<chain-id>.json, each contract's address, tx hash, block, compiler,
roles and settings (fee, windows, tokens and floors; policy, attesters, quorum, pool asset,
cooldown; admin handover delay); <abi-dir>/<Contract>.json, the ABIs (`python -m
scripts._lib.abi [--check]` writes them without a chain).

A recorded deployment is reused while its address holds the recorded code and the
compiled contract is unchanged (OrderEscrow is deployed anew whenever ProductRegistry is,
CreditLines whenever the verifier, vault or escrow is); --redeploy deploys anew. Re-running
grants missing roles and applies changed settings; roles granted to a replaced contract of
the suite are revoked.
""".replace(
    "{policy}",
    "\n".join(f"  {line}" for line in describe_policy(default_policy(0).as_json(), "{:,}".format)),
)
# Local networks' test accounts: the parties', and the attesters' (the service's and the bureau's
# cosigner), with which the tests and the demo sign.
PARTIES = {"oracle": 1, "logistics-oracle": 8, "arbiter": 3}
LOCAL_ATTESTERS = (6, 9)
# Recorded settings in seconds.
DURATIONS = ("disputeWindowBounds", "arbitrationPeriod", "shipByHorizon", "redeemCooldown",
             "defaultAdminDelay")  # fmt: skip


def _reading(read: Callable[[str, str], Any]) -> Callable[..., Any]:
    """A click callback reading each text given with ``read(text, hint)``."""

    def callback(ctx: click.Context, param: Any, value: Any) -> Any:
        from_env = ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT
        hint = param.envvar if from_env else param.opts[0]
        try:
            if param.multiple:
                return tuple(read(text, hint) for text in value)
            return None if value is None else read(value, hint)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    return callback


def _bounds(text: str, hint: str) -> list[int]:
    low, sep, high = text.partition(":")
    if not sep:
        raise ValueError("give MIN:MAX, e.g. 1d:30d")
    return [parse_duration(low), parse_duration(high)]


def _floor(text: str, hint: str) -> tuple[str, str]:
    """``TOKEN=AMOUNT``: ETH or an address, and the amount, read later in the token's decimals."""
    token, sep, amount = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r}: give TOKEN=AMOUNT, e.g. ETH=0.001")
    return parse_token(token, hint), amount


ADDRESS: dict[str, Any] = {"metavar": "ADDRESS", "callback": _reading(parse_address)}
ADDRESSES: dict[str, Any] = ADDRESS | {"multiple": True}
DURATION: dict[str, Any] = {
    "metavar": "DURATION",
    "callback": _reading(lambda text, _: parse_duration(text)),
}
FLAG: dict[str, Any] = {"is_flag": True}
DIRECTORY: dict[str, Any] = {"type": click.Path(file_okay=False, path_type=Path)}


def _env(name: str) -> dict[str, Any]:
    return ADDRESS | {"envvar": f"TRUSTMALL_{name}_ADDRESS", "show_envvar": True}


# (option names, how it is read, help) in the order --help lists them; "fresh": a fresh contract's.
OPTIONS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("--verifier", ADDRESS, "Receives VERIFIER_ROLE (default: the deployer)."),
    ("--oracle", _env("ORACLE"), "The custody oracle (see above)."),
    ("--logistics-oracle", _env("LOGISTICS_ORACLE"), "The logistics oracle (see above)."),
    ("--arbiter", _env("ARBITER"), "The arbiter (see above)."),
    ("--fee-bps", {"type": click.IntRange(0, 2**16 - 1)}, "Platform fee on releases in basis "
     "points, at most 1000 (fresh 100 = 1%)."),
    ("--fee-recipient", ADDRESS, "Who is credited the fee (fresh: the deployer)."),
    ("--dispute-window-bounds", {"metavar": "MIN:MAX", "callback": _reading(_bounds)},
     "Dispute windows buyers may choose, within 1h-90d (fresh 1d:30d)."),
    ("--arbitration-period", DURATION, "Time an arbiter has to rule, 1d-90d (fresh 14d)."),
    ("--ship-by-horizon", DURATION, "How far ahead a new order's ship-by may lie, 1d-180d "
     "(fresh 60d): an unshipped order holds its items until then."),
    ("--allow-token allowed_tokens", ADDRESSES, "Allow-list an existing ERC-20 for payments "
     "(repeatable; never removed). ETH needs no entry."),
    ("--seller-record-floor seller_record_floors", {"multiple": True, "metavar": "TOKEN=AMOUNT",
     "callback": _reading(_floor)}, "The smallest order counted in seller records, in whole "
     "tokens of ETH or an ERC-20 (repeatable). Set once for a token the record has no floor "
     "for: ETH=0.001 and, with credit, one stablecoin."),
    ("--stablecoin", ADDRESS, "The credit pool's ERC-20, an existing token (allow-listed on the "
     "escrow)."),
    ("--dev-stablecoin", FLAG, "Local networks only: deploy DevStablecoin (dUSD, 6 decimals, "
     "minted by the deployer), a faucet token, and use it."),
    ("--attester attesters", ADDRESSES, "An attester's signing address (repeatable; added to a "
     "reused verifier). A fresh local one has test accounts 6 (the service) and 9 (the "
     "bureau's cosigner)."),
    ("--quorum", {"type": click.IntRange(1)}, "Signatures an attestation needs, up to the "
     "attesters' number (fresh 2). 1 on local networks only: one stolen key must not open "
     "credit lines."),
    ("--redeploy", FLAG, "Deploy anew even if a live deployment is recorded."),
    ("--deployments-dir", DIRECTORY, "Where <chain-id>.json goes (default: "
     "$TRUSTMALL_DEPLOYMENTS_DIR or deployments/)."),
    ("--abi-dir", DIRECTORY, "Where the ABI files go (default: $TRUSTMALL_ABI_DIR or abi/)."),
)  # fmt: skip


def resolve_party(role: str, given: str | None, network: Any) -> str:
    """A party (see --help): the option or its variable, else ape-config.yaml's ``trustmall:``
    entry (an address, or one per network name), else a test account on a local network."""
    if given:
        return given
    from ape import config

    key = role.replace("-", "_")
    configured = config.get_config("trustmall").get(key)
    if isinstance(configured, dict):
        configured = configured.get(network.choice) or configured.get(network.name)
    if configured:
        return parse_address(str(configured), f"ape-config.yaml trustmall.{key}")
    if network.is_local:
        return test_account_address(PARTIES[role])
    raise click.UsageError(
        f"no {role} address for network {network.choice!r}: pass --{role}, set "
        f"TRUSTMALL_{key.upper()}_ADDRESS, or add `trustmall: {{{key}: {{<network>: "
        "<address>}}` to ape-config.yaml"
    )


def _decimals(token: str, hint: str) -> int:
    try:
        return int(erc20(token).decimals())
    except Exception:
        raise click.BadParameter(
            f"{token} answers no decimals(): not an ERC-20", param_hint=hint
        ) from None


def escrow_options(given: dict[str, Any]) -> EscrowOptions:
    """The escrow's options, its tokens checked to hold code and floors read in their decimals."""
    from ape import chain

    for token in given["allowed_tokens"]:
        if not chain.provider.get_code(token):
            raise click.BadParameter(f"no contract code at {token}", param_hint="--allow-token")
    hint, floors = "--seller-record-floor", {}
    for token, amount in given["seller_record_floors"]:  # ETH, or an ERC-20 holding code
        places = asset_of(token).decimals
        floors[token] = parsed(partial(parse_amount, decimals=places), amount, hint)
    options = {f.name: given[f.name] for f in fields(EscrowOptions)}
    return EscrowOptions(**options | {"seller_record_floors": tuple(floors.items())})


def credit_options(network: Any, directory: Path, given: dict[str, Any]) -> CreditOptions:
    """The credit part's stablecoin (given, a DevStablecoin, or the recorded vault's), its
    attesters and quorum."""
    from ape import chain

    stablecoin, dev_stablecoin, quorum = (
        given["stablecoin"],
        given["dev_stablecoin"],
        given["quorum"],
    )
    if stablecoin and dev_stablecoin:
        raise click.UsageError("give --stablecoin ADDRESS or --dev-stablecoin, not both")
    if dev_stablecoin and not network.is_local:
        raise click.UsageError(
            f"--dev-stablecoin deploys a faucet token for local devnets only, not on "
            f"{network.choice!r}: pass the stablecoin's address with --stablecoin"
        )
    if quorum == 1 and not network.is_local:  # the contract allows it; a live network must not
        raise click.BadParameter(
            f"one signature would let a single attester key open credit lines on "
            f"{network.choice!r}: quorum 1 is for local networks only",
            param_hint="--quorum",
        )
    record = load_record(directory, int(chain.chain_id))
    recorded = record.contracts if record is not None else {}
    if not stablecoin and not dev_stablecoin and "CreditVault" in recorded:
        stablecoin = str(recorded["CreditVault"].constructor_args[0])  # credit goes on with it
    if (dev := recorded.get("DevStablecoin")) is not None and dev.address == stablecoin:
        stablecoin, dev_stablecoin = None, True  # the recorded DevStablecoin stays in the suite
    if not stablecoin and not dev_stablecoin:
        if given["attesters"] or quorum is not None:
            raise click.UsageError("--attester and --quorum need the credit part: add a stablecoin")
        return CreditOptions()
    local = tuple(test_account_address(i) for i in LOCAL_ATTESTERS) if network.is_local else ()
    decimals = 6 if stablecoin is None else _decimals(stablecoin, "--stablecoin")
    attesters = tuple(dict.fromkeys(given["attesters"]))
    return CreditOptions(stablecoin, dev_stablecoin, attesters, local, quorum, decimals)


def _options(command: Any) -> Any:
    for names, settings, text in reversed(OPTIONS):
        command = click.option(*names.split(), **settings, help=text)(command)
    return signer_option(
        "Deployer: an Ape account alias (for automation APE_ACCOUNTS_<ALIAS>_PASSPHRASE unlocks "
        "it), or TEST::N on a local network (default TEST::0 there). Never a raw key."
    )(command)


@click.command(cls=Command, help=HELP, short_help="Deploy the TrustMall suite")
@_options
def cli(network: Any, provider: Any, account: Any, **given: Any) -> None:
    deployer = resolve_account(account, network, default_test_index=0)
    oracle, logistics, arbiter = (
        resolve_party(role, given[role.replace("-", "_")], network) for role in PARTIES
    )
    directory = resolve_deployments_dir(given["deployments_dir"])
    abi_dir, escrow = resolve_abi_dir(given["abi_dir"]), escrow_options(given)
    credit = credit_options(network, directory, given)
    for folder, option in ((directory, "--deployments-dir"), (abi_dir, "--abi-dir")):
        writable(folder / ".deploy-check", option)  # a record or ABI that cannot be written
    click.echo(f"network {provider.network_choice}, deployer {deployer.address}")
    if not credit.enabled:
        click.echo("credit: left out (no stablecoin: --stablecoin ADDRESS or --dev-stablecoin)")
    outcome = deploy_suite(
        deployer,
        verifier=given["verifier"] or str(deployer.address),
        oracle=oracle,
        logistics_oracle=logistics,
        arbiter=arbiter,
        escrow=escrow,
        credit=credit,
        network_choice=provider.network_choice,
        directory=directory,
        redeploy=given["redeploy"],
    )
    for name in write_abis(abi_dir, compiled_abis()):
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
    if "CreditLines" not in contracts:
        return
    if (policy := contracts["CreditLines"].settings["policy"]) is None:
        click.echo("Credit policy: none published")
        return
    asset = asset_of(contracts["CreditVault"].settings["asset"])
    first, *rest = describe_policy(policy, asset.fmt)
    click.echo("\n  ".join([f"Credit policy v{policy['version']}: {first}", *rest]))
