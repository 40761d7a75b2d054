"""The contracts `ape run deploy` deploys, in order, with their constructor arguments, roles,
role grants on other contracts of the suite, and admin settings.

To add a contract, append a :class:`ContractSpec`: its constructor may use the addresses of the
contracts deployed before it (``ctx.addresses``); list those in ``depends_on`` so that it is
deployed anew whenever one of them is, and in ``fixed_args`` the positions of constructor
arguments the contract can never change (a different value deploys it anew). ``roles``,
``grants`` and ``settings`` are evaluated once every contract of the suite has its address.
``enabled`` leaves a contract out of a run (the credit part needs a stablecoin).

The credit part (after OrderEscrow): DevStablecoin (local devnets only, on request), the
AttestationVerifier, the CreditVault of the stablecoin and the CreditLines, with the roles the
lines need on the others and a default policy (:data:`DEFAULT_POLICY`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

HOUR = 3_600
DAY = 86_400

# OrderEscrow's admin settings on a fresh deployment (the contract's own fee default is 0).
DEFAULT_FEE_BPS = 100
DEFAULT_DISPUTE_WINDOW_BOUNDS = (1 * DAY, 30 * DAY)
DEFAULT_ARBITRATION_PERIOD = 14 * DAY
# The limits EscrowConfig.sol enforces, checked before anything is sent.
MAX_FEE_BPS = 1_000
DISPUTE_WINDOW_LIMITS = (1 * HOUR, 90 * DAY)
ARBITRATION_PERIOD_LIMITS = (1 * DAY, 90 * DAY)


@dataclass(frozen=True)
class EscrowOptions:
    """The deployer's choices for OrderEscrow's admin settings. ``None`` keeps what a reused
    contract holds on chain; a freshly deployed one gets the defaults above. Allowed tokens add
    to the allow-list (nothing is removed)."""

    fee_bps: int | None = None
    fee_recipient: str | None = None
    dispute_window_bounds: tuple[int, int] | None = None
    arbitration_period: int | None = None
    allowed_tokens: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------- credit


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
    """ICreditPolicies.PolicyRules and the tiers (``tiers[b]`` applies to band ``b``)."""

    minBand: int  # the contract's field names, as recorded
    refreshPeriod: int
    defaultAfter: int
    walletDraws: bool
    tiers: tuple[Tier, ...]

    def rules_abi(self) -> tuple[Any, ...]:
        return (self.minBand, self.refreshPeriod, self.defaultAfter, self.walletDraws)

    def tiers_abi(self) -> list[tuple[int, ...]]:
        return [(t.limit, t.aprBps, t.term, t.gracePeriod, t.lateFee) for t in self.tiers]

    def as_json(self) -> dict[str, Any]:
        """The policy as the deployment record keeps it (without its version)."""
        data = asdict(self)
        data["tiers"] = [asdict(t) for t in self.tiers]
        return data


def default_policy(decimals: int) -> CreditPolicy:
    """The policy a fresh CreditLines is given, amounts scaled to the stablecoin's decimals.

    Bands follow app.domain.attestations' score table (300-850): band 0 (below 580) is under the
    minimum band and denied; 1 (580-669) a starter line; 2 (670-739) standard; 3 (740+) premium.
    Attestations keep a line drawable for 30 days; unpaid lines default 60 days after their due
    time; credit pays escrow orders only (no draws to the wallet).
    """
    unit = 10**decimals
    return CreditPolicy(
        minBand=1,
        refreshPeriod=30 * DAY,
        defaultAfter=60 * DAY,
        walletDraws=False,
        tiers=tuple(
            Tier(limit * unit, apr_bps, term, grace, late_fee * unit)
            for limit, apr_bps, term, grace, late_fee in DEFAULT_TIERS
        ),
    )


# (limit, APR bps, term, grace period, late fee) per band, in whole stablecoins and seconds.
DEFAULT_TIERS: tuple[tuple[int, int, int, int, int], ...] = (
    (100, 3_600, 30 * DAY, 5 * DAY, 10),
    (500, 2_400, 30 * DAY, 5 * DAY, 15),
    (2_000, 1_800, 30 * DAY, 7 * DAY, 25),
    (5_000, 1_200, 60 * DAY, 7 * DAY, 25),
)
DEFAULT_POLICY_HELP = """\
  band 0 (score < 580):  limit    100, APR 36%, term 30d, grace 5d, late fee 10
                         (below the minimum band 1: denied)
  band 1 (580-669):      limit    500, APR 24%, term 30d, grace 5d, late fee 15
  band 2 (670-739):      limit  2,000, APR 18%, term 30d, grace 7d, late fee 25
  band 3 (740-850):      limit  5,000, APR 12%, term 60d, grace 7d, late fee 25
  refresh period 30d (an older attestation puts the line on hold), default 60d
  after the due time, draws into escrow orders only (no wallet draws).
  Amounts in whole stablecoins (scaled to its decimals)."""


@dataclass(frozen=True)
class CreditOptions:
    """The deployer's choices for the credit part. It is deployed only with a stablecoin: an
    existing ERC-20 (``stablecoin``) or a DevStablecoin deployed for a local devnet
    (``dev_stablecoin``). ``attesters`` are added to the verifier (a fresh one starts with them,
    else with ``default_attesters``); ``quorum`` None keeps what the chain holds (a fresh
    verifier: 1). ``decimals`` are the stablecoin's, for the default policy's amounts."""

    stablecoin: str | None = None
    dev_stablecoin: bool = False
    attesters: tuple[str, ...] = ()
    default_attesters: tuple[str, ...] = ()
    quorum: int | None = None
    decimals: int = 6

    @property
    def enabled(self) -> bool:
        return self.dev_stablecoin or self.stablecoin is not None


@dataclass
class SuiteContext:
    """What constructor arguments, role grants and settings may depend on."""

    deployer: str
    verifier: str
    oracle: str
    arbiter: str
    escrow: EscrowOptions = field(default_factory=EscrowOptions)
    credit: CreditOptions = field(default_factory=CreditOptions)
    addresses: dict[str, str] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)
    """Contracts deployed anew in this run (filled in by the deployer)."""

    def stablecoin(self) -> str:
        """The credit pool's stablecoin: the given ERC-20, or the DevStablecoin of the suite."""
        if self.credit.dev_stablecoin:
            return self.addresses["DevStablecoin"]
        if self.credit.stablecoin is None:
            raise ValueError("the credit part needs a stablecoin")
        return self.credit.stablecoin


