"""`ape run deploy` as an ordered list of steps, one per contract (``SUITE``), run by one engine
(what a run deploys, reuses, grants and records: `ape run deploy --help`).

A step's ``args`` may use the addresses of earlier steps, named in ``depends_on``: one of them
deployed anew deploys it anew, as does a ``fixed`` constructor argument that differs from the
record's. Roles and settings follow once every step has its address, each transaction simulated
first, so a re-run is idempotent and resumes a run that stopped half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from eth_utils.crypto import keccak

from app.domain.deployments import (
    CompilerInfo,
    ContractDeployment,
    DeploymentRecord,
    load_record,
    save_record,
    utc_now,
    utc_text,
)
from app.domain.orders import ETH
from app.domain.units import format_duration
from scripts._lib.chain import Stop, explain_data, refusal
from scripts._lib.policy import CreditPolicy, default_policy, read_policy

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]
DEFAULT_ADMIN = "DEFAULT_ADMIN_ROLE"
# A fresh escrow's fee: its constructor's is 0 (its other settings are the defaults --help names).
DEFAULT_FEE_BPS = 100
# The smallest order seller records count on a fresh escrow, so dust orders cannot pad a record:
# 0.001 ETH, and one whole stablecoin of the credit pool's.
DEFAULT_ETH_FLOOR = 10**15
# Signatures a fresh AttestationVerifier wants: no single attester key can open a line.
DEFAULT_QUORUM = 2


@dataclass(frozen=True)
class EscrowOptions:
    """OrderEscrow's settings asked for (None keeps the chain's); floors in base units."""

    fee_bps: int | None = None
    fee_recipient: str | None = None
    dispute_window_bounds: list[int] | None = None
    arbitration_period: int | None = None
    ship_by_horizon: int | None = None
    allowed_tokens: tuple[str, ...] = ()
    seller_record_floors: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class CreditOptions:
    """The credit part, with a stablecoin only: an existing ERC-20 or a devnet's DevStablecoin.
    ``attesters`` are added to the verifier (a fresh one without them gets the defaults)."""

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
    """A run: what constructor arguments, roles and settings depend on, and what was sent."""

    account: AccountAPI
    verifier: str
    oracle: str  # the custody oracle
    arbiter: str
    logistics_oracle: str
    escrow: EscrowOptions
    credit: CreditOptions
    echo: Echo
    addresses: dict[str, str] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # deployed anew in this run
    sent: int = 0

    @property
    def deployer(self) -> str:
        return str(self.account.address)

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
class _Contract:
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
        call(*args, sender=self.ctx.account)
        self.ctx.sent += 1
        self.ctx.echo(f"{self.name}: {change}")


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
    """A setting read with ``key()``, written with ``setter(*value)``; None keeps the chain's, but
    a fresh contract gets ``default`` (None: the constructor's). Without a setter: read only."""

    key: str
    setter: str = ""
    value: Any = None
    default: Any = None

    def apply(self, t: _Contract) -> Any:
        wanted = self.default if self.value is None and t.fresh else self.value
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
    applies to an address the record does not know while the chain holds nothing for it, so it
    never overrides what someone set. Nothing is ever removed."""

    key: str
    getter: str
    setter: str
    values: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    listed: bool = False
    flag: bool = True

    def apply(self, t: _Contract) -> Any:
        known, getter = t.entry.settings.get(self.key) or {}, getattr(t.instance, self.getter)
        wanted = {k: v for k, v in self.defaults.items() if k not in known} | self.values
        for key, value in wanted.items():
            if (current := _plain(getter(key))) != value and (key in self.values or not current):
                args = (key, value) if self.flag else (key,)
                change = f"set {self.key} of {key} to {value} (was {current})"
                t.send(f"added {key} to {self.key}" if self.listed else change, self.setter, *args)
        held = {key: _plain(getter(key)) for key in sorted({*known, *wanted})}
        return [key for key, value in held.items() if value] if self.listed else held


@dataclass(frozen=True)
class Policy:
    """The credit policy, kept in versions: the default is published on a contract that has none
    (a fresh one); one that has keeps its versions."""

    default: CreditPolicy
    key: str = "policy"

    def apply(self, t: _Contract) -> dict[str, Any] | None:
        if (current := read_policy(t.instance)) is not None:
            return current
        rules, tiers = self.default.rules_abi(), self.default.tiers_abi()
        t.send("published policy version 1", "publishPolicy", rules, tiers)
        return read_policy(t.instance)


Setting = Value | PerKey | Policy
# Read only: how long a handover of DEFAULT_ADMIN_ROLE waits (contracts/common/AdminDelay.sol).
ADMIN_DELAY = Value("defaultAdminDelay")


@dataclass(frozen=True)
class Step:
    """One contract of the suite: who must hold a role besides the deployer's DEFAULT_ADMIN_ROLE,
    who must not (what earlier suites granted instead); whether a run has it (default: with
    credit)."""

    name: str
    args: Callable[[SuiteContext], list[Any]]
    roles: Callable[[SuiteContext], dict[str, list[str]]]
    settings: Callable[[SuiteContext], list[Setting]] = lambda ctx: [ADMIN_DELAY]
    revokes: Callable[[SuiteContext], dict[str, list[str]]] = lambda ctx: {}
    depends_on: tuple[str, ...] = ()
    fixed: tuple[int, ...] = ()
    when: Callable[[SuiteContext], bool] = lambda ctx: ctx.credit.enabled


SUITE: tuple[Step, ...] = (
    Step(
        "ProductRegistry",  # ProductRegistry(admin)
        args=lambda ctx: [ctx.deployer],
        # Orders hold their items in the registry, free them on refunds and sell them on release.
        roles=lambda ctx: {"VERIFIER_ROLE": [ctx.verifier], "ORACLE_ROLE": [ctx.oracle],
                           "ESCROW_ROLE": [ctx.addresses["OrderEscrow"]]},
        # The suite once gave the escrow the registry's ORACLE_ROLE to record sales: a reused
        # registry must not keep it (it would let the escrow record any custody event).
        revokes=lambda ctx: {"ORACLE_ROLE": [ctx.addresses["OrderEscrow"]]},
        when=lambda ctx: True,
    ),
    Step(
        "OrderEscrow",  # OrderEscrow(admin, registry, feeRecipient)
        args=lambda ctx: [ctx.deployer, ctx.addresses["ProductRegistry"],
                          ctx.escrow.fee_recipient or ctx.deployer],
        roles=lambda ctx: {"ARBITER_ROLE": [ctx.arbiter], "ORACLE_ROLE": [ctx.logistics_oracle],
                           "FUNDER_ROLE": ctx.lines()},
        settings=lambda ctx: [
            Value("feeBps", "setFee", ctx.escrow.fee_bps, DEFAULT_FEE_BPS),
            Value("feeRecipient", "setFeeRecipient", ctx.escrow.fee_recipient),
            Value("disputeWindowBounds", "setDisputeWindowBounds",
                  ctx.escrow.dispute_window_bounds),
            Value("arbitrationPeriod", "setArbitrationPeriod", ctx.escrow.arbitration_period),
            # It bounds how long an unshipped order can hold a merchant's items.
            Value("shipByHorizon", "setShipByHorizon", ctx.escrow.ship_by_horizon),
            PerKey("allowedTokens", "isTokenAllowed", "setTokenAllowed",
                   dict.fromkeys([*ctx.escrow.allowed_tokens, *ctx.pool()], True), listed=True),
            PerKey("sellerRecordFloors", "sellerRecordFloor", "setSellerRecordFloor",
                   dict(ctx.escrow.seller_record_floors),
                   {ETH: DEFAULT_ETH_FLOOR} | dict.fromkeys(ctx.pool(), 10**ctx.credit.decimals)),
            ADMIN_DELAY,
        ],
        depends_on=("ProductRegistry",), when=lambda ctx: True,
    ),
    Step(
        "DevStablecoin",  # DevStablecoin(admin): a devnet faucet token, local networks only
        args=lambda ctx: [ctx.deployer],
        roles=lambda ctx: {"MINTER_ROLE": [ctx.deployer]},
        settings=lambda ctx: [], when=lambda ctx: ctx.credit.dev_stablecoin,
    ),
    Step(
        "AttestationVerifier",  # AttestationVerifier(admin, attesters, quorum)
        args=lambda ctx: [ctx.deployer, ctx.attesters(), ctx.credit.quorum or DEFAULT_QUORUM],
        roles=lambda ctx: {"CONSUMER_ROLE": ctx.lines()},
        settings=lambda ctx: [
            PerKey("attesters", "isAttester", "addAttester", dict.fromkeys(ctx.attesters(), True),
                   listed=True, flag=False),
            Value("quorum", "setQuorum", ctx.credit.quorum),
            Value("attesterSetVersion"),  # read only: attestations carry it (changes bump it)
            ADMIN_DELAY,
        ],
    ),
    Step(
        "CreditVault",  # CreditVault(stablecoin, admin): the stablecoin is fixed for its life
        args=lambda ctx: [*ctx.pool(), ctx.deployer],
        roles=lambda ctx: {"LINE_ROLE": ctx.lines()},
        settings=lambda ctx: [Value("asset"), Value("redeemCooldown"), ADMIN_DELAY],
        depends_on=("DevStablecoin",), fixed=(0,),
    ),
    Step(
        "CreditLines",  # CreditLines(admin, verifier, vault, escrow)
        args=lambda ctx: [ctx.deployer, ctx.addresses["AttestationVerifier"],
                          ctx.addresses["CreditVault"], ctx.addresses["OrderEscrow"]],
        roles=lambda ctx: {"POLICY_ROLE": [ctx.deployer], "RISK_ROLE": [ctx.deployer]},
        settings=lambda ctx: [Policy(default_policy(ctx.credit.decimals)), ADMIN_DELAY],
        depends_on=("AttestationVerifier", "CreditVault", "OrderEscrow"),
    ),
)  # fmt: skip
DEPLOYABLE: tuple[str, ...] = tuple(step.name for step in SUITE)


@dataclass
class DeployOutcome:
    record: DeploymentRecord
    path: Path
    changed: bool


def _arg(value: Any) -> Any:
    """A constructor argument as the record keeps it: text, or a list of texts."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else str(value)


def _hash(code: bytes | str) -> str:
    return "0x" + keccak(hexstr=code if isinstance(code, str) else "0x" + bytes(code).hex()).hex()


def _bytecode(name: str) -> str:
    from ape import project

    return str(project.get_contract(name).contract_type.deployment_bytecode.bytecode)


def _code_hash(address: str) -> str:
    from ape import chain

    return _hash(bytes(chain.provider.get_code(address)))


def _compiler(name: str) -> CompilerInfo:
    """Compiler name, version and the settings that shape bytecode, from Ape's compiler data."""
    from ape import project

    for compiler in project.manifest.compilers or []:
        if name in (compiler.contractTypes or []):
            settings = dict(compiler.settings or {})
            kept = {k: settings[k] for k in ("evmVersion", "optimizer", "viaIR") if k in settings}
            return CompilerInfo(name=compiler.name, version=compiler.version, settings=kept)
    raise click.ClickException(f"no compiler data for {name}: run `ape compile`")


def _reusable(step: Step, prior: ContractDeployment, ctx: SuiteContext) -> bool:
    echo = ctx.echo
    if _code_hash(prior.address) != prior.code_hash:
        echo(f"{step.name}: recorded address {prior.address} no longer holds the recorded code")
        return False
    if _hash(_bytecode(step.name)) != prior.bytecode_hash:
        echo(f"{step.name}: the compiled contract changed since it was deployed")
        return False
    args, kept = [_arg(a) for a in step.args(ctx)], prior.constructor_args
    for i in step.fixed:
        if (recorded := kept[i] if i < len(kept) else None) != args[i]:
            echo(
                f"{step.name}: deploying anew, as its constructor argument {i} is {args[i]}, not "
                f"{recorded} (fixed for the contract's life)"
            )
            return False
    if fresh := [name for name in step.depends_on if name in ctx.fresh]:
        echo(f"{step.name}: deploying anew, as {', '.join(fresh)} was deployed anew")
        return False
    return True


def _require_admin(ctx: SuiteContext, instance: Any, name: str) -> None:
    """Stops unless the deployer is the admin of a reused contract: DEFAULT_ADMIN_ROLE is never
    granted, only handed over in two steps, and a run that sends nothing would not notice."""
    if not any(abi.name == "defaultAdmin" for abi in instance.contract_type.view_methods):
        return  # plain AccessControl: a grant it refuses is explained when simulated
    if (admin := str(instance.defaultAdmin())) == ctx.deployer:
        return
    if str(instance.pendingDefaultAdmin()[0]) == ctx.deployer:
        how = f"{ctx.deployer} may accept the pending handover (acceptDefaultAdminTransfer)"
    else:
        delay = format_duration(int(instance.defaultAdminDelay()))
        how = (
            f"the admin begins a handover (beginDefaultAdminTransfer), {ctx.deployer} accepts it "
            f"{delay} later (acceptDefaultAdminTransfer)"
        )
    ctx.stop(
        f"{name} at {instance.address}: its admin is {admin}, not {ctx.deployer}: {how}; or "
        "deploy with the admin account, or pass --redeploy"
    )


def _deploy(ctx: SuiteContext, step: Step) -> _Contract:
    from ape import chain, project
    from web3.exceptions import ContractLogicError

    from app.chain.reverts import revert_data

    container, args = project.get_contract(step.name), step.args(ctx)
    data = _bytecode(step.name) + bytes(container.constructor.encode_input(*args)).hex()
    try:  # the constructor simulated, as `refusal` does a call (it needs an address)
        chain.provider.web3.eth.call({"from": ctx.deployer, "data": data})
    except ContractLogicError as exc:
        found = revert_data(exc)
        reason = explain_data(found) if found else str(exc.message or exc)
        ctx.stop(f"{step.name}: the deployment is refused: {reason}")
    instance = ctx.account.deploy(container, *args)
    if (meta := instance.creation_metadata) is None:
        raise click.ClickException(f"{step.name}: no creation data for {instance.address}")
    ctx.sent += 1
    moment = datetime.fromtimestamp(int(chain.blocks[meta.block].timestamp), UTC)
    entry = ContractDeployment(
        address=str(instance.address),
        tx_hash=str(meta.txn_hash),
        block_number=int(meta.block),
        deployed_at=utc_text(moment),
        deployer=ctx.deployer,
        constructor_args=[_arg(a) for a in args],
        compiler=_compiler(step.name),
        bytecode_hash=_hash(_bytecode(step.name)),
        code_hash=_code_hash(str(instance.address)),
        roles={},
    )
    ctx.echo(f"{step.name}: deployed at {entry.address} (tx {entry.tx_hash})")
    return _Contract(ctx, step.name, instance, entry, True)


def _roles(t: _Contract, step: Step, replaced: set[str]) -> dict[str, list[str]]:
    """Revokes what must not be held, grants what is missing (the deployer's DEFAULT_ADMIN_ROLE is
    held from the constructor, never granted); returns who holds each role among the recorded and
    wanted holders, as the chain says."""
    ctx, instance, recorded = t.ctx, t.instance, t.entry.roles
    wanted = {DEFAULT_ADMIN: [ctx.deployer]} | {r: a for r, a in step.roles(ctx).items() if a}
    # What the suite gave a contract this run replaced (an old CreditLines must not keep lending
    # from the vault), then what it no longer gives at all.
    stale = {
        (r, a): "replaced in this run"
        for r, held in recorded.items()
        for a in held
        if not t.fresh and a in replaced
    }
    stale |= {
        (r, a): "no longer granted"
        for r, held in step.revokes(ctx).items()
        for a in held
        if a not in wanted.get(r, [])
    }
    for (name, account), why in sorted(stale.items()):
        if instance.hasRole(role := getattr(instance, name)(), account):
            t.send(f"revoked {name} from {account} ({why})", "revokeRole", role, account)
    holders: dict[str, list[str]] = {}
    for name in sorted({*recorded, *wanted}):
        role, accounts = getattr(instance, name)(), wanted.get(name, [])
        for account in dict.fromkeys(accounts):
            if not instance.hasRole(role, account):
                t.send(f"granted {name} to {account}", "grantRole", role, account)
        candidates = {*recorded.get(name, []), *accounts}
        holders[name] = sorted(a for a in candidates if instance.hasRole(role, a))
    return holders


def deploy_suite(
    deployer: AccountAPI,
    *,
    verifier: str,
    oracle: str,
    network_choice: str,
    directory: Path,
    arbiter: str | None = None,
    logistics_oracle: str | None = None,
    escrow: EscrowOptions | None = None,
    credit: CreditOptions | None = None,
    redeploy: bool = False,
    echo: Echo = click.echo,
) -> DeployOutcome:
    """Runs every step of the suite. ``arbiter`` defaults to the deployer, ``logistics_oracle``
    to ``oracle`` (`ape run deploy` always passes a key of its own), ``escrow`` to the defaults;
    without ``credit`` (a stablecoin) the credit part is left out."""
    from ape import chain, project

    chain_id, me = int(chain.chain_id), str(deployer.address)
    previous = load_record(directory, chain_id)
    old = previous.contracts if previous is not None else {}
    escrow, credit = escrow or EscrowOptions(), credit or CreditOptions()
    parties = (verifier, oracle, arbiter or me, logistics_oracle or oracle)
    ctx = SuiteContext(deployer, *parties, escrow, credit, echo)
    steps = [step for step in SUITE if step.when(ctx)]
    done: dict[str, _Contract] = {}
    for step in steps:
        prior = old.get(step.name)
        if not redeploy and prior is not None and _reusable(step, prior, ctx):
            instance = project.get_contract(step.name).at(prior.address)
            _require_admin(ctx, instance, step.name)
            done[step.name] = _Contract(ctx, step.name, instance, prior, False)
            echo(f"{step.name}: reusing {prior.address} (deployed in block {prior.block_number})")
        else:
            done[step.name] = _deploy(ctx, step)
            ctx.fresh.add(step.name)
        ctx.addresses[step.name] = done[step.name].entry.address

    def record(contracts: dict[str, ContractDeployment]) -> DeployOutcome:
        entry = DeploymentRecord(
            chain_id=chain_id,
            network=network_choice,
            deployer=me,
            timestamp=utc_now(),
            contracts=contracts,
        )
        return DeployOutcome(entry, save_record(directory, entry), True)

    if ctx.fresh and not ctx.fresh & old.keys():
        # Nothing replaced: what exists is recorded at once, so a setting the contracts refuse
        # below is resumed by a re-run that deploys nothing twice. (A replacement is recorded at
        # the end only: a re-run must still know which old contract's roles to revoke.)
        record({name: t.entry for name, t in done.items()})
    replaced = {old[n].address for n in ctx.fresh if n in old} - set(ctx.addresses.values())
    contracts: dict[str, ContractDeployment] = {}
    for step in steps:
        t = done[step.name]
        roles = _roles(t, step, replaced)
        settings = {setting.key: setting.apply(t) for setting in step.settings(ctx)}
        contracts[step.name] = t.entry.model_copy(update={"roles": roles, "settings": settings})

    path = directory / f"{chain_id}.json"
    if previous is not None and contracts == previous.contracts and not ctx.sent:
        return DeployOutcome(previous, path, False)
    return record(contracts)
