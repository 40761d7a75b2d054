"""Deploys the suite (``scripts/_lib/suite.py``), grants its roles, applies its admin settings
and writes the record.

A recorded contract is reused when its address still holds the recorded code (same code hash),
the compiled creation code is unchanged (same bytecode hash), its fixed constructor arguments are
the ones asked for and no contract it depends on was deployed anew in this run; otherwise, or with
``redeploy=True``, it is deployed anew. Missing role grants (on the contract itself, and
``grants`` on other contracts of the suite) and settings that differ from those asked for are
made on reused contracts too; a role the suite granted to a contract that this run replaced is
revoked from the old one. Contracts a run leaves out (``enabled``) keep no entry in the record.
The record file is rewritten only when something changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
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
from scripts._lib.signers import parse_address, test_account_address
from scripts._lib.suite import (
    SUITE,
    AllowList,
    Configuration,
    ContractSpec,
    CreditOptions,
    EscrowOptions,
    Published,
    SuiteContext,
)

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

ORACLE_ENV = "TRUSTMALL_ORACLE_ADDRESS"
ARBITER_ENV = "TRUSTMALL_ARBITER_ADDRESS"
LOCAL_ORACLE_TEST_INDEX = 1
LOCAL_ARBITER_TEST_INDEX = 3
Echo = Callable[[str], None]


def resolve_party(
    role: str, explicit: str | None, network: Any, *, env: str, local_test_index: int
) -> str:
    """The address of a platform party (``oracle``, ``arbiter``): ``--<role>``, else ``$<env>``,
    else ape-config.yaml's ``trustmall: <role>:`` (an address, or a map from network name to
    address), else test account ``local_test_index`` on a local network."""
    if explicit:
        return parse_address(explicit, f"--{role}")
    if value := os.environ.get(env):
        return parse_address(value, env)
    from ape import config

    configured = config.get_config("trustmall").get(role)
    if isinstance(configured, dict):
        configured = configured.get(network.choice) or configured.get(network.name)
    if configured:
        return parse_address(str(configured), f"ape-config.yaml trustmall.{role}")
    if network.is_local:
        return test_account_address(local_test_index)
    raise click.UsageError(
        f"no {role} address for network {network.choice!r}: pass --{role}, set {env}, "
        f"or add `trustmall: {{{role}: {{<network>: <address>}}}}` to ape-config.yaml"
    )


def resolve_oracle(explicit: str | None, network: Any) -> str:
    """The oracle: ``--oracle``, ``$TRUSTMALL_ORACLE_ADDRESS``, config, or test account 1."""
    return resolve_party(
        "oracle", explicit, network, env=ORACLE_ENV, local_test_index=LOCAL_ORACLE_TEST_INDEX
    )


def resolve_arbiter(explicit: str | None, network: Any) -> str:
    """The arbiter: ``--arbiter``, ``$TRUSTMALL_ARBITER_ADDRESS``, config, or test account 3."""
    return resolve_party(
        "arbiter", explicit, network, env=ARBITER_ENV, local_test_index=LOCAL_ARBITER_TEST_INDEX
    )


def _arg(value: Any) -> Any:
    """A constructor argument as the record keeps it: text, or a list of texts."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def compiler_info(name: str) -> CompilerInfo:
    """Compiler name, version and the settings that shape bytecode, from Ape's compiler data."""
    from ape import project

    for compiler in project.manifest.compilers or []:
        if name in (compiler.contractTypes or []):
            settings = dict(compiler.settings or {})
            kept = {k: settings[k] for k in ("evmVersion", "optimizer", "viaIR") if k in settings}
            return CompilerInfo(name=compiler.name, version=compiler.version, settings=kept)
    raise click.ClickException(f"no compiler data for {name}: run `ape compile`")


def bytecode_hash(name: str) -> str:
    from ape import project

    code = project.get_contract(name).contract_type.deployment_bytecode.bytecode
    return _hex(keccak(hexstr=code))