class Grant(NamedTuple):
    """A role on another contract of the suite: ``contract``'s ``role`` (its getter name)
    granted to ``account``."""

    contract: str
    role: str
    account: str


@dataclass(frozen=True)
class Setting:
    """An admin value the contract holds: read with ``getter()``, written with
    ``setter(*value)`` (a list value is spread over the setter's arguments).

    ``value`` None keeps what the chain holds, except right after a deployment, when
    ``default`` is applied (None: the constructor's value stands)."""

    key: str
    getter: str
    setter: str
    value: Any = None
    default: Any = None


@dataclass(frozen=True)
class AllowList:
    """Addresses the contract must allow: ``check(address)`` true, else
    ``setter(address, True)`` (``setter(address)`` when ``flag`` is False). Additive: addresses
    allowed before stay allowed."""

    key: str
    check: str
    setter: str
    addresses: tuple[str, ...] = ()
    flag: bool = True


@dataclass(frozen=True)
class Published:
    """A value the contract keeps in versions (a credit policy): ``read(instance)`` gives the
    current one as JSON data with its ``version`` (None before the first), ``publish(instance,
    value, sender)`` makes a new version current. ``value`` None keeps what the chain holds,
    except right after a deployment, when ``default`` is published."""

    key: str
    read: Callable[[Any], dict[str, Any] | None]
    publish: Callable[[Any, dict[str, Any], Any], None]
    role: str
    value: dict[str, Any] | None = None
    default: dict[str, Any] | None = None


