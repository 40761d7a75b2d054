"""The credit policy as `ape run deploy` publishes and records it: ICreditPolicies.PolicyRules and
its tiers, the default policy of a fresh CreditLines, a policy file a risk officer writes
(`ape run ops publish-policy`), what it changes, and reading a published version back."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.domain.errors import TrustMallError
from app.domain.input_files import summary
from app.domain.units import format_duration, parse_amount, parse_duration

DAY = 86_400


@dataclass(frozen=True)
class Tier:
    """ICreditPolicies.Tier, in ABI order: limit and late fee in the stablecoin's base units,
    APR in basis points, term and grace period in seconds."""

    limit: int
    aprBps: int  # the contract's field names, as recorded
    term: int
    gracePeriod: int
    lateFee: int


@dataclass(frozen=True)
class CreditPolicy:
    """ICreditPolicies.PolicyRules and the tiers (``tiers[b]`` applies to band ``b``).

    ``capPeriod`` and ``periodCap`` bound the new principal all lines together may draw per
    window (windows aligned to multiples of ``capPeriod``); the contract refuses zero for either.
    """

    minBand: int  # the contract's field names, as recorded
    refreshPeriod: int
    defaultAfter: int
    walletDraws: bool
    capPeriod: int
    periodCap: int
    tiers: tuple[Tier, ...]

    def rules_abi(self) -> tuple[Any, ...]:
        return (
            self.minBand,
            self.refreshPeriod,
            self.defaultAfter,
            self.walletDraws,
            self.capPeriod,
            self.periodCap,
        )

    def tiers_abi(self) -> list[tuple[int, ...]]:
        return [(t.limit, t.aprBps, t.term, t.gracePeriod, t.lateFee) for t in self.tiers]

    def as_json(self) -> dict[str, Any]:
        """The policy as the deployment record keeps it (without its version)."""
        data = asdict(self)
        data["tiers"] = [asdict(t) for t in self.tiers]
        return data


# (limit, APR bps, term, grace period, late fee) per band, in whole stablecoins and seconds.
DEFAULT_TIERS: tuple[tuple[int, int, int, int, int], ...] = (
    (100, 3_600, 30 * DAY, 5 * DAY, 10),
    (500, 2_400, 30 * DAY, 5 * DAY, 15),
    (2_000, 1_800, 30 * DAY, 7 * DAY, 25),
    (5_000, 1_200, 60 * DAY, 7 * DAY, 25),
)
# New credit of all lines per window: a stolen attester key, or a flaw in the policy, can lend at
# most this much a day before someone reacts.
DEFAULT_CAP_PERIOD = 1 * DAY
DEFAULT_PERIOD_CAP = 50_000
DEFAULT_POLICY_HELP = """\
  band 0 (score < 580):  limit    100, APR 36%, term 30d, grace 5d, late fee 10
                         (below the minimum band 1: denied)
  band 1 (580-669):      limit    500, APR 24%, term 30d, grace 5d, late fee 15
  band 2 (670-739):      limit  2,000, APR 18%, term 30d, grace 7d, late fee 25
  band 3 (740-850):      limit  5,000, APR 12%, term 60d, grace 7d, late fee 25
  refresh period 30d (an older attestation puts the line on hold), default 60d
  after the due time, draws into escrow orders only (no wallet draws); all
  lines together draw at most 50,000 of new credit per day (capPeriod 1d,
  periodCap 50,000).
  Amounts in whole stablecoins (scaled to its decimals)."""


def default_policy(decimals: int) -> CreditPolicy:
    """The policy a fresh CreditLines is given, amounts scaled to the stablecoin's decimals.

    Bands follow app.domain.attestations' score table (300-850): band 0 (below 580) is under the
    minimum band and denied; 1 (580-669) a starter line; 2 (670-739) standard; 3 (740+) premium.
    Attestations keep a line drawable for 30 days; unpaid lines default 60 days after their due
    time; credit pays escrow orders only (no draws to the wallet); new credit is capped per day.
    """
    unit = 10**decimals
    return CreditPolicy(
        minBand=1,
        refreshPeriod=30 * DAY,
        defaultAfter=60 * DAY,
        walletDraws=False,
        capPeriod=DEFAULT_CAP_PERIOD,
        periodCap=DEFAULT_PERIOD_CAP * unit,
        tiers=tuple(
            Tier(limit * unit, apr_bps, term, grace, late_fee * unit)
            for limit, apr_bps, term, grace, late_fee in DEFAULT_TIERS
        ),
    )


def read_policy(lines: Any, version: int | None = None) -> dict[str, Any] | None:
    """A policy of a CreditLines (default: the current one) as JSON data with its version; None
    before the first or for an unknown version."""
    if version is None:
        version = int(lines.currentPolicyVersion())
    if version == 0 or version > int(lines.currentPolicyVersion()):
        return None
    rules = lines.policyRules(version)
    tiers = []
    for band in range(256):
        tier = lines.policyTier(version, band)
        if int(tier.term) == 0:  # published tiers have a term: the first without one ends them
            break
        tiers.append(
            Tier(
                int(tier.limit),
                int(tier.aprBps),
                int(tier.term),
                int(tier.gracePeriod),
                int(tier.lateFee),
            )
        )
    policy = CreditPolicy(
        int(rules.minBand),
        int(rules.refreshPeriod),
        int(rules.defaultAfter),
        bool(rules.walletDraws),
        int(rules.capPeriod),
        int(rules.periodCap),
        tuple(tiers),
    )
    return {"version": version, **policy.as_json()}


def policy_from_json(data: dict[str, Any]) -> CreditPolicy:
    fields = {k: v for k, v in data.items() if k not in ("version", "tiers")}
    return CreditPolicy(**fields, tiers=tuple(Tier(**t) for t in data["tiers"]))


def publish_policy(lines: Any, data: dict[str, Any], sender: Any) -> None:
    policy = policy_from_json(data)
    lines.publishPolicy(policy.rules_abi(), policy.tiers_abi(), sender=sender)


class _TierFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Decimal
    apr_bps: int = Field(ge=0)
    term: str
    grace_period: str
    late_fee: Decimal


class _PolicyFile(BaseModel):
    """A policy as a risk officer writes it (examples/policy.toml): amounts in whole stablecoins,
    durations like 30d; ``tiers[b]`` for score band ``b``."""

    model_config = ConfigDict(extra="forbid")

    min_band: int = Field(ge=0, le=255)
    refresh_period: str
    default_after: str
    wallet_draws: bool
    cap_period: str
    period_cap: Decimal
    tiers: list[_TierFile] = Field(min_length=1)


class PolicyFileError(TrustMallError, ValueError):
    """A policy file that cannot be read; the message names the file and what is wrong."""


def policy_from_toml(path: Path, decimals: int) -> CreditPolicy:
    """The policy a TOML file describes, amounts scaled to the stablecoin's ``decimals``. The
    contract checks its rules when it is published."""
    try:
        doc = _PolicyFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))

        def amount(value: Decimal) -> int:
            return parse_amount(str(value), decimals)

        return CreditPolicy(
            minBand=doc.min_band,
            refreshPeriod=parse_duration(doc.refresh_period),
            defaultAfter=parse_duration(doc.default_after),
            walletDraws=doc.wallet_draws,
            capPeriod=parse_duration(doc.cap_period),
            periodCap=amount(doc.period_cap),
            tiers=tuple(
                Tier(amount(t.limit), t.apr_bps, parse_duration(t.term),
                     parse_duration(t.grace_period), amount(t.late_fee))
                for t in doc.tiers
            ),
        )  # fmt: skip
    except OSError as exc:
        raise PolicyFileError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{path} is not TOML: {exc}") from None
    except ValidationError as exc:
        raise PolicyFileError(f"{path}: {summary(exc)}") from None
    except ValueError as exc:
        raise PolicyFileError(f"{path}: {exc}") from None


_DURATIONS = ("refreshPeriod", "defaultAfter", "capPeriod", "term", "gracePeriod")
_AMOUNTS = ("periodCap", "limit", "lateFee")


def policy_changes(
    current: dict[str, Any] | None, wanted: dict[str, Any], fmt: Callable[[int], str]
) -> list[str]:
    """What ``wanted`` changes from ``current`` (both as :meth:`CreditPolicy.as_json`), a line a
    difference: ``periodCap: 50,000 dUSD -> 60,000 dUSD``."""

    def shown(key: str, value: Any) -> str:
        if value is None:
            return "none"
        if key in _DURATIONS:
            return format_duration(int(value))
        if key in _AMOUNTS:
            return fmt(int(value))
        if key == "aprBps":
            return f"{int(value) / 100:g}%"
        return str(value).lower() if isinstance(value, bool) else str(value)

    old = current or {}
    changes = [
        f"{key}: {shown(key, old.get(key))} -> {shown(key, value)}"
        for key, value in wanted.items()
        if key != "tiers" and old.get(key) != value
    ]
    old_tiers, new_tiers = old.get("tiers", []), wanted["tiers"]
    for band in range(max(len(old_tiers), len(new_tiers))):
        before = old_tiers[band] if band < len(old_tiers) else {}
        after = new_tiers[band] if band < len(new_tiers) else {}
        if not after:
            changes.append(f"band {band}: removed")
        for key, value in after.items():
            if before.get(key) != value:
                changes.append(f"band {band} {key}: {shown(key, before.get(key))} -> "
                               f"{shown(key, value)}")  # fmt: skip
    return changes
