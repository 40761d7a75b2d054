"""Roles on the suite's contracts, made to match what the deployer asks for: grants, the
revocations of roles the suite no longer gives, and DEFAULT_ADMIN_ROLE, which is never granted.
Used by ``scripts/_lib/deployer.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from scripts._lib.suite import Grant
from scripts._lib.units import format_duration

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]
DEFAULT_ADMIN = "DEFAULT_ADMIN_ROLE"


def revoke_replaced(
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


def revoke_unwanted(
    instance: Any,
    deployer: AccountAPI,
    unwanted: list[Grant],
    wanted: dict[str, list[str]],
    revoked: list[str],
    echo: Echo,
) -> None:
    """Revokes the roles the suite's ``revokes`` name, unless this run also wants them held."""
    for grant in unwanted:
        role = getattr(instance, grant.role)()
        if grant.account in wanted.get(grant.role, []) or not instance.hasRole(role, grant.account):
            continue
        if not instance.hasRole(instance.getRoleAdmin(role), deployer.address):
            raise click.ClickException(
                f"{grant.contract} at {instance.address}: {grant.account} still holds "
                f"{grant.role}, which the suite no longer grants it, and {deployer.address} may "
                "not revoke it (not an admin)"
            )
        instance.revokeRole(role, grant.account, sender=deployer)
        revoked.append(f"{grant.contract}.{grant.role} -x {grant.account}")
        echo(f"{grant.contract}: revoked {grant.role} from {grant.account} (no longer granted)")


def ensure_roles(
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
        if role_name == DEFAULT_ADMIN and has_admin_rules(instance):
            # Granted by the constructor alone, handed over in two steps, never granted: the
            # deployer checked it holds the role when it reused the contract.
            candidates.append(str(instance.defaultAdmin()))
            holders[role_name] = sorted(a for a in set(candidates) if instance.hasRole(role, a))
            continue
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


def has_admin_rules(instance: Any) -> bool:
    """Whether the contract uses AccessControlDefaultAdminRules (it has ``defaultAdmin()``)."""
    return any(abi.name == "defaultAdmin" for abi in instance.contract_type.view_methods)


def require_default_admin(instance: Any, account: str, name: str) -> None:
    """Stops the run unless ``account`` is the admin of a reused contract: DEFAULT_ADMIN_ROLE
    cannot be granted (AccessControlDefaultAdminRules), only handed over in two steps."""
    if has_admin_rules(instance):
        admin = str(instance.defaultAdmin())
    elif instance.hasRole(instance.DEFAULT_ADMIN_ROLE(), account):
        return
    else:
        admin = "another account"
    if admin == account:
        return
    how = "the admin grants it"
    if has_admin_rules(instance):
        delay = format_duration(int(instance.defaultAdminDelay()))
        pending, _ = instance.pendingDefaultAdmin()
        how = (
            f"{account} may accept the pending handover (acceptDefaultAdminTransfer)"
            if str(pending) == account
            else f"the admin begins a handover (beginDefaultAdminTransfer), {account} accepts "
            f"it {delay} later (acceptDefaultAdminTransfer)"
        )
    raise click.ClickException(
        f"{name} at {instance.address}: its admin is {admin}, not {account}: {how}; or deploy "
        "with the admin account, or pass --redeploy"
    )
