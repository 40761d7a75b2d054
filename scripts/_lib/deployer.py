"""Runs the steps of ``scripts/_lib/suite.py`` in order (docs/scripts.md#deploy), each transaction
simulated first: a re-run is idempotent and resumes a run that stopped half-way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from ape import chain, project
from eth_utils.crypto import keccak

from app.domain import deployments as records
from app.domain.deployments import ContractDeployment, DeploymentRecord
from app.domain.units import format_duration
from scripts._lib.chain import simulated
from scripts._lib.network_rules import profile, settle
from scripts._lib.suite import SUITE, CreditOptions, Echo, Step, SuiteContext, SuiteContract, Value

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

DEFAULT_ADMIN = "DEFAULT_ADMIN_ROLE"
# How long a handover of DEFAULT_ADMIN_ROLE waits (contracts/common/AdminDelay.sol): recorded for
# every contract that has one.
ADMIN_DELAY = Value("defaultAdminDelay")


@dataclass
class DeployOutcome:
    record: DeploymentRecord
    path: Path
    changed: bool


def _arg(value: Any) -> Any:
    """A constructor argument as the record keeps it: text, or a list of texts."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else str(value)


def _hash(hexstr: str) -> str:
    return "0x" + keccak(hexstr=hexstr).hex()


def _bytecode(name: str) -> str:
    return str(project.get_contract(name).contract_type.deployment_bytecode.bytecode)


def _code_hash(address: str) -> str:
    return _hash(bytes(chain.provider.get_code(address)).hex())


def _compiler(name: str) -> records.CompilerInfo:
    """Compiler name, version and the settings that shape bytecode, from Ape's compiler data."""
    found = next(c for c in project.manifest.compilers or [] if name in (c.contractTypes or []))
    settings = dict(found.settings or {})
    kept = {k: settings[k] for k in ("evmVersion", "optimizer", "viaIR") if k in settings}
    return records.CompilerInfo(name=found.name, version=found.version, settings=kept)


def _why_anew(step: Step, prior: ContractDeployment, ctx: SuiteContext) -> str | None:
    """Why a recorded contract is not reused, or None."""
    if _code_hash(prior.address) != prior.code_hash:
        return f"recorded address {prior.address} no longer holds the recorded code"
    if _hash(_bytecode(step.name)) != prior.bytecode_hash:
        return "the compiled contract changed since it was deployed"
    args, kept = [_arg(a) for a in step.args(ctx)], prior.constructor_args
    for i in step.fixed:
        if (recorded := kept[i] if i < len(kept) else None) != args[i]:
            return f"its constructor argument {i} is {args[i]}, not {recorded} (fixed for life)"
    return None


def _require_admin(ctx: SuiteContext, instance: Any, name: str) -> None:
    """Stops unless the deployer is the admin of a reused contract, before anything is deployed:
    DEFAULT_ADMIN_ROLE is never granted, only handed over in two steps, which the stop explains."""
    if (admin := str(instance.defaultAdmin())) == ctx.deployer:
        return
    delay = format_duration(int(instance.defaultAdminDelay()))
    how = (
        f"{ctx.deployer} may accept the pending handover (acceptDefaultAdminTransfer)"
        if str(instance.pendingDefaultAdmin()[0]) == ctx.deployer
        else f"the admin begins a handover (beginDefaultAdminTransfer), {ctx.deployer} accepts "
        f"it {delay} later (acceptDefaultAdminTransfer)"
    )
    ctx.stop(
        f"{name} at {instance.address}: its admin is {admin}, not {ctx.deployer}: {how}; or "
        "deploy with the admin account, or pass --redeploy"
    )


def _deploy(ctx: SuiteContext, step: Step) -> SuiteContract:
    container, args = project.get_contract(step.name), step.args(ctx)
    data = _bytecode(step.name) + bytes(container.constructor.encode_input(*args)).hex()
    if (refused := simulated({"from": ctx.deployer, "data": data})) is not None:
        ctx.stop(f"{step.name}: the deployment is refused: {refused}")
    fees: dict[str, Any] = profile().fees_wei()
    instance = ctx.account.deploy(container, *args, **fees)
    meta = instance.creation_metadata
    assert meta is not None  # Ape keeps it from the deployment's own receipt
    ctx.sent += 1
    moment = datetime.fromtimestamp(int(chain.blocks[meta.block].timestamp), UTC)
    entry = ContractDeployment(
        address=str(instance.address),
        tx_hash=str(meta.txn_hash),
        block_number=int(meta.block),
        deployed_at=records.utc_text(moment),
        deployer=ctx.deployer,
        constructor_args=[_arg(a) for a in args],
        compiler=_compiler(step.name),
        bytecode_hash=_hash(_bytecode(step.name)),
        code_hash=_code_hash(str(instance.address)),
        roles={},
    )
    ctx.echo(f"{step.name}: deployed at {entry.address} (tx {entry.tx_hash})")
    return SuiteContract(ctx, step.name, instance, entry, True)


