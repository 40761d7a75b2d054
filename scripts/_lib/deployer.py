"""Runs the steps of ``scripts/_lib/suite.py`` in order, then writes the deployment record.

Each step deploys its contract, or reuses the recorded one while its address holds the recorded
code, the compiled creation code is unchanged, its fixed constructor arguments are the ones asked
for and no step it depends on deployed anew (``redeploy`` deploys everything anew). Then, contract
by contract: the roles the suite gave a contract this run replaced are revoked, so are the roles
a step ``revokes``, missing roles are granted and settings that differ are set. A re-run is thus
idempotent and resumes a run that stopped half-way. Every transaction is simulated first; a
refusal stops the run with the contract's own custom error in words.

DEFAULT_ADMIN_ROLE is never granted (AccessControlDefaultAdminRules refuses it): a reused
contract whose admin is not the deployer stops the run with the two-step handover to do first.
The record file is rewritten only when something changed.
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
from app.domain.units import format_duration
from scripts._lib.chain import Stop, explain_data, refusal
from scripts._lib.suite import SUITE, CreditOptions, EscrowOptions, Step, SuiteContext

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]
DEFAULT_ADMIN = "DEFAULT_ADMIN_ROLE"


@dataclass
class DeployOutcome:
    record: DeploymentRecord
    path: Path
    deployed: list[str]
    reused: list[str]
    changes: list[str]
    changed: bool


@dataclass
class _Run:
    """What the steps share: the signer, what was sent, how to tell it."""

    deployer: AccountAPI
    echo: Echo
    changes: list[str] = field(default_factory=list)

    @property
    def me(self) -> str:
        return str(self.deployer.address)

    def stop(self, message: str) -> NoReturn:
        if self.changes:  # a re-run resumes from what the chain now holds
            raise click.ClickException(
                f"{message} ({len(self.changes)} transaction(s) were sent before this: re-run "
                "to resume)"
            )
        raise Stop(message)


@dataclass
class _Target:
    """A contract of the suite being configured (``scripts._lib.suite.Target``)."""

    run: _Run
    name: str
    instance: Any
    fresh: bool
    recorded: dict[str, Any]

    def send(self, change: str, method: str, *args: Any) -> None:
        call = getattr(self.instance, method)
        refused = refusal(call, *args, sender=self.run.me)
        if refused is not None:
            hint = "; deploy with the admin account, or pass --redeploy"
            self.run.stop(
                f"{self.name} at {self.instance.address}: the contract refuses to {change}: "
                f"{refused}{hint if 'AccessControl' in refused else ''}"
            )
        call(*args, sender=self.run.deployer)
        self.run.changes.append(f"{self.name}: {change}")
        self.run.echo(f"{self.name}: {change}")


def _arg(value: Any) -> Any:
    """A constructor argument as the record keeps it: text, or a list of texts."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else str(value)


def _hash(code: bytes | str) -> str:
    return "0x" + keccak(hexstr=code if isinstance(code, str) else "0x" + bytes(code).hex()).hex()


def compiler_info(name: str) -> CompilerInfo:
    """Compiler name, version and the settings that shape bytecode, from Ape's compiler data."""
    from ape import project

    for compiler in project.manifest.compilers or []:
        if name in (compiler.contractTypes or []):
            settings = dict(compiler.settings or {})
            kept = {k: settings[k] for k in ("evmVersion", "optimizer", "viaIR") if k in settings}
            return CompilerInfo(name=compiler.name, version=compiler.version, settings=kept)
    raise click.ClickException(f"no compiler data for {name}: run `ape compile`")


def _bytecode(name: str) -> str:
    from ape import project

    return str(project.get_contract(name).contract_type.deployment_bytecode.bytecode)


def _code_hash(address: str) -> str:
    from ape import chain

    return _hash(bytes(chain.provider.get_code(address)))


