"""The credit policy as `ape run deploy` publishes and records it: ICreditPolicies.PolicyRules and
its tiers, the default policy of a fresh CreditLines, and reading a published version back."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

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
