"""The connected network's rules (``app/domain/networks.py``) as the scripts apply them: which
signers it takes, the fees every transaction carries, the depth a command waits for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from app.domain.networks import AccountKind, NetworkProfile, network_profile


def profile() -> NetworkProfile:
    """The rules of the connected chain, by its chain id."""
    from ape import chain

    return network_profile(int(chain.chain_id))


def check_signer(account: Any) -> None:
    """Refuses a signer of a kind the network does not take (``NetworkRuleRefused``)."""
    from ape.api.accounts import TestAccountAPI
    from ape_accounts import KeyfileAccount

    kind = AccountKind.KEYSTORE if isinstance(account, KeyfileAccount) else AccountKind.OTHER
    kind = AccountKind.TEST if isinstance(account, TestAccountAPI) else kind
    profile().check_signer(kind, f"account {account.address}")


def settle(echo: Callable[[str], None] = click.echo) -> None:
    """Waits until the head of when it is called (which holds every receipt the run waited for)
    lies the network's confirmation depth deep: what a command reports done stays done."""
    from ape import chain

    rules = profile()
    if not (depth := rules.confirmation_depth):
        return
    last = int(chain.blocks.height)
    echo(f"waiting for {depth} blocks on top of block {last} ({rules.label})")
    while (head := int(chain.blocks.height)) < last + depth:
        time.sleep(rules.block_seconds / 4)
    echo(f"confirmed: block {last} is {head - last} blocks deep (head {head})")