def _reusable(step: Step, prior: ContractDeployment, ctx: SuiteContext, echo: Echo) -> bool:
    if _code_hash(prior.address) != prior.code_hash:
        echo(f"{step.name}: recorded address {prior.address} no longer holds the recorded code")
        return False
    if _hash(_bytecode(step.name)) != prior.bytecode_hash:
        echo(f"{step.name}: the compiled contract changed since it was deployed")
        return False
    args, kept = [_arg(a) for a in step.args(ctx)], prior.constructor_args
    for index in step.fixed:
        if (recorded := kept[index] if index < len(kept) else None) != args[index]:
            echo(
                f"{step.name}: deploying anew, as its constructor argument {index} is "
                f"{args[index]}, not {recorded} (fixed for the contract's life)"
            )
            return False
    if fresh := [name for name in step.depends_on if name in ctx.fresh]:
        echo(f"{step.name}: deploying anew, as {', '.join(fresh)} was deployed anew")
        return False
    return True


def _has_rules(instance: Any) -> bool:
    """Whether the contract uses AccessControlDefaultAdminRules (it has ``defaultAdmin()``)."""
    return any(abi.name == "defaultAdmin" for abi in instance.contract_type.view_methods)


def _creation_refusal(data: str, sender: str) -> str | None:
    """A constructor's refusal in words (``eth_call`` of the creation code), or None."""
    from ape import chain
    from web3.exceptions import ContractLogicError

    from app.chain.reverts import revert_data

    try:
        chain.provider.web3.eth.call({"from": sender, "data": data})
    except ContractLogicError as exc:
        found = revert_data(exc)
        return explain_data(found) if found else str(exc.message or exc)
    return None


def _require_admin(run: _Run, instance: Any, name: str) -> None:
    """Stops unless the deployer is the admin of a reused contract: DEFAULT_ADMIN_ROLE cannot be
    granted, only handed over in two steps, and a run that sends nothing would not notice."""
    me, rules = run.me, _has_rules(instance)
    admin = str(instance.defaultAdmin()) if rules else "another account"
    if admin == me or (not rules and instance.hasRole(instance.DEFAULT_ADMIN_ROLE(), me)):
        return
    how = "the admin grants it"
    if rules:
        delay = format_duration(int(instance.defaultAdminDelay()))
        pending, _ = instance.pendingDefaultAdmin()
        how = (
            f"{me} may accept the pending handover (acceptDefaultAdminTransfer)"
            if str(pending) == me
            else f"the admin begins a handover (beginDefaultAdminTransfer), {me} accepts it "
            f"{delay} later (acceptDefaultAdminTransfer)"
        )
    run.stop(
        f"{name} at {instance.address}: its admin is {admin}, not {me}: {how}; or deploy with "
        "the admin account, or pass --redeploy"
    )


def _deploy(run: _Run, step: Step, ctx: SuiteContext) -> tuple[Any, ContractDeployment]:
    from ape import chain, project

    container, args = project.get_contract(step.name), step.args(ctx)
    data = _bytecode(step.name) + bytes(container.constructor.encode_input(*args)).hex()
    if refused := _creation_refusal(data, run.me):
        run.stop(f"{step.name}: the deployment is refused: {refused}")
    instance = run.deployer.deploy(container, *args)
    meta = instance.creation_metadata
    if meta is None:
        raise click.ClickException(f"{step.name}: no creation data for {instance.address}")
    moment = datetime.fromtimestamp(int(chain.blocks[meta.block].timestamp), UTC)
    run.changes.append(f"{step.name}: deployed")
    entry = ContractDeployment(
        address=str(instance.address),
        tx_hash=str(meta.txn_hash),
        block_number=int(meta.block),
        deployed_at=utc_text(moment),
        deployer=run.me,
        constructor_args=[_arg(a) for a in args],
        compiler=compiler_info(step.name),
        bytecode_hash=_hash(_bytecode(step.name)),
        code_hash=_code_hash(str(instance.address)),
        roles={},
    )
    run.echo(f"{step.name}: deployed at {entry.address} (tx {entry.tx_hash})")
    return instance, entry