def code_hash(address: str) -> str:
    from ape import chain

    return _hex(keccak(bytes(chain.provider.get_code(address))))


@dataclass
class DeployOutcome:
    record: DeploymentRecord
    path: Path
    deployed: list[str]
    reused: list[str]
    granted: list[str]
    changed: bool
    configured: list[str] = field(default_factory=list)


def _reusable(
    spec: ContractSpec,
    previous: ContractDeployment | None,
    deployed: list[str],
    ctx: SuiteContext,
    echo: Echo,
) -> bool:
    if previous is None:
        return False
    if code_hash(previous.address) != previous.code_hash:
        echo(f"{spec.name}: recorded address {previous.address} no longer holds the recorded code")
        return False
    if bytecode_hash(spec.name) != previous.bytecode_hash:
        echo(f"{spec.name}: the compiled contract changed since it was deployed")
        return False
    if spec.fixed_args:
        args = [_arg(a) for a in spec.constructor_args(ctx)]
        for index in spec.fixed_args:
            kept = previous.constructor_args
            recorded = kept[index] if index < len(kept) else None
            if recorded != args[index]:
                echo(
                    f"{spec.name}: deploying anew, as its constructor argument {index} is "
                    f"{args[index]}, not {recorded} (fixed for the contract's life)"
                )
                return False
    if fresh := [name for name in spec.depends_on if name in deployed]:
        echo(f"{spec.name}: deploying anew, as {', '.join(fresh)} was deployed anew")
        return False
    return True


def deploy_suite(
    deployer: AccountAPI,
    *,
    verifier: str,
    oracle: str,
    network_choice: str,
    directory: Path,
    arbiter: str | None = None,
    escrow: EscrowOptions | None = None,
    credit: CreditOptions | None = None,
    redeploy: bool = False,
    echo: Echo = click.echo,
) -> DeployOutcome:
    """Deploys (or reuses) every contract of the suite, makes its role grants and applies its
    settings. ``arbiter`` defaults to the deployer, ``escrow`` to the defaults; without
    ``credit`` (a stablecoin) the credit part is left out."""
    from ape import chain, project

    chain_id = int(chain.chain_id)
    previous = load_record(directory, chain_id)
    old = previous.contracts if previous is not None else {}
    ctx = SuiteContext(
        deployer=str(deployer.address),
        verifier=verifier,
        oracle=oracle,
        arbiter=arbiter or str(deployer.address),
        escrow=escrow or EscrowOptions(),
        credit=credit or CreditOptions(),
    )
    suite = [spec for spec in SUITE if spec.enabled(ctx)]
    entries: dict[str, ContractDeployment] = {}
    instances: dict[str, Any] = {}
    deployed: list[str] = []
    reused: list[str] = []
    granted: list[str] = []
    configured: list[str] = []
    for spec in suite:
        container = project.get_contract(spec.name)
        prior = old.get(spec.name)
        if not redeploy and prior is not None and _reusable(spec, prior, deployed, ctx, echo):
            entry = prior
            instance = container.at(prior.address)
            reused.append(spec.name)
            echo(f"{spec.name}: reusing {prior.address} (deployed in block {prior.block_number})")
        else:
            args = spec.constructor_args(ctx)
            instance = deployer.deploy(container, *args)
            meta = instance.creation_metadata
            if meta is None:
                raise click.ClickException(f"{spec.name}: no creation data for {instance.address}")
            block = chain.blocks[meta.block]
            entry = ContractDeployment(
                address=str(instance.address),
                tx_hash=str(meta.txn_hash),
                block_number=int(meta.block),
                deployed_at=utc_text(datetime.fromtimestamp(int(block.timestamp), UTC)),
                deployer=str(deployer.address),
                constructor_args=[_arg(a) for a in args],
                compiler=compiler_info(spec.name),
                bytecode_hash=bytecode_hash(spec.name),
                code_hash=code_hash(str(instance.address)),
                roles={},
            )
            deployed.append(spec.name)
            ctx.fresh.add(spec.name)
            echo(f"{spec.name}: deployed at {entry.address} (tx {entry.tx_hash})")
        ctx.addresses[spec.name] = entry.address
        entries[spec.name] = entry
        instances[spec.name] = instance

    # Roles on each contract: its own, plus the grants other contracts of the suite ask for.
    wanted: dict[str, dict[str, list[str]]] = {spec.name: spec.roles(ctx) for spec in suite}
    for spec in suite:
        for grant in spec.grants(ctx):
            holders = wanted[grant.contract].setdefault(grant.role, [])
            holders.append(grant.account)
    # Contracts of the suite replaced in this run: what the suite granted them is revoked.
    replaced = {old[name].address for name in deployed if name in old} - {
        entry.address for entry in entries.values()
    }
    contracts: dict[str, ContractDeployment] = {}
    for spec in suite:
        name, entry, instance = spec.name, entries[spec.name], instances[spec.name]
        if replaced and name not in deployed:
            _revoke_replaced(instance, deployer, entry.roles, replaced, granted, name, echo)
        roles = _ensure_roles(instance, deployer, wanted[name], entry.roles, granted, name, echo)
        settings = _ensure_settings(
            instance,
            deployer,
            spec.settings(ctx),
            entry.settings,
            fresh=name in deployed,
            configured=configured,
            name=name,
            echo=echo,
        )
        contracts[name] = entry.model_copy(update={"roles": roles, "settings": settings})

    changed = (
        previous is None or contracts != previous.contracts or bool(granted) or bool(configured)
    )
    if changed:
        record = DeploymentRecord(
            chain_id=chain_id,
            network=network_choice,
            deployer=str(deployer.address),
            timestamp=utc_now(),
            contracts=contracts,
        )
        path = save_record(directory, record)
    else:
        assert previous is not None
        record, path = previous, directory / f"{chain_id}.json"
    return DeployOutcome(record, path, deployed, reused, granted, changed, configured)


