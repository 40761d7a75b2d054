"""`ape run deploy`'s options turned into the suite's choices, each checked before anything is
sent: the platform's parties, durations within the contracts' limits, tokens that hold code,
attesters enough for the quorum."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from app.domain.deployments import load_record
from app.domain.units import format_duration, parse_amount, parse_duration
from scripts._lib.signers import parse_address, test_account_address
from scripts._lib.suite import (
    ARBITRATION_PERIOD_LIMITS,
    DEFAULT_QUORUM,
    DISPUTE_WINDOW_LIMITS,
    ETH_TOKEN,
    SHIP_BY_HORIZON_LIMITS,
    CreditOptions,
)

# The platform's parties: the option, else the environment variable, else ape-config.yaml, else
# (on a local network) a test account. The attesters on a local network: the service's and the
# bureau's cosigner (tests and the demo sign with them).
PARTIES = {
    "oracle": ("TRUSTMALL_ORACLE_ADDRESS", 1),
    "logistics-oracle": ("TRUSTMALL_LOGISTICS_ORACLE_ADDRESS", 8),
    "arbiter": ("TRUSTMALL_ARBITER_ADDRESS", 3),
}
LOCAL_ATTESTER_TEST_INDEXES = (6, 9)


def resolve_party(role: str, explicit: str | None, network: Any) -> str:
    """The address of a platform party (a key of :data:`PARTIES`): ``--<role>``, else its
    variable, else ape-config.yaml's ``trustmall: <key>:`` (the role with ``_`` for ``-``; an
    address, or a map from network name to address), else a test account on a local network."""
    env, local_test_index = PARTIES[role]
    if explicit:
        return parse_address(explicit, f"--{role}")
    if value := os.environ.get(env):
        return parse_address(value, env)
    from ape import config

    key = role.replace("-", "_")
    configured = config.get_config("trustmall").get(key)
    if isinstance(configured, dict):
        configured = configured.get(network.choice) or configured.get(network.name)
    if configured:
        return parse_address(str(configured), f"ape-config.yaml trustmall.{key}")
    if network.is_local:
        return test_account_address(local_test_index)
    raise click.UsageError(
        f"no {role} address for network {network.choice!r}: pass --{role}, set {env}, "
        f"or add `trustmall: {{{key}: {{<network>: <address>}}}}` to ape-config.yaml"
    )


def credit_options(
    network: Any,
    directory: Path,
    stablecoin: str | None,
    dev_stablecoin: bool,
    attesters: tuple[str, ...],
    quorum: int | None,
    redeploy: bool,
) -> CreditOptions:
    """The credit part's stablecoin (given, a DevStablecoin, or the recorded vault's), its
    attesters and quorum."""
    from ape import chain

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
    token: str | None = None
    if stablecoin:
        token = token_address(stablecoin, "--stablecoin")
    elif not dev_stablecoin and "CreditVault" in recorded:
        # Neither option: the credit part goes on with the recorded vault's stablecoin.
        token = str(recorded["CreditVault"].constructor_args[0])
    dev = recorded.get("DevStablecoin")
    if token is not None and dev is not None and dev.address == token:
        token, dev_stablecoin = None, True  # the recorded DevStablecoin: keep it in the suite
    addresses = tuple(dict.fromkeys(parse_address(a, "--attester") for a in attesters))
    defaults: tuple[str, ...] = ()
    if network.is_local:
        defaults = tuple(test_account_address(i) for i in LOCAL_ATTESTER_TEST_INDEXES)
    options = CreditOptions(
        token, dev_stablecoin, addresses, defaults, quorum,
        decimals=6 if dev_stablecoin or token is None else _decimals(token),
    )  # fmt: skip
    if not options.enabled:
        if attesters or quorum is not None:
            raise click.UsageError("--attester and --quorum need the credit part: add a stablecoin")
        return options
    # A fresh verifier's constructor refuses a quorum above its attesters: said before the rest
    # of the suite is deployed.
    count, wanted = len(addresses or defaults), quorum or DEFAULT_QUORUM
    if (redeploy or "AttestationVerifier" not in recorded) and wanted > count:
        raise click.UsageError(
            f"the attestation verifier wants {wanted} signature(s) but has {count} "
            f"attester(s) on {network.choice!r}: add --attester ADDRESS"
            + (" (or --quorum 1 on a local network)" if network.is_local else "")
        )
    return options


def _decimals(token: str, option: str = "--stablecoin") -> int:
    from scripts._lib.assets import erc20

    try:
        return int(erc20(token).decimals())
    except Exception:
        raise click.BadParameter(
            f"{token} answers no decimals(): not an ERC-20", param_hint=option
        ) from None


LIMITS = {
    "--dispute-window-bounds": DISPUTE_WINDOW_LIMITS,
    "--arbitration-period": ARBITRATION_PERIOD_LIMITS,
    "--ship-by-horizon": SHIP_BY_HORIZON_LIMITS,
}


def duration(text: str | None, option: str) -> int | None:
    return None if text is None else _seconds(text, option)


def _seconds(text: str, option: str) -> int:
    """A duration option's seconds (90m, 36h, 7d, 1d12h or seconds), within its contract limits."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    low, high = LIMITS[option]
    if not low <= seconds <= high:
        raise click.BadParameter(
            f"{format_duration(seconds)} is outside the contract's limits "
            f"{format_duration(low)}-{format_duration(high)}",
            param_hint=option,
        )
    return seconds


def window_bounds(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    option = "--dispute-window-bounds"
    low_text, sep, high_text = text.partition(":")
    if not sep:
        raise click.BadParameter("give MIN:MAX, e.g. 1d:30d", param_hint=option)
    low, high = _seconds(low_text, option), _seconds(high_text, option)
    if low > high:
        raise click.BadParameter("MIN is longer than MAX", param_hint=option)
    return low, high


def token_address(text: str, option: str = "--allow-token") -> str:
    """An ERC-20: an address holding code (checked before anything is sent)."""
    from ape import chain

    address = parse_address(text, option)
    if not chain.provider.get_code(address):
        raise click.BadParameter(f"no contract code at {address}", param_hint=option)
    return address


def seller_record_floors(values: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """``TOKEN=AMOUNT`` pairs (TOKEN: ETH or an ERC-20 address; AMOUNT in whole tokens) as
    (token, base units)."""
    option = "--seller-record-floor"
    floors: dict[str, int] = {}
    for value in values:
        name, sep, amount = value.partition("=")
        if not sep:
            raise click.BadParameter(
                f"{value!r}: give TOKEN=AMOUNT, e.g. ETH=0.001", param_hint=option
            )
        if name.strip().upper() == "ETH":
            token, decimals = ETH_TOKEN, 18
        else:
            token = token_address(name, option)
            decimals = _decimals(token, option)
        try:
            floors[token] = parse_amount(amount.strip(), decimals)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}", param_hint=option) from None
    return tuple(floors.items())