def _roles(t: SuiteContract, step: Step, replaced: set[str]) -> dict[str, list[str]]:
    """Revokes what must not be held, grants what is missing; returns who holds each role among
    the recorded and wanted holders, as the chain says."""
    ctx, instance, recorded = t.ctx, t.instance, t.entry.roles
    wanted = {DEFAULT_ADMIN: [ctx.deployer]} | {r: a for r, a in step.roles(ctx).items() if a}
    # What the suite gave a contract this run replaced (an old CreditLines must not keep lending
    # from the vault), then what it no longer gives at all.
    stale = {(r, a): "replaced in this run" for r in recorded for a in recorded[r] if a in replaced}
    for role, held in step.revokes(ctx).items():
        stale |= {(role, a): "no longer granted" for a in held if a not in wanted.get(role, [])}
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
    settings: dict[str, Any] | None = None,
    credit: CreditOptions | None = None,
    redeploy: bool = False,
    echo: Echo = click.echo,
) -> DeployOutcome:
    """Runs every step of the suite. ``arbiter`` defaults to the deployer, ``logistics_oracle`` to
    ``oracle``; ``settings`` go by their names on chain (``feeBps``); without ``credit`` (a
    stablecoin) the credit part is left out."""
    chain_id, me = int(chain.chain_id), str(deployer.address)
    previous = records.load_record(directory, chain_id)
    old = previous.contracts if previous is not None else {}
    parties = (verifier, oracle, arbiter or me, logistics_oracle or oracle)
    ctx = SuiteContext(deployer, me, *parties, settings or {}, credit or CreditOptions(), echo)
    steps = [step for step in SUITE if step.when(ctx)]
    done: dict[str, SuiteContract] = {}
    for step in steps:
        prior = None if redeploy else old.get(step.name)
        if prior is not None and (why := _why_anew(step, prior, ctx)):
            echo(f"{step.name}: deploying anew: {why}")
            prior = None
        if prior is None:
            done[step.name] = _deploy(ctx, step)
            ctx.fresh.add(step.name)
        else:
            instance = project.get_contract(step.name).at(prior.address)
            if "defaultAdmin" in instance.contract_type.view_methods:  # else a grant explains it
                _require_admin(ctx, instance, step.name)
            done[step.name] = SuiteContract(ctx, step.name, instance, prior, False)
            echo(f"{step.name}: reusing {prior.address} (deployed in block {prior.block_number})")
        ctx.addresses[step.name] = done[step.name].entry.address

    def record(contracts: dict[str, ContractDeployment]) -> DeployOutcome:
        run: dict[str, Any] = {"chain_id": chain_id, "network": network_choice, "deployer": me}
        entry = DeploymentRecord(**run, timestamp=records.utc_now(), contracts=contracts)
        return DeployOutcome(entry, records.save_record(directory, entry), True)

    if ctx.fresh and not ctx.fresh & old.keys():
        # Nothing replaced: what exists is recorded at once, so a setting the contracts refuse
        # below is resumed by a re-run that deploys nothing twice. (A replacement is recorded at
        # the end only: a re-run must still know which old contract's roles to revoke.)
        record({name: t.entry for name, t in done.items()})
    replaced = {old[n].address for n in ctx.fresh if n in old} - set(ctx.addresses.values())
    contracts: dict[str, ContractDeployment] = {}
    for step in steps:
        t = done[step.name]
        views = t.instance.contract_type.view_methods
        delay = [ADMIN_DELAY] if "defaultAdmin" in views else []
        roles = _roles(t, step, replaced) if "hasRole" in views else {}
        held = {s.key: s.apply(t) for s in [*step.settings(ctx), *delay]}
        contracts[step.name] = t.entry.model_copy(update={"roles": roles, "settings": held})
    path = directory / f"{chain_id}.json"
    if previous is not None and contracts == previous.contracts and not ctx.sent:
        return DeployOutcome(previous, path, False)
    if ctx.sent:  # a record names confirmed contracts only
        settle(echo)
    return record(contracts)
