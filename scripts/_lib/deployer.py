"""Deploys the suite (``scripts/_lib/suite.py``), grants its roles and writes the record.

A recorded contract is reused when its address still holds the recorded code (same code hash)
and the compiled creation code is unchanged (same bytecode hash); otherwise, or with
``redeploy=True``, it is deployed anew. Missing role grants are made on reused contracts too.
The record file is rewritten only when something changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from eth_utils.crypto import keccak

from scripts._lib.deployments import (
    CompilerInfo,
    ContractDeployment,
    DeploymentRecord,
    load_record,
    save_record,
    utc_now,
    utc_text,
)
from scripts._lib.signers import parse_address, test_account_address
from scripts._lib.suite import SUITE, ContractSpec, SuiteContext

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

ORACLE_ENV = "TRUSTMALL_ORACLE_ADDRESS"
LOCAL_ORACLE_TEST_INDEX = 1
Echo = Callable[[str], None]


def resolve_oracle(explicit: str | None, network: Any) -> str:
    """The oracle address: ``--oracle``, else ``$TRUSTMALL_ORACLE_ADDRESS``, else ape-config.yaml's
    ``trustmall: oracle:`` (an address, or a map from network name to address), else test
    account 1 on a local network."""
    if explicit:
        return parse_address(explicit, "--oracle")
    if env := os.environ.get(ORACLE_ENV):
        return parse_address(env, ORACLE_ENV)
    from ape import config

    configured = config.get_config("trustmall").get("oracle")
    if isinstance(configured, dict):
        configured = configured.get(network.choice) or configured.get(network.name)
    if configured:
        return parse_address(str(configured), "ape-config.yaml trustmall.oracle")
    if network.is_local:
        return test_account_address(LOCAL_ORACLE_TEST_INDEX)
    raise click.UsageError(
        f"no oracle address for network {network.choice!r}: pass --oracle, set {ORACLE_ENV}, "
        "or add `trustmall: {oracle: {<network>: <address>}}` to ape-config.yaml"
    )


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


def _reusable(spec: ContractSpec, previous: ContractDeployment | None, echo: Echo) -> bool:
    if previous is None:
        return False
    if code_hash(previous.address) != previous.code_hash:
        echo(f"{spec.name}: recorded address {previous.address} no longer holds the recorded code")
        return False
    if bytecode_hash(spec.name) != previous.bytecode_hash:
        echo(f"{spec.name}: the compiled contract changed since it was deployed")
        return False
    return True


def deploy_suite(
    deployer: AccountAPI,
    *,
    verifier: str,
    oracle: str,
    network_choice: str,
    directory: Path,
    redeploy: bool = False,
    echo: Echo = click.echo,
) -> DeployOutcome:
    """Deploys (or reuses) every contract of the suite and makes its role grants."""
    from ape import chain, project

    chain_id = int(chain.chain_id)
    previous = load_record(directory, chain_id)
    old = previous.contracts if previous is not None else {}
    ctx = SuiteContext(deployer=str(deployer.address), verifier=verifier, oracle=oracle)
    contracts: dict[str, ContractDeployment] = {}
    deployed: list[str] = []
    reused: list[str] = []
    granted: list[str] = []
    for spec in SUITE:
        container = project.get_contract(spec.name)
        prior = old.get(spec.name)
        if not redeploy and prior is not None and _reusable(spec, prior, echo):
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
                constructor_args=[str(a) for a in args],
                compiler=compiler_info(spec.name),
                bytecode_hash=bytecode_hash(spec.name),
                code_hash=code_hash(str(instance.address)),
                roles={},
            )
            deployed.append(spec.name)
            echo(f"{spec.name}: deployed at {entry.address} (tx {entry.tx_hash})")
        ctx.addresses[spec.name] = entry.address
        roles = _ensure_roles(
            instance, deployer, spec.roles(ctx), entry.roles, granted, spec.name, echo
        )
        contracts[spec.name] = entry.model_copy(update={"roles": roles})

    changed = previous is None or contracts != previous.contracts or bool(granted)
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
    return DeployOutcome(record, path, deployed, reused, granted, changed)


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
    for role_name, accounts in wanted.items():
        role = getattr(instance, role_name)()
        candidates = list(dict.fromkeys([*recorded.get(role_name, []), *accounts]))
        for account in accounts:
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
