"""The suite `ape run deploy` deploys, as an ordered list of steps (``SUITE``), one per contract:
its constructor arguments (which may use earlier steps' addresses), the roles it gives and
revokes, and the admin settings it holds; roles and settings follow once every step has its
address. The engine that runs them is ``scripts/_lib/deployer.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click

from app.domain.deployments import ContractDeployment
from app.domain.orders import ETH
from scripts._lib.chain import Stop, refusal
from scripts._lib.credit import default_policy, read_policy
from scripts._lib.network_rules import profile

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]


@dataclass(frozen=True)
class CreditOptions:
    """The credit part, with a stablecoin only: an existing ERC-20 or a devnet's DevStablecoin.
    ``attesters`` are added to the verifier (a fresh one without them gets the defaults)."""

    stablecoin: str | None = None
    dev_stablecoin: bool = False
    attesters: tuple[str, ...] = ()
    default_attesters: tuple[str, ...] = ()
    decimals: int = 6

    @property
    def enabled(self) -> bool:
        return self.dev_stablecoin or self.stablecoin is not None


@dataclass
class SuiteContext:
    """A run: what constructor arguments, roles and settings depend on, and what was sent."""

    account: AccountAPI
    deployer: str  # its address
    verifier: str
    oracle: str  # the custody oracle
    arbiter: str
    logistics_oracle: str
    wanted: dict[str, Any]
    credit: CreditOptions
    echo: Echo
    addresses: dict[str, str] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # deployed anew in this run
    sent: int = 0

    def pool(self) -> list[str]:
        """The credit pool's stablecoin, if any: orders paid with credit pay in it."""
        if self.credit.dev_stablecoin:
            return [self.addresses["DevStablecoin"]]
        return [self.credit.stablecoin] if self.credit.stablecoin else []

    def attesters(self) -> list[str]:
        """Those given, else on a fresh verifier the defaults (its constructor's)."""
        fresh = "AttestationVerifier" in self.fresh or "AttestationVerifier" not in self.addresses
        return list(self.credit.attesters or (self.credit.default_attesters if fresh else ()))

    def lines(self) -> list[str]:
        """CreditLines, for the roles it needs on the others (none without credit)."""
        return [self.addresses["CreditLines"]] if self.credit.enabled else []

    def stop(self, message: str) -> NoReturn:
        if self.sent:  # a re-run resumes from what the chain now holds
            raise click.ClickException(
                f"{message} ({self.sent} transaction(s) were sent before this: re-run to resume)"
            )
        raise Stop(message)


@dataclass
class SuiteContract:
    """A contract of the suite in this run, and its record (as deployed, or as last recorded)."""

    ctx: SuiteContext
    name: str
    instance: Any
    entry: ContractDeployment
    fresh: bool

    def send(self, change: str, method: str, *args: Any) -> None:
        call = getattr(self.instance, method)
        if (refused := refusal(call, *args, sender=self.ctx.deployer)) is not None:
            hint = "; deploy with the admin account, or pass --redeploy"
            self.ctx.stop(
                f"{self.name} at {self.instance.address}: the contract refuses to {change}: "
                f"{refused}{hint if 'AccessControl' in refused else ''}"
            )
        call(*args, sender=self.ctx.account, **profile().fees_wei())
        self.ctx.sent += 1
        self.ctx.echo(f"{self.name}: {change}")


def _plain(value: Any) -> Any:
    """A value read from the chain as JSON data: tuples as lists, addresses as text."""
    if isinstance(value, bool | str):
        return value if isinstance(value, bool) else str(value)
    return int(value) if isinstance(value, int) else [_plain(v) for v in value]


@dataclass(frozen=True)
class Value:
    """A setting read with ``key()``, written with ``setter(*value)`` when the run asks for a value
    (``wanted[key]``); else the chain's is kept, but a fresh contract gets ``default``."""

    key: str
    setter: str = ""
    default: Any = None

    def apply(self, t: SuiteContract) -> Any:
        wanted = t.ctx.wanted.get(self.key)
        wanted = self.default if wanted is None and t.fresh else wanted
        current = _plain(getattr(t.instance, self.key)())
        if wanted is None or current == wanted:
            return current
        args = wanted if isinstance(wanted, list) else [wanted]
        t.send(f"set {self.key} to {wanted} (was {current})", self.setter, *args)
        return _plain(getattr(t.instance, self.key)())


@dataclass(frozen=True)
class PerKey:
    """A setting per address, ``getter(address)``, set with ``setter(address, value)`` (without
    ``flag``: ``setter(address)``); ``listed``, an allow-list, is recorded as its members. A default
    never overrides what someone set (or the record knows). Nothing is ever removed."""

    key: str
    getter: str
    setter: str
    values: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    listed: bool = False
    flag: bool = True

    def apply(self, t: SuiteContract) -> Any:
        known, getter = t.entry.settings.get(self.key) or {}, getattr(t.instance, self.getter)
        wanted = {k: v for k, v in self.defaults.items() if k not in known} | self.values
        for key, value in wanted.items():
            if (current := _plain(getter(key))) != value and (key in self.values or not current):
                args = (key, value) if self.flag else (key,)
                change = f"set {self.key} of {key} to {value} (was {current})"
                t.send(f"added {key} to {self.key}" if self.listed else change, self.setter, *args)
        held = {key: _plain(getter(key)) for key in sorted({*known, *wanted})}
        return [key for key, value in held.items() if value] if self.listed else held


class Policy(Value):
    """The credit policy: the default is published on a contract that has none (a fresh one)."""

    def apply(self, t: SuiteContract) -> dict[str, Any] | None:
        if read_policy(t.instance) is None:
            rules, tiers = self.default.rules_abi(), self.default.tiers_abi()
            t.send("published policy version 1", "publishPolicy", rules, tiers)
        return read_policy(t.instance)


