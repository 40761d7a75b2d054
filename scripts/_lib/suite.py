"""`ape run deploy` as an ordered list of steps, one per contract: each deploys its contract (or
reuses the recorded one), then gives it its roles and admin settings (``scripts/_lib/deployer.py``
runs them). ``args`` may use the addresses of earlier steps, named in ``depends_on`` (deployed
anew, they deploy this one anew); ``fixed`` are constructor arguments the contract can never
change; ``roles``, ``revokes`` and ``settings`` are read once every step has its address.

Keys are kept apart: the registry's ORACLE_ROLE goes to the custody oracle, the escrow's to a
separate logistics oracle, and the escrow reaches the registry through ESCROW_ROLE only. The
deployer holds DEFAULT_ADMIN_ROLE from each constructor; it is never granted, only handed over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from scripts._lib.policy import default_policy, policy_from_json, read_policy

HOUR, DAY = 3_600, 86_400
# OrderEscrow's admin settings on a fresh deployment (the contract's own fee default is 0).
DEFAULT_FEE_BPS = 100
DEFAULT_DISPUTE_WINDOW_BOUNDS = (1 * DAY, 30 * DAY)
DEFAULT_ARBITRATION_PERIOD = 14 * DAY
# The limits EscrowConfig.sol enforces: options outside them stop the run before anything is sent
# (a step refused half-way would leave a fresh suite half configured).
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
    """OrderEscrow's admin settings asked for. None keeps what a reused contract holds; a fresh one
    gets the defaults above. Tokens are added to the allow-list, never removed; floors are
    (token, base units) pairs, and a token the record has no floor for gets its default."""

    fee_bps: int | None = None
    fee_recipient: str | None = None
    dispute_window_bounds: tuple[int, int] | None = None
    arbitration_period: int | None = None
    ship_by_horizon: int | None = None
    allowed_tokens: tuple[str, ...] = ()
    seller_record_floors: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class CreditOptions:
    """The credit part, deployed only with a stablecoin: an existing ERC-20 or a DevStablecoin of
    a local devnet. ``attesters`` are added to the verifier (a fresh one starts with them, else
    with ``default_attesters``); ``quorum`` None keeps the chain's (fresh: DEFAULT_QUORUM);
    ``decimals`` are the stablecoin's, for the default policy and seller-record floor."""

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
    """What constructor arguments, roles and settings depend on."""

    deployer: str
    verifier: str
    oracle: str  # the custody oracle: the registry's ORACLE_ROLE
    arbiter: str
    logistics_oracle: str  # carriers' reports: the escrow's ORACLE_ROLE, a key of its own
    escrow: EscrowOptions = field(default_factory=EscrowOptions)
    credit: CreditOptions = field(default_factory=CreditOptions)
    addresses: dict[str, str] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # deployed anew in this run

    def stablecoin(self) -> str:
        """The credit pool's stablecoin: the given ERC-20, or the DevStablecoin of the suite."""
        if self.credit.dev_stablecoin:
            return self.addresses["DevStablecoin"]
        if self.credit.stablecoin is None:
            raise ValueError("the credit part needs a stablecoin")
        return self.credit.stablecoin

    def lines(self) -> list[str]:
        """CreditLines, for the roles it needs on the others (none without credit)."""
        return [self.addresses["CreditLines"]] if self.credit.enabled else []


class Target(Protocol):
    """A contract being configured: its instance, whether this run deployed it, the settings its
    record holds, and ``send``, which simulates a call, explains a refusal and sends it."""

    instance: Any
    fresh: bool
    recorded: dict[str, Any]

    def send(self, change: str, method: str, *args: Any) -> None: ...


def _plain(value: Any) -> Any:
    """A value read from the chain as JSON data: tuples as lists, addresses as text."""
    if isinstance(value, bool | int):
        return value if isinstance(value, bool) else int(value)
    if isinstance(value, str | bytes):
        return str(value)
    try:  # tuples, and Ape's structs of several outputs
        return [_plain(v) for v in value]
    except TypeError:
        return str(value)


@dataclass(frozen=True)
class Value:
    """An admin value: ``getter()``, written with ``setter(*value)`` (a list is spread). None
    keeps the chain's, except right after a deployment, when ``default`` is set (None: the
    constructor's stands). Without a setter it is only read, for the record."""

    key: str
    getter: str
    setter: str = ""
    value: Any = None
    default: Any = None

    def apply(self, t: Target) -> Any:
        wanted = self.default if self.value is None and t.fresh else self.value
        current = _plain(getattr(t.instance, self.getter)())
        if wanted is None or current == wanted:
            return current
        args = wanted if isinstance(wanted, list) else [wanted]
        t.send(f"set {self.key} to {wanted} (was {current})", self.setter, *args)
        return _plain(getattr(t.instance, self.getter)())