def _require_admin(instance: Any, deployer: AccountAPI, name: str, what: str) -> None:
    if not instance.hasRole(instance.DEFAULT_ADMIN_ROLE(), deployer.address):
        raise click.ClickException(
            f"{name} at {instance.address}: {what}, and {deployer.address} may not do it "
            "(not an admin); deploy with the admin account, or pass --redeploy"
        )


def _revoke_replaced(
    instance: Any,
    deployer: AccountAPI,
    recorded: dict[str, list[str]],
    replaced: set[str],
    revoked: list[str],
    name: str,
    echo: Echo,
) -> None:
    """Revokes the roles a reused contract gave contracts of the suite this run replaced (an old
    CreditLines must not keep lending from the vault)."""
    for role_name, holders in sorted(recorded.items()):
        role = getattr(instance, role_name)()
        for account in holders:
            if account in replaced and instance.hasRole(role, account):
                if not instance.hasRole(instance.getRoleAdmin(role), deployer.address):
                    raise click.ClickException(
                        f"{name} at {instance.address}: the replaced contract {account} still "
                        f"holds {role_name}, and {deployer.address} may not revoke it"
                    )
                instance.revokeRole(role, account, sender=deployer)
                revoked.append(f"{name}.{role_name} -x {account}")
                echo(f"{name}: revoked {role_name} from {account} (replaced in this run)")


def _ensure_roles(
    instance: Any,
    deployer: AccountAPI,
    wanted: dict[str, list[str]],
    recorded: dict[str, list[str]],
    granted: list[str],
    name: str,
    echo: Echo,
) -> dict[str, list[str]]:
    """Grants each wanted role that is missing; returns who holds each role among the recorded
    and wanted holders, as the chain says."""
    holders: dict[str, list[str]] = {}
    for role_name in sorted({*recorded, *wanted}):
        accounts = wanted.get(role_name, [])
        role = getattr(instance, role_name)()
        candidates = list(dict.fromkeys([*recorded.get(role_name, []), *accounts]))
        for account in dict.fromkeys(accounts):
            if not instance.hasRole(role, account):
                admin_role = instance.getRoleAdmin(role)
                if not instance.hasRole(admin_role, deployer.address):
                    raise click.ClickException(
                        f"{name} at {instance.address}: {account} lacks {role_name}, and "
                        f"{deployer.address} may not grant it (not an admin); deploy with the "
                        "admin account, or pass --redeploy"
                    )
                instance.grantRole(role, account, sender=deployer)
                granted.append(f"{name}.{role_name} -> {account}")
                echo(f"{name}: granted {role_name} to {account}")
        holders[role_name] = sorted(a for a in candidates if instance.hasRole(role, a))
    return holders


