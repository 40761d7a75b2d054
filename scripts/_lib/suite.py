"""The contracts `ape run deploy` deploys, in order, with their constructor arguments, roles,
role grants on other contracts of the suite, and admin settings.

To add a contract, append a :class:`ContractSpec`: its constructor may use the addresses of the
contracts deployed before it (``ctx.addresses``); list those in ``depends_on`` so that it is
deployed anew whenever one of them is, and in ``fixed_args`` the positions of constructor
arguments the contract can never change (a different value deploys it anew). ``roles``,
``grants``, ``revokes`` and ``settings`` are evaluated once every contract of the suite has its
address. ``enabled`` leaves a contract out of a run (the credit part needs a stablecoin).

Keys are kept apart: the registry's ORACLE_ROLE goes to the custody oracle, the escrow's to a
separate logistics oracle, and the escrow reaches the registry through ESCROW_ROLE only (hold,
free and sell its orders' items), never through the registry's ORACLE_ROLE.

The credit part (after OrderEscrow): DevStablecoin (local devnets only, on request), the
AttestationVerifier, the CreditVault of the stablecoin and the CreditLines, with the roles the
lines need on the others and a default policy (:func:`scripts._lib.policy.default_policy`).

Every contract but DevStablecoin uses OpenZeppelin's AccessControlDefaultAdminRules: the deployer
holds DEFAULT_ADMIN_ROLE from the constructor, and the role can never be granted, only handed over
in two steps (see ``scripts/_lib/deployer.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scripts._lib.policy import default_policy, publish_policy, read_policy

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
SHIP_BY_HORIZON_LIMITS = (1 * DAY, 180 * DAY)
# The smallest order (in base units) that counts in seller records, on a fresh escrow: 0.001 ETH,
# and one whole stablecoin for the credit pool's stablecoin. Dust orders cannot pad a record.
ETH_TOKEN = "0x0000000000000000000000000000000000000000"
DEFAULT_ETH_SELLER_RECORD_FLOOR = 10**15
DEFAULT_STABLECOIN_SELLER_RECORD_FLOOR = 1  # whole stablecoins, scaled to its decimals
# Signatures a fresh AttestationVerifier wants: no single attester key can open a line.
DEFAULT_QUORUM = 2


@dataclass(frozen=True)
class EscrowOptions:
    """The deployer's choices for OrderEscrow's admin settings. ``None`` keeps what a reused
    contract holds on chain; a freshly deployed one gets the defaults above. Allowed tokens add
    to the allow-list (nothing is removed). ``seller_record_floors`` are (token, base units)
    pairs; a token the record has no floor for gets its default (ETH and the stablecoin)."""

    fee_bps: int | None = None
    fee_recipient: str | None = None
    dispute_window_bounds: tuple[int, int] | None = None
    arbitration_period: int | None = None
    ship_by_horizon: int | None = None
    allowed_tokens: tuple[str, ...] = ()
    seller_record_floors: tuple[tuple[str, int], ...] = ()


# ---------------------------------------------------------------------------------------- credit


@dataclass(frozen=True)
class CreditOptions:
    """The deployer's choices for the credit part. It is deployed only with a stablecoin: an
    existing ERC-20 (``stablecoin``) or a DevStablecoin deployed for a local devnet
    (``dev_stablecoin``). ``attesters`` are added to the verifier (a fresh one starts with them,
    else with ``default_attesters``); ``quorum`` None keeps what the chain holds (a fresh
    verifier: :data:`DEFAULT_QUORUM`). ``decimals`` are the stablecoin's, for the default
    policy's amounts and the default seller-record floor."""

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
    """The custody oracle: the registry's ORACLE_ROLE."""
    arbiter: str
    logistics_oracle: str
    """The carriers' reports: the escrow's ORACLE_ROLE (a key apart from the custody oracle's)."""
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