Setting = Value | PerKey


@dataclass(frozen=True)
class Step:
    """One contract of the suite: its constructor arguments, who must hold a role besides the
    deployer's DEFAULT_ADMIN_ROLE and who must not, its settings; whether a run has it."""

    name: str
    args: Callable[[SuiteContext], list[Any]] = lambda ctx: []
    roles: Callable[[SuiteContext], dict[str, list[str]]] = lambda ctx: {}
    settings: Callable[[SuiteContext], list[Setting]] = lambda ctx: []
    revokes: Callable[[SuiteContext], dict[str, list[str]]] = lambda ctx: {}
    fixed: tuple[int, ...] = ()  # constructor arguments a reused contract must have been given
    when: Callable[[SuiteContext], bool] = lambda ctx: ctx.credit.enabled


SUITE: tuple[Step, ...] = (
    # Relays merchants' signed requests (ERC-2771): no owner, no roles, no settings.
    Step("TrustMallForwarder", when=lambda ctx: True),  # TrustMallForwarder()
    Step(
        "ProductRegistry",  # ProductRegistry(admin, forwarder): the forwarder is fixed for life
        args=lambda ctx: [ctx.deployer, ctx.addresses["TrustMallForwarder"]],
        # Orders hold their items in the registry, free them on refunds and sell them on release.
        roles=lambda ctx: {"VERIFIER_ROLE": [ctx.verifier], "ORACLE_ROLE": [ctx.oracle],
                           "ESCROW_ROLE": [ctx.addresses["OrderEscrow"]]},
        # The suite once gave the escrow the registry's ORACLE_ROLE to record sales: a reused
        # registry must not keep it (it would let the escrow record any custody event).
        revokes=lambda ctx: {"ORACLE_ROLE": [ctx.addresses["OrderEscrow"]]},
        fixed=(1,), when=lambda ctx: True,
    ),
    Step(
        "OrderEscrow",  # OrderEscrow(admin, registry, feeRecipient)
        args=lambda ctx: [ctx.deployer, ctx.addresses["ProductRegistry"],
                          ctx.wanted.get("feeRecipient") or ctx.deployer],
        roles=lambda ctx: {"ARBITER_ROLE": [ctx.arbiter], "ORACLE_ROLE": [ctx.logistics_oracle],
                           "FUNDER_ROLE": ctx.lines()},
        settings=lambda ctx: [
            Value("feeBps", "setFee", 100),  # a fresh escrow's fee: its constructor's is 0
            Value("feeRecipient", "setFeeRecipient"),
            Value("disputeWindowBounds", "setDisputeWindowBounds"),
            Value("arbitrationPeriod", "setArbitrationPeriod"),
            # It bounds how long an unshipped order can hold a merchant's items.
            Value("shipByHorizon", "setShipByHorizon"),
            PerKey("allowedTokens", "isTokenAllowed", "setTokenAllowed",
                   dict.fromkeys([*ctx.wanted.get("allowedTokens", ()), *ctx.pool()], True),
                   listed=True),
            # The smallest order seller records count, so dust orders cannot pad a record: 0.001
            # ETH, and one whole stablecoin of the credit pool's.
            PerKey("sellerRecordFloors", "sellerRecordFloor", "setSellerRecordFloor",
                   ctx.wanted.get("sellerRecordFloors", {}),
                   {ETH: 10**15} | dict.fromkeys(ctx.pool(), 10**ctx.credit.decimals)),
        ],
        fixed=(1,), when=lambda ctx: True,
    ),
    Step(
        "DevStablecoin",  # DevStablecoin(admin): a devnet faucet token, local networks only
        args=lambda ctx: [ctx.deployer],
        roles=lambda ctx: {"MINTER_ROLE": [ctx.deployer]},
        when=lambda ctx: ctx.credit.dev_stablecoin,
    ),
    Step(
        "AttestationVerifier",  # AttestationVerifier(admin, attesters, quorum)
        # Quorum 2 on a fresh one: no single attester key can open a line.
        args=lambda ctx: [ctx.deployer, ctx.attesters(), ctx.wanted.get("quorum") or 2],
        roles=lambda ctx: {"CONSUMER_ROLE": ctx.lines()},
        settings=lambda ctx: [
            PerKey("attesters", "isAttester", "addAttester", dict.fromkeys(ctx.attesters(), True),
                   listed=True, flag=False),
            Value("quorum", "setQuorum"),
            Value("attesterSetVersion"),  # read only: attestations carry it (changes bump it)
        ],
    ),
    Step(
        "CreditVault",  # CreditVault(stablecoin, admin): the stablecoin is fixed for its life
        args=lambda ctx: [*ctx.pool(), ctx.deployer],
        roles=lambda ctx: {"LINE_ROLE": ctx.lines()},
        settings=lambda ctx: [Value("asset"), Value("redeemCooldown")],
        fixed=(0,),
    ),
    Step(
        "CreditLines",  # CreditLines(admin, verifier, vault, escrow)
        args=lambda ctx: [ctx.deployer, ctx.addresses["AttestationVerifier"],
                          ctx.addresses["CreditVault"], ctx.addresses["OrderEscrow"]],
        roles=lambda ctx: {"POLICY_ROLE": [ctx.deployer], "RISK_ROLE": [ctx.deployer]},
        settings=lambda ctx: [Policy("policy", default=default_policy(ctx.credit.decimals))],
        fixed=(1, 2, 3),
    ),
)  # fmt: skip
DEPLOYABLE: tuple[str, ...] = tuple(step.name for step in SUITE)