def _roles(t: _Target, step: Step, ctx: SuiteContext, replaced: set[str]) -> dict[str, list[str]]:
    """Revokes what must not be held, grants what is missing; returns who holds each role among
    the recorded and wanted holders, as the chain says."""
    instance, recorded = t.instance, t.recorded
    wanted = {role: holders for role, holders in step.roles(ctx).items() if holders}
    # What the suite gave a contract this run replaced (an old CreditLines must not keep lending
    # from the vault), then what it no longer gives at all.
    stale = [(r, a, "replaced in this run") for r, held in sorted(recorded.items()) for a in held
             if not t.fresh and a in replaced]  # fmt: skip
    stale += [(r, a, "no longer granted") for r, held in step.revokes(ctx).items() for a in held
              if a not in wanted.get(r, [])]  # fmt: skip
    for role_name, account, why in stale:
        if instance.hasRole(getattr(instance, role_name)(), account):
            t.send(f"revoked {role_name} from {account} ({why})", "revokeRole",
                   getattr(instance, role_name)(), account)  # fmt: skip
    holders: dict[str, list[str]] = {}
    for role_name in sorted({*recorded, *wanted}):
        role, accounts = getattr(instance, role_name)(), wanted.get(role_name, [])
        candidates = list(dict.fromkeys([*recorded.get(role_name, []), *accounts]))
        if role_name == DEFAULT_ADMIN and _has_rules(instance):
            candidates.append(str(instance.defaultAdmin()))  # handed over, never granted
        else:
            for account in dict.fromkeys(accounts):
                if not instance.hasRole(role, account):
                    t.send(f"granted {role_name} to {account}", "grantRole", role, account)
        holders[role_name] = sorted(a for a in set(candidates) if instance.hasRole(role, a))
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

    chain_id = int(chain.chain_id)
    previous = load_record(directory, chain_id)
    old = previous.contracts if previous is not None else {}
    me = str(deployer.address)
    ctx = SuiteContext(me, verifier, oracle, arbiter or me, logistics_oracle or oracle,
                       escrow or EscrowOptions(), credit or CreditOptions())  # fmt: skip
    run, steps = _Run(deployer, echo), [step for step in SUITE if step.when(ctx)]
    entries: dict[str, tuple[Any, ContractDeployment]] = {}
    reused: list[str] = []
    for step in steps:
        prior = old.get(step.name)
        if not redeploy and prior is not None and _reusable(step, prior, ctx, echo):
            instance = project.get_contract(step.name).at(prior.address)
            _require_admin(run, instance, step.name)
            entries[step.name] = instance, prior
            reused.append(step.name)
            echo(f"{step.name}: reusing {prior.address} (deployed in block {prior.block_number})")
        else:
            entries[step.name] = _deploy(run, step, ctx)
            ctx.fresh.add(step.name)
        ctx.addresses[step.name] = entries[step.name][1].address

    replaced = {old[name].address for name in ctx.fresh if name in old} - set(
        ctx.addresses.values()
    )
    contracts: dict[str, ContractDeployment] = {}
    for step in steps:
        instance, entry = entries[step.name]
        fresh = step.name in ctx.fresh
        roles = _roles(_Target(run, step.name, instance, fresh, entry.roles), step, ctx, replaced)
        target = _Target(run, step.name, instance, fresh, entry.settings)
        settings = {setting.key: setting.apply(target) for setting in step.settings(ctx)}
        contracts[step.name] = entry.model_copy(update={"roles": roles, "settings": settings})

    deployed = [step.name for step in steps if step.name in ctx.fresh]
    changed = previous is None or contracts != previous.contracts or bool(run.changes)
    if not changed:
        assert previous is not None
        return DeployOutcome(previous, directory / f"{chain_id}.json", [], reused, [], False)
    record = DeploymentRecord(chain_id=chain_id, network=network_choice, deployer=me,
                              timestamp=utc_now(), contracts=contracts)  # fmt: skip
    path = save_record(directory, record)
    return DeployOutcome(record, path, deployed, reused, run.changes, True)
