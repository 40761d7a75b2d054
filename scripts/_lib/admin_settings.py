"""Admin settings of the suite's contracts (``scripts/_lib/suite.py``'s configurations), made to
match what the deployer asks for and read back for the deployment record. Used by
``scripts/_lib/deployer.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from scripts._lib.suite import AllowList, Configuration, PerToken, Published

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]


def require_admin(instance: Any, deployer: AccountAPI, name: str, what: str) -> None:
    if not instance.hasRole(instance.DEFAULT_ADMIN_ROLE(), deployer.address):
        raise click.ClickException(
            f"{name} at {instance.address}: {what}, and {deployer.address} may not do it "
            "(not an admin); deploy with the admin account, or pass --redeploy"
        )


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


def ensure_settings(
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
            values[setting.key] = _ensure_allowed(
                instance, deployer, setting, recorded, configured, name, echo
            )
            continue
        if isinstance(setting, PerToken):
            values[setting.key] = _ensure_per_token(
                instance, deployer, setting, recorded, configured, name, echo
            )
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
            require_admin(instance, deployer, name, f"{setting.key} is {current}, not {target}")
            args = target if isinstance(target, list) else [target]
            getattr(instance, setting.setter)(*args, sender=deployer)
            configured.append(f"{name}.{setting.key} = {target}")
            echo(f"{name}: set {setting.key} to {target} (was {current})")
            current = _plain(getattr(instance, setting.getter)())
        values[setting.key] = current
    return values


def _ensure_allowed(
    instance: Any,
    deployer: AccountAPI,
    setting: AllowList,
    recorded: dict[str, Any],
    configured: list[str],
    name: str,
    echo: Echo,
) -> list[str]:
    previous = recorded.get(setting.key, [])
    candidates = list(dict.fromkeys([*previous, *setting.addresses]))
    check = getattr(instance, setting.check)
    for address in dict.fromkeys(setting.addresses):
        if not check(address):
            require_admin(instance, deployer, name, f"{address} is not in {setting.key}")
            flag = (True,) if setting.flag else ()
            getattr(instance, setting.setter)(address, *flag, sender=deployer)
            configured.append(f"{name}.{setting.key} += {address}")
            echo(f"{name}: added {address} to {setting.key}")
    return sorted(a for a in candidates if check(a))


def _ensure_per_token(
    instance: Any,
    deployer: AccountAPI,
    setting: PerToken,
    recorded: dict[str, Any],
    configured: list[str],
    name: str,
    echo: Echo,
) -> dict[str, int]:
    """Sets each asked-for token value that differs on chain, and each default of a token the
    record does not know while the chain holds zero; returns {token: value} for every token
    recorded, asked for or defaulted."""
    known: dict[str, Any] = dict(recorded.get(setting.key) or {})
    targets = {token: value for token, value in setting.defaults if token not in known}
    targets.update(dict(setting.values))
    asked = {token for token, _ in setting.values}
    getter = getattr(instance, setting.getter)
    for token, target in targets.items():
        current = int(getter(token))
        if current == target or (token not in asked and current != 0):
            continue  # a default never overrides a value someone set on chain
        require_admin(instance, deployer, name, f"{setting.key}[{token}] is {current}")
        getattr(instance, setting.setter)(token, target, sender=deployer)
        configured.append(f"{name}.{setting.key}[{token}] = {target}")
        echo(f"{name}: set {setting.key} of {token} to {target} (was {current})")
    return {token: int(getter(token)) for token in sorted({*known, *targets})}


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
