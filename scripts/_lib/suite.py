"""The contracts `ape run deploy` deploys, in order, with their constructor arguments, roles,
role grants on other contracts of the suite, and admin settings.

To add a contract (credit lines...), append a :class:`ContractSpec`: its constructor may use the
addresses of the contracts deployed before it (``ctx.addresses``); list those in ``depends_on``
so that it is deployed anew whenever one of them is. ``roles``, ``grants`` and ``settings`` are
evaluated once every contract of the suite has its address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class SuiteContext:
    """What constructor arguments, role grants and settings may depend on."""

    deployer: str
    verifier: str
    oracle: str
    arbiter: str
    escrow: EscrowOptions = field(default_factory=EscrowOptions)
    addresses: dict[str, str] = field(default_factory=dict)


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
    ``setter(address, True)``. Additive: addresses allowed before stay allowed."""

    key: str
    check: str
    setter: str
    addresses: tuple[str, ...] = ()


Configuration = Setting | AllowList


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
        AllowList("allowedTokens", "isTokenAllowed", "setTokenAllowed", options.allowed_tokens),
    ]


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
)

DEPLOYABLE: tuple[str, ...] = tuple(spec.name for spec in SUITE)
