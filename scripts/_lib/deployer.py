"""Deploys the suite (``scripts/_lib/suite.py``), grants its roles, applies its admin settings
and writes the record.

A recorded contract is reused when its address still holds the recorded code (same code hash),
the compiled creation code is unchanged (same bytecode hash), its fixed constructor arguments are
the ones asked for and no contract it depends on was deployed anew in this run; otherwise, or with
``redeploy=True``, it is deployed anew. Missing role grants (on the contract itself, and
``grants`` on other contracts of the suite) and settings that differ from those asked for are
made on reused contracts too; a role the suite granted to a contract that this run replaced is
revoked from the old one, and so are the roles the suite's ``revokes`` name (grants of earlier
versions of the suite). Contracts a run leaves out (``enabled``) keep no entry in the record.
The record file is rewritten only when something changed.

DEFAULT_ADMIN_ROLE is never granted: the contracts take it from their constructor and
(AccessControlDefaultAdminRules) refuse ``grantRole`` for it. A reused contract whose admin is
not the deployer stops the run with the two-step handover to do first.
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
from scripts._lib.admin_settings import ensure_settings
from scripts._lib.roles import (
    ensure_roles,
    require_default_admin,
    revoke_replaced,
    revoke_unwanted,
)
from scripts._lib.signers import parse_address, test_account_address
from scripts._lib.suite import (
    SUITE,
    ContractSpec,
    CreditOptions,
    EscrowOptions,
    Grant,
    SuiteContext,
)

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

ORACLE_ENV = "TRUSTMALL_ORACLE_ADDRESS"
ARBITER_ENV = "TRUSTMALL_ARBITER_ADDRESS"
LOGISTICS_ORACLE_ENV = "TRUSTMALL_LOGISTICS_ORACLE_ADDRESS"
LOCAL_ORACLE_TEST_INDEX = 1
LOCAL_ARBITER_TEST_INDEX = 3
LOCAL_LOGISTICS_ORACLE_TEST_INDEX = 8
Echo = Callable[[str], None]


def resolve_party(
    role: str, explicit: str | None, network: Any, *, env: str, local_test_index: int
) -> str:
    """The address of a platform party (``oracle``, ``arbiter``, ``logistics-oracle``):
    ``--<role>``, else ``$<env>``, else ape-config.yaml's ``trustmall: <key>:`` (the role with
    ``_`` for ``-``; an address, or a map from network name to address), else test account
    ``local_test_index`` on a local network."""
    if explicit:
        return parse_address(explicit, f"--{role}")
    if value := os.environ.get(env):
        return parse_address(value, env)
    from ape import config

    key = role.replace("-", "_")
    configured = config.get_config("trustmall").get(key)
    if isinstance(configured, dict):
        configured = configured.get(network.choice) or configured.get(network.name)
    if configured:
        return parse_address(str(configured), f"ape-config.yaml trustmall.{key}")
    if network.is_local:
        return test_account_address(local_test_index)
    raise click.UsageError(
        f"no {role} address for network {network.choice!r}: pass --{role}, set {env}, "
        f"or add `trustmall: {{{key}: {{<network>: <address>}}}}` to ape-config.yaml"
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


def resolve_logistics_oracle(explicit: str | None, network: Any) -> str:
    """The escrow's logistics oracle: ``--logistics-oracle``,
    ``$TRUSTMALL_LOGISTICS_ORACLE_ADDRESS``, config ``logistics_oracle``, or test account 8."""
    return resolve_party(
        "logistics-oracle",
        explicit,
        network,
        env=LOGISTICS_ORACLE_ENV,
        local_test_index=LOCAL_LOGISTICS_ORACLE_TEST_INDEX,
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
    logistics_oracle: str | None = None,
    escrow: EscrowOptions | None = None,
    credit: CreditOptions | None = None,
    redeploy: bool = False,
    echo: Echo = click.echo,
) -> DeployOutcome:
    """Deploys (or reuses) every contract of the suite, makes its role grants and applies its
    settings. ``arbiter`` defaults to the deployer, ``logistics_oracle`` to ``oracle`` (callers
    that run the service pass a key of its own: `ape run deploy` always does), ``escrow`` to the
    defaults; without ``credit`` (a stablecoin) the credit part is left out."""
    from ape import chain, project

    chain_id = int(chain.chain_id)
    previous = load_record(directory, chain_id)
    old = previous.contracts if previous is not None else {}
    ctx = SuiteContext(
        deployer=str(deployer.address),
        verifier=verifier,
        oracle=oracle,
        arbiter=arbiter or str(deployer.address),
        logistics_oracle=logistics_oracle or oracle,
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
            require_default_admin(instance, ctx.deployer, spec.name)
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
    unwanted: dict[str, list[Grant]] = {spec.name: [] for spec in suite}
    for spec in suite:
        for grant in spec.grants(ctx):
            holders = wanted[grant.contract].setdefault(grant.role, [])
            holders.append(grant.account)
        for grant in spec.revokes(ctx):
            if grant.contract in unwanted:
                unwanted[grant.contract].append(grant)
    # Contracts of the suite replaced in this run: what the suite granted them is revoked.
    replaced = {old[name].address for name in deployed if name in old} - {
        entry.address for entry in entries.values()
    }
    contracts: dict[str, ContractDeployment] = {}
    for spec in suite:
        name, entry, instance = spec.name, entries[spec.name], instances[spec.name]
        if replaced and name not in deployed:
            revoke_replaced(instance, deployer, entry.roles, replaced, granted, name, echo)
        revoke_unwanted(instance, deployer, unwanted[name], wanted[name], granted, echo)
        roles = ensure_roles(instance, deployer, wanted[name], entry.roles, granted, name, echo)
        settings = ensure_settings(
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