@dataclass(frozen=True)
class PerToken:
    """An admin value the contract keeps per token (a seller-record floor): read with
    ``getter(token)``, written with ``setter(token, value)``. ``values`` are (token, value) pairs
    asked for; ``defaults`` apply to a token the record has no value for while the chain holds
    zero (a fresh contract, or a token the suite starts using). Recorded as {token: value}."""

    key: str
    getter: str
    setter: str
    values: tuple[tuple[str, int], ...] = ()
    defaults: tuple[tuple[str, int], ...] = ()


Configuration = Setting | AllowList | Published | PerToken
# Read only: how long a handover of DEFAULT_ADMIN_ROLE waits (contracts/common/AdminDelay.sol).
ADMIN_DELAY = Setting("defaultAdminDelay", "defaultAdminDelay", "")


@dataclass(frozen=True)
class ContractSpec:
    """One deployable contract.

    ``roles`` maps a role's public getter name on the contract (``VERIFIER_ROLE``) to the
    addresses that must hold it; ``grants`` names roles on *other* contracts of the suite (the
    escrow needs the registry's ESCROW_ROLE), ``revokes`` roles on the suite's contracts that
    must not be held (what earlier versions of the suite granted instead). The deployer must be
    able to grant and revoke them (``DEFAULT_ADMIN_ROLE``) and to change ``settings``.
    """

    name: str
    constructor_args: Callable[[SuiteContext], list[Any]]
    roles: Callable[[SuiteContext], dict[str, list[str]]]
    depends_on: tuple[str, ...] = ()
    grants: Callable[[SuiteContext], list[Grant]] = lambda ctx: []
    revokes: Callable[[SuiteContext], list[Grant]] = lambda ctx: []
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
        # How far ahead a new order's ship-by may lie (the constructor's 60 days on a fresh one):
        # it bounds how long an unshipped order can hold a merchant's items.
        Setting("shipByHorizon", "shipByHorizon", "setShipByHorizon", options.ship_by_horizon),
        AllowList("allowedTokens", "isTokenAllowed", "setTokenAllowed", _allowed_tokens(ctx)),
        PerToken(
            "sellerRecordFloors",
            "sellerRecordFloor",
            "setSellerRecordFloor",
            options.seller_record_floors,
            _default_floors(ctx),
        ),
        ADMIN_DELAY,
    ]


def _default_floors(ctx: SuiteContext) -> tuple[tuple[str, int], ...]:
    floors = [(ETH_TOKEN, DEFAULT_ETH_SELLER_RECORD_FLOOR)]
    if ctx.credit.enabled:
        unit = 10**ctx.credit.decimals
        floors.append((ctx.stablecoin(), DEFAULT_STABLECOIN_SELLER_RECORD_FLOOR * unit))
    return tuple(floors)


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
        ADMIN_DELAY,
    ]


def _lines_settings(ctx: SuiteContext) -> list[Configuration]:
    default = default_policy(ctx.credit.decimals).as_json()
    policy = Published("policy", read_policy, publish_policy, "POLICY_ROLE", default=default)
    return [policy, ADMIN_DELAY]


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
        settings=lambda ctx: [ADMIN_DELAY],
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
            "ORACLE_ROLE": [ctx.logistics_oracle],
        },
        depends_on=("ProductRegistry",),
        # Orders hold their items in the registry, free them on refunds and sell them on release.
        grants=lambda ctx: [
            Grant("ProductRegistry", "ESCROW_ROLE", ctx.addresses["OrderEscrow"]),
        ],
        # The suite once gave the escrow the registry's ORACLE_ROLE to record sales: a reused
        # registry must not keep it (it would let the escrow record any custody event).
        revokes=lambda ctx: [
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
            ctx.credit.quorum or DEFAULT_QUORUM,
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
        settings=lambda ctx: [
            Setting("asset", "asset", ""),
            Setting("redeemCooldown", "redeemCooldown", ""),
            ADMIN_DELAY,
        ],
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