@dataclass(frozen=True)
class AllowList:
    """Addresses the contract must allow (``check(address)``), added with ``setter(address,
    True)`` (``setter(address)`` without ``flag``); never removed."""

    key: str
    check: str
    setter: str
    addresses: tuple[str, ...] = ()
    flag: bool = True

    def apply(self, t: Target) -> list[str]:
        check = getattr(t.instance, self.check)
        for address in dict.fromkeys(self.addresses):
            if not check(address):
                flag = (True,) if self.flag else ()
                t.send(f"added {address} to {self.key}", self.setter, address, *flag)
        known = dict.fromkeys([*t.recorded.get(self.key, []), *self.addresses])
        return sorted(a for a in known if check(a))


@dataclass(frozen=True)
class PerToken:
    """A value per token (a seller-record floor): ``getter(token)``, ``setter(token, value)``.
    ``defaults`` apply to a token the record does not know while the chain holds zero, so a
    default never overrides a value someone set. Recorded as {token: value}."""

    key: str
    getter: str
    setter: str
    values: tuple[tuple[str, int], ...] = ()
    defaults: tuple[tuple[str, int], ...] = ()

    def apply(self, t: Target) -> dict[str, int]:
        known = dict(t.recorded.get(self.key) or {})
        wanted = {token: v for token, v in self.defaults if token not in known} | dict(self.values)
        getter = getattr(t.instance, self.getter)
        for token, value in wanted.items():
            current = int(getter(token))
            if current != value and (token in dict(self.values) or current == 0):
                t.send(f"set {self.key} of {token} to {value} (was {current})", self.setter,
                       token, value)  # fmt: skip
        return {token: int(getter(token)) for token in sorted({*known, *wanted})}


@dataclass(frozen=True)
class Policy:
    """The credit policy, kept in versions: the default is published right after a deployment; a
    reused contract keeps the versions it has."""

    default: dict[str, Any]
    key: str = "policy"

    def apply(self, t: Target) -> dict[str, Any] | None:
        current = read_policy(t.instance)
        unversioned = {k: v for k, v in (current or {}).items() if k != "version"}
        if not t.fresh or unversioned == self.default:
            return current
        version = int(t.instance.currentPolicyVersion()) + 1
        policy = policy_from_json(self.default)
        t.send(f"published policy version {version}", "publishPolicy", policy.rules_abi(),
               policy.tiers_abi())  # fmt: skip
        return read_policy(t.instance)


Setting = Value | AllowList | PerToken | Policy
# Read only: how long a handover of DEFAULT_ADMIN_ROLE waits (contracts/common/AdminDelay.sol).
ADMIN_DELAY = Value("defaultAdminDelay", "defaultAdminDelay")


@dataclass(frozen=True)
class Step:
    """One contract of the suite: what it is deployed with, and what it is configured with.
    ``roles`` maps a role's getter name to who must hold it; ``revokes`` to who must not (what
    earlier versions of the suite granted instead)."""

    name: str
    args: Callable[[SuiteContext], list[Any]]
    roles: Callable[[SuiteContext], dict[str, list[str]]]
    settings: Callable[[SuiteContext], list[Setting]] = lambda ctx: [ADMIN_DELAY]
    revokes: Callable[[SuiteContext], dict[str, list[str]]] = lambda ctx: {}
    depends_on: tuple[str, ...] = ()
    fixed: tuple[int, ...] = ()
    when: Callable[[SuiteContext], bool] = lambda ctx: ctx.credit.enabled


def _escrow_settings(ctx: SuiteContext) -> list[Setting]:
    options, bounds = ctx.escrow, ctx.escrow.dispute_window_bounds
    floors = [(ETH_TOKEN, DEFAULT_ETH_SELLER_RECORD_FLOOR)]
    tokens = options.allowed_tokens
    if ctx.credit.enabled:  # orders paid with credit pay in the pool's stablecoin
        unit = 10**ctx.credit.decimals
        floors.append((ctx.stablecoin(), DEFAULT_STABLECOIN_SELLER_RECORD_FLOOR * unit))
        tokens = (*tokens, ctx.stablecoin())
    return [
        Value("feeBps", "feeBps", "setFee", options.fee_bps, DEFAULT_FEE_BPS),
        Value("feeRecipient", "feeRecipient", "setFeeRecipient", options.fee_recipient),
        Value("disputeWindowBounds", "disputeWindowBounds", "setDisputeWindowBounds",
              list(bounds) if bounds else None, list(DEFAULT_DISPUTE_WINDOW_BOUNDS)),
        Value("arbitrationPeriod", "arbitrationPeriod", "setArbitrationPeriod",
              options.arbitration_period, DEFAULT_ARBITRATION_PERIOD),
        # How far ahead a new order's ship-by may lie (the constructor's 60 days on a fresh one):
        # it bounds how long an unshipped order can hold a merchant's items.
        Value("shipByHorizon", "shipByHorizon", "setShipByHorizon", options.ship_by_horizon),
        AllowList("allowedTokens", "isTokenAllowed", "setTokenAllowed",
                  tuple(dict.fromkeys(tokens))),
        PerToken("sellerRecordFloors", "sellerRecordFloor", "setSellerRecordFloor",
                 options.seller_record_floors, tuple(floors)),
        ADMIN_DELAY,
    ]  # fmt: skip


