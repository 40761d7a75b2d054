"""`ape run deploy`'s options turned into the suite's choices (``EscrowOptions``,
``CreditOptions``), each checked before anything is sent: durations within the contracts' limits,
tokens that hold code, attesters enough for the quorum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.deployments import load_record
from scripts._lib.signers import parse_address, test_account_address
from scripts._lib.suite import (
    ARBITRATION_PERIOD_LIMITS,
    DEFAULT_QUORUM,
    DISPUTE_WINDOW_LIMITS,
    ETH_TOKEN,
    SHIP_BY_HORIZON_LIMITS,
    CreditOptions,
)
from scripts._lib.units import format_duration, parse_amount, parse_duration

# The service's attester and the bureau's cosigner on local networks (tests, the demo).
LOCAL_ATTESTER_TEST_INDEXES = (6, 9)
DEV_STABLECOIN = "DevStablecoin"


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
    attesters and quorum, checked before anything is sent."""
    from ape import chain

    if stablecoin and dev_stablecoin:
        raise click.UsageError("give --stablecoin ADDRESS or --dev-stablecoin, not both")
    if dev_stablecoin and not network.is_local:
        raise click.UsageError(
            f"--dev-stablecoin deploys a faucet token for local devnets only, not on "
            f"{network.choice!r}: pass the stablecoin's address with --stablecoin"
        )
    if quorum == 1 and not network.is_local:
        raise click.BadParameter(
            f"one signature would let a single attester key open credit lines on "
            f"{network.choice!r}: quorum 1 is for local networks only",
            param_hint="--quorum",
        )
    record = load_record(directory, int(chain.chain_id))
    recorded = record.contracts if record is not None else {}
    dev = recorded.get(DEV_STABLECOIN)
    token: str | None = None
    if stablecoin:
        token = token_address(stablecoin, "--stablecoin")
    elif not dev_stablecoin and "CreditVault" in recorded:
        # Neither option: the credit part goes on with the recorded vault's stablecoin.
        token = str(recorded["CreditVault"].constructor_args[0])
    if token is not None and dev is not None and dev.address == token:
        token, dev_stablecoin = None, True  # the recorded DevStablecoin: keep it in the suite
    addresses = tuple(dict.fromkeys(parse_address(a, "--attester") for a in attesters))
    defaults: tuple[str, ...] = ()
    if network.is_local:
        defaults = tuple(test_account_address(i) for i in LOCAL_ATTESTER_TEST_INDEXES)
    options = CreditOptions(
        stablecoin=token,
        dev_stablecoin=dev_stablecoin,
        attesters=addresses,
        default_attesters=defaults,
        quorum=quorum,
        decimals=6 if dev_stablecoin or token is None else _decimals(token),
    )
    if not options.enabled:
        if attesters or quorum is not None:
            raise click.UsageError("--attester and --quorum need the credit part: add a stablecoin")
        return options
    if redeploy or "AttestationVerifier" not in recorded:
        count = len(addresses or defaults)
        wanted = quorum or DEFAULT_QUORUM
        if wanted > count:
            raise click.UsageError(
                f"the attestation verifier wants {wanted} signature(s) but has {count} "
                f"attester(s) on {network.choice!r}: add --attester ADDRESS"
                + (" (or --quorum 1 on a local network)" if network.is_local else "")
            )
    return options


def _decimals(token: str, option: str = "--stablecoin") -> int:
    from scripts._lib.escrow import erc20

    try:
        return int(erc20(token).decimals())
    except Exception:
        raise click.BadParameter(
            f"{token} answers no decimals(): not an ERC-20", param_hint=option
        ) from None


def _duration(text: str, option: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _within(seconds: int, limits: tuple[int, int], option: str) -> int:
    low, high = limits
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
    low = _within(_duration(low_text, option), DISPUTE_WINDOW_LIMITS, option)
    high = _within(_duration(high_text, option), DISPUTE_WINDOW_LIMITS, option)
    if low > high:
        raise click.BadParameter("MIN is longer than MAX", param_hint=option)
    return low, high


def arbitration_period(text: str | None) -> int | None:
    if text is None:
        return None
    option = "--arbitration-period"
    return _within(_duration(text, option), ARBITRATION_PERIOD_LIMITS, option)


def ship_by_horizon(text: str | None) -> int | None:
    if text is None:
        return None
    option = "--ship-by-horizon"
    return _within(_duration(text, option), SHIP_BY_HORIZON_LIMITS, option)


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
