"""The contracts `ape run deploy` deploys, in order, with their constructor arguments and roles.

To add a contract (escrow, credit...), append a :class:`ContractSpec`: its constructor may use the
addresses of the contracts deployed before it (``ctx.addresses``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SuiteContext:
    """What constructor arguments and role grants may depend on."""

    deployer: str
    verifier: str
    oracle: str
    addresses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContractSpec:
    """One deployable contract.

    ``roles`` maps a role's public getter name on the contract (``VERIFIER_ROLE``) to the
    addresses that must hold it; the deployer must be able to grant it (``DEFAULT_ADMIN_ROLE``).
    """

    name: str
    constructor_args: Callable[[SuiteContext], list[Any]]
    roles: Callable[[SuiteContext], dict[str, list[str]]]


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
)

DEPLOYABLE: tuple[str, ...] = tuple(spec.name for spec in SUITE)