Configuration = Setting | AllowList | Published


@dataclass(frozen=True)
class ContractSpec:
    """One deployable contract.

    ``roles`` maps a role's public getter name on the contract (``VERIFIER_ROLE``) to the
    addresses that must hold it; ``grants`` names roles on *other* contracts of the suite (the
    escrow needs the registry's ORACLE_ROLE). The deployer must be able to grant them
    (``DEFAULT_ADMIN_ROLE``) and to change ``settings``.
    """

    name: str
    constructor_args: Callable[[SuiteContext], list[Any]]
    roles: Callable[[SuiteContext], dict[str, list[str]]]
    depends_on: tuple[str, ...] = ()
    grants: Callable[[SuiteContext], list[Grant]] = lambda ctx: []
    settings: Callable[[SuiteContext], list[Configuration]] = lambda ctx: []
    enabled: Callable[[SuiteContext], bool] = lambda ctx: True
    fixed_args: tuple[int, ...] = ()


def _escrow_settings(ctx: SuiteContext) -> list[Configuration]:
    options = ctx.escrow
    bounds = options.dispute_window_bounds
    return [
        Setting("feeBps", "feeBps", "setFee", options.fee_bps, DEFAULT_FEE_BPS),
        Setting("feeRecipient", "feeRecipient", "setFeeRecipient", options.fee_recipient),
        Setting(
            "disputeWindowBounds",
            "disputeWindowBounds",
            "setDisputeWindowBounds",
            list(bounds) if bounds is not None else None,
            list(DEFAULT_DISPUTE_WINDOW_BOUNDS),
        ),
        Setting(
            "arbitrationPeriod",
            "arbitrationPeriod",
            "setArbitrationPeriod",
            options.arbitration_period,
            DEFAULT_ARBITRATION_PERIOD,
        ),
        AllowList("allowedTokens", "isTokenAllowed", "setTokenAllowed", _allowed_tokens(ctx)),
    ]


def _allowed_tokens(ctx: SuiteContext) -> tuple[str, ...]:
    """The tokens asked for, and the credit pool's stablecoin (orders paid with credit)."""
    tokens = ctx.escrow.allowed_tokens
    if ctx.credit.enabled:
        tokens = (*tokens, ctx.stablecoin())
    return tuple(dict.fromkeys(tokens))


def _verifier_settings(ctx: SuiteContext) -> list[Configuration]:
    options = ctx.credit
    attesters = options.attesters
    if not attesters and "AttestationVerifier" in ctx.fresh:
        attesters = options.default_attesters
    return [
        AllowList("attesters", "isAttester", "addAttester", attesters, flag=False),
        Setting("quorum", "quorum", "setQuorum", options.quorum),
        # Read only: attestations must carry it (every change above bumps it).
        Setting("attesterSetVersion", "attesterSetVersion", ""),
    ]


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
        tuple(tiers),
    )
    return {"version": version, **policy.as_json()}


def policy_from_json(data: dict[str, Any]) -> CreditPolicy:
    fields = {k: v for k, v in data.items() if k not in ("version", "tiers")}
    return CreditPolicy(**fields, tiers=tuple(Tier(**t) for t in data["tiers"]))


def _publish_policy(lines: Any, data: dict[str, Any], sender: Any) -> None:
    policy = policy_from_json(data)
    lines.publishPolicy(policy.rules_abi(), policy.tiers_abi(), sender=sender)


def _lines_settings(ctx: SuiteContext) -> list[Configuration]:
    default = default_policy(ctx.credit.decimals).as_json()
    return [Published("policy", read_policy, _publish_policy, "POLICY_ROLE", default=default)]


def _credit(ctx: SuiteContext) -> bool:
    return ctx.credit.enabled