def _plain(value: Any) -> Any:
    """A value read from the chain as JSON data: tuples as lists, addresses as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str | bytes):
        return str(value)
    try:  # tuples, and Ape's structs of several outputs (iterable by index)
        items = list(value)
    except TypeError:
        return str(value)
    return [_plain(v) for v in items]


def _ensure_settings(
    instance: Any,
    deployer: AccountAPI,
    settings: list[Configuration],
    recorded: dict[str, Any],
    *,
    fresh: bool,
    configured: list[str],
    name: str,
    echo: Echo,
) -> dict[str, Any]:
    """Writes each setting whose chain value differs from the one asked for (or, right after a
    deployment, from its default); returns every setting as the chain holds it."""
    values: dict[str, Any] = {}
    for setting in settings:
        if isinstance(setting, AllowList):
            previous = recorded.get(setting.key, [])
            candidates = list(dict.fromkeys([*previous, *setting.addresses]))
            check = getattr(instance, setting.check)
            for address in dict.fromkeys(setting.addresses):
                if not check(address):
                    _require_admin(instance, deployer, name, f"{address} is not in {setting.key}")
                    flag = (True,) if setting.flag else ()
                    getattr(instance, setting.setter)(address, *flag, sender=deployer)
                    configured.append(f"{name}.{setting.key} += {address}")
                    echo(f"{name}: added {address} to {setting.key}")
            values[setting.key] = sorted(a for a in candidates if check(a))
            continue
        if isinstance(setting, Published):
            values[setting.key] = _ensure_published(
                instance, deployer, setting, fresh=fresh, configured=configured, name=name,
                echo=echo,
            )  # fmt: skip
            continue
        target = setting.default if setting.value is None and fresh else setting.value
        current = _plain(getattr(instance, setting.getter)())
        if target is not None and current != target:
            _require_admin(instance, deployer, name, f"{setting.key} is {current}, not {target}")
            args = target if isinstance(target, list) else [target]
            getattr(instance, setting.setter)(*args, sender=deployer)
            configured.append(f"{name}.{setting.key} = {target}")
            echo(f"{name}: set {setting.key} to {target} (was {current})")
            current = _plain(getattr(instance, setting.getter)())
        values[setting.key] = current
    return values


def _ensure_published(
    instance: Any,
    deployer: AccountAPI,
    setting: Published,
    *,
    fresh: bool,
    configured: list[str],
    name: str,
    echo: Echo,
) -> dict[str, Any] | None:
    """Publishes the asked-for version (right after a deployment: the default) unless the
    current one equals it; returns the current one with its version."""
    target = setting.default if setting.value is None and fresh else setting.value
    current = setting.read(instance)
    unversioned = None if current is None else {k: v for k, v in current.items() if k != "version"}
    if target is None or unversioned == target:
        return current
    role = getattr(instance, setting.role)()
    if not instance.hasRole(role, deployer.address):
        raise click.ClickException(
            f"{name} at {instance.address}: {setting.key} differs from the one asked for, and "
            f"{deployer.address} may not publish one (no {setting.role})"
        )
    setting.publish(instance, target, deployer)
    current = setting.read(instance)
    version = None if current is None else current.get("version")
    configured.append(f"{name}.{setting.key} v{version}")
    echo(f"{name}: published {setting.key} version {version}")
    return current
