"""Durations, moments and token amounts as people type them, and back.

* Durations: ``90s``, ``30m``, ``36h``, ``7d``, ``2w``, combinations (``1d12h``), or bare seconds.
* Moments: a duration from now (``7d``, ``+7d``), an ISO-8601 time with offset
  (``2026-12-01T18:00:00Z``) or unix seconds after ``@`` (``@1798761600``). "Now" is the chain's
  latest block time, which may run ahead of the wall clock on a devnet.
* Amounts: a decimal number of whole tokens (``0.25`` ETH, ``19.99`` of a 6-decimals token),
  refused if it has more decimals than the token.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation, localcontext

UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> int:
    """Seconds in ``text`` (``7d``, ``1d12h``, ``3600``); ValueError if malformed."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    if not value or _PART.sub("", value):
        raise ValueError(f"{text!r} is not a duration: use e.g. 90m, 36h, 7d, 1d12h or seconds")
    return sum(int(n) * UNITS[unit] for n, unit in _PART.findall(value))


def parse_moment(text: str, now: int) -> int:
    """Unix seconds of ``text``: a duration after ``now``, ``@<unix>``, or ISO-8601 with offset."""
    value = text.strip()
    if value.startswith("@"):
        digits = value[1:]
        if not digits.isdigit():
            raise ValueError(f"{text!r}: after @ give unix seconds")
        return int(digits)
    if value.startswith("+"):
        return now + parse_duration(value[1:])
    if "T" in value or "-" in value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO-8601 time") from None
        if moment.tzinfo is None:
            raise ValueError(f"{text!r} has no UTC offset (add Z or +01:00)")
        return int(moment.timestamp())
    return now + parse_duration(value)


def format_duration(seconds: int) -> str:
    """``2d 3h``, ``45m``, ``0s``: the two largest units."""
    if seconds <= 0:
        return "0s"
    parts = []
    remaining = seconds
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


def format_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_moment(timestamp: int, now: int) -> str:
    """``2026-12-01T18:00:00Z (in 2d 3h)`` or ``(... ago)``."""
    delta = timestamp - now
    relation = f"in {format_duration(delta)}" if delta > 0 else f"{format_duration(-delta)} ago"
    return f"{format_time(timestamp)} ({relation})"


def parse_amount(text: str, decimals: int) -> int:
    """Base units of a decimal amount of whole tokens; ValueError if malformed or too precise."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{text!r}: the amount must be a positive number")
    with localcontext() as context:
        context.prec = 100
        units = value.scaleb(decimals)
    if units != units.to_integral_value():
        raise ValueError(f"{text!r} has more than {decimals} decimals")
    return int(units)


def format_amount(units: int, decimals: int, symbol: str, *, min_places: int = 0) -> str:
    """``0.25 ETH``: base units as a decimal number of whole tokens, no trailing zeros but for
    the first ``min_places`` decimals (``480.00 dUSD`` with two; never more than the token has)."""
    with localcontext() as context:
        context.prec = 100
        text = format(Decimal(units).scaleb(-decimals), "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(min(min_places, decimals), "0")
    return f"{whole}.{fraction} {symbol}" if fraction else f"{whole} {symbol}"