SUITE: tuple[ContractSpec, ...] = (
    ContractSpec(
        name="ProductRegistry",
        constructor_args=lambda ctx: [ctx.deployer],
        roles=lambda ctx: {
            "DEFAULT_ADMIN_ROLE": [ctx.deployer],
            "VERIFIER_ROLE": [ctx.verifier],
            "ORACLE_ROLE": [ctx.oracle],
        },
    ),
    ContractSpec(
        name="OrderEscrow",
        # OrderEscrow(admin, registry, feeRecipient)
        constructor_args=lambda ctx: [
            ctx.deployer,
            ctx.addresses["ProductRegistry"],
            ctx.escrow.fee_recipient or ctx.deployer,
        ],
        roles=lambda ctx: {
            "DEFAULT_ADMIN_ROLE": [ctx.deployer],
            "ARBITER_ROLE": [ctx.arbiter],
            "ORACLE_ROLE": [ctx.oracle],
        },
        depends_on=("ProductRegistry",),
        # Releases record "sold" custody events in the registry.
        grants=lambda ctx: [
            Grant("ProductRegistry", "ORACLE_ROLE", ctx.addresses["OrderEscrow"]),
        ],
        settings=_escrow_settings,
    ),
    ContractSpec(
        name="DevStablecoin",
        # DevStablecoin(admin): a devnet faucet token, local networks only.
        constructor_args=lambda ctx: [ctx.deployer],
        roles=lambda ctx: {"DEFAULT_ADMIN_ROLE": [ctx.deployer], "MINTER_ROLE": [ctx.deployer]},
        enabled=lambda ctx: ctx.credit.dev_stablecoin,
    ),
    ContractSpec(
        name="AttestationVerifier",
        # AttestationVerifier(admin, attesters, quorum)
        constructor_args=lambda ctx: [
            ctx.deployer,
            list(ctx.credit.attesters or ctx.credit.default_attesters),
            ctx.credit.quorum or 1,
        ],
        roles=lambda ctx: {"DEFAULT_ADMIN_ROLE": [ctx.deployer]},
        settings=_verifier_settings,
        enabled=_credit,
    ),
    ContractSpec(
        name="CreditVault",
        # CreditVault(stablecoin, admin): the stablecoin is fixed for the vault's life.
        constructor_args=lambda ctx: [ctx.stablecoin(), ctx.deployer],
        roles=lambda ctx: {"DEFAULT_ADMIN_ROLE": [ctx.deployer]},
        depends_on=("DevStablecoin",),
        settings=lambda ctx: [Setting("asset", "asset", "")],
        enabled=_credit,
        fixed_args=(0,),
    ),
    ContractSpec(
        name="CreditLines",
        # CreditLines(admin, verifier, vault, escrow)
        constructor_args=lambda ctx: [
            ctx.deployer,
            ctx.addresses["AttestationVerifier"],
            ctx.addresses["CreditVault"],
            ctx.addresses["OrderEscrow"],
        ],
        roles=lambda ctx: {
            "DEFAULT_ADMIN_ROLE": [ctx.deployer],
            "POLICY_ROLE": [ctx.deployer],
            "RISK_ROLE": [ctx.deployer],
        },
        depends_on=("AttestationVerifier", "CreditVault", "OrderEscrow"),
        # Lines spend attestations, lend from the vault and open escrow orders as their payer.
        grants=lambda ctx: [
            Grant("AttestationVerifier", "CONSUMER_ROLE", ctx.addresses["CreditLines"]),
            Grant("CreditVault", "LINE_ROLE", ctx.addresses["CreditLines"]),
            Grant("OrderEscrow", "FUNDER_ROLE", ctx.addresses["CreditLines"]),
        ],
        settings=_lines_settings,
        enabled=_credit,
    ),
)

DEPLOYABLE: tuple[str, ...] = tuple(spec.name for spec in SUITE)