def _verifier_settings(ctx: SuiteContext) -> list[Setting]:
    attesters = ctx.credit.attesters
    if not attesters and "AttestationVerifier" in ctx.fresh:
        attesters = ctx.credit.default_attesters
    return [
        AllowList("attesters", "isAttester", "addAttester", attesters, flag=False),
        Value("quorum", "quorum", "setQuorum", ctx.credit.quorum),
        # Read only: attestations must carry it (every change above bumps it).
        Value("attesterSetVersion", "attesterSetVersion"),
        ADMIN_DELAY,
    ]


def _admin(ctx: SuiteContext, **roles: list[str]) -> dict[str, list[str]]:
    return {"DEFAULT_ADMIN_ROLE": [ctx.deployer], **roles}


SUITE: tuple[Step, ...] = (
    Step(
        "ProductRegistry",
        args=lambda ctx: [ctx.deployer],
        # Orders hold their items in the registry, free them on refunds and sell them on release.
        roles=lambda ctx: _admin(ctx, VERIFIER_ROLE=[ctx.verifier], ORACLE_ROLE=[ctx.oracle],
                                 ESCROW_ROLE=[ctx.addresses["OrderEscrow"]]),
        # The suite once gave the escrow the registry's ORACLE_ROLE to record sales: a reused
        # registry must not keep it (it would let the escrow record any custody event).
        revokes=lambda ctx: {"ORACLE_ROLE": [ctx.addresses["OrderEscrow"]]},
        when=lambda ctx: True,
    ),
    Step(
        "OrderEscrow",  # OrderEscrow(admin, registry, feeRecipient)
        args=lambda ctx: [ctx.deployer, ctx.addresses["ProductRegistry"],
                          ctx.escrow.fee_recipient or ctx.deployer],
        roles=lambda ctx: _admin(ctx, ARBITER_ROLE=[ctx.arbiter],
                                 ORACLE_ROLE=[ctx.logistics_oracle], FUNDER_ROLE=ctx.lines()),
        settings=_escrow_settings, depends_on=("ProductRegistry",), when=lambda ctx: True,
    ),
    Step(
        "DevStablecoin",  # DevStablecoin(admin): a devnet faucet token, local networks only
        args=lambda ctx: [ctx.deployer],
        roles=lambda ctx: _admin(ctx, MINTER_ROLE=[ctx.deployer]),
        settings=lambda ctx: [], when=lambda ctx: ctx.credit.dev_stablecoin,
    ),
    Step(
        "AttestationVerifier",  # AttestationVerifier(admin, attesters, quorum)
        args=lambda ctx: [ctx.deployer, list(ctx.credit.attesters or ctx.credit.default_attesters),
                          ctx.credit.quorum or DEFAULT_QUORUM],
        roles=lambda ctx: _admin(ctx, CONSUMER_ROLE=ctx.lines()),
        settings=_verifier_settings,
    ),
    Step(
        "CreditVault",  # CreditVault(stablecoin, admin): the stablecoin is fixed for its life
        args=lambda ctx: [ctx.stablecoin(), ctx.deployer],
        roles=lambda ctx: _admin(ctx, LINE_ROLE=ctx.lines()),
        settings=lambda ctx: [Value("asset", "asset"), Value("redeemCooldown", "redeemCooldown"),
                              ADMIN_DELAY],
        depends_on=("DevStablecoin",), fixed=(0,),
    ),
    Step(
        "CreditLines",  # CreditLines(admin, verifier, vault, escrow)
        args=lambda ctx: [ctx.deployer, ctx.addresses["AttestationVerifier"],
                          ctx.addresses["CreditVault"], ctx.addresses["OrderEscrow"]],
        roles=lambda ctx: _admin(ctx, POLICY_ROLE=[ctx.deployer], RISK_ROLE=[ctx.deployer]),
        settings=lambda ctx: [Policy(default_policy(ctx.credit.decimals).as_json()), ADMIN_DELAY],
        depends_on=("AttestationVerifier", "CreditVault", "OrderEscrow"),
    ),
)  # fmt: skip

DEPLOYABLE: tuple[str, ...] = tuple(step.name for step in SUITE)
