"""Runs the steps of ``scripts/_lib/suite.py`` in order (what a run deploys, reuses, grants and
records: `ape run deploy --help`): each transaction simulated first, so a re-run is idempotent
and resumes a run that stopped half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from app.domain.units import format_duration
from scripts._lib.chain import explain_data
from scripts._lib.suite import (
    DEFAULT_ADMIN,
    SUITE,
    CreditOptions,
    Echo,
    EscrowOptions,
    Step,
    SuiteContext,
    SuiteContract,
)

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI


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


def _deploy(ctx: SuiteContext, step: Step) -> SuiteContract:
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
    return SuiteContract(ctx, step.name, instance, entry, True)


def _roles(t: SuiteContract, step: Step, replaced: set[str]) -> dict[str, list[str]]:
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
    done: dict[str, SuiteContract] = {}
    for step in steps:
        prior = old.get(step.name)
        if not redeploy and prior is not None and _reusable(step, prior, ctx):
            instance = project.get_contract(step.name).at(prior.address)
            _require_admin(ctx, instance, step.name)
            done[step.name] = SuiteContract(ctx, step.name, instance, prior, False)
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
