"""Choosing the signing account of a script: an Ape account alias, or a test account locally.

* ``--account ALIAS`` loads an Ape keyfile account (``ape accounts import ALIAS``). For automation
  the passphrase comes from ``APE_ACCOUNTS_<ALIAS>_PASSPHRASE`` (Ape's own convention); the script
  then signs its transactions without prompting. Without it, Ape asks once for the passphrase.
* ``--account TEST::N`` picks Ape test account N (the ``test:`` mnemonic in ape-config.yaml, the
  same as Anvil's): allowed on local networks only.
* No raw private key is ever taken on the command line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from ape.cli import AccountAliasPromptChoice
from eth_utils.address import is_address, to_checksum_address

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI


ACCOUNT_HELP = (
    "Signing account: an Ape account alias (for automation the passphrase comes from "
    "APE_ACCOUNTS_<ALIAS>_PASSPHRASE), or TEST::N on a local network. Never a raw key."
)


def signer_option(help_text: str = ACCOUNT_HELP) -> Callable[[Any], Any]:
    """Ape's ``--account`` (an alias or TEST::N), never prompting, with help text."""
    return click.option("--account", type=AccountAliasPromptChoice(), help=help_text)


def resolve_account(
    account: AccountAPI | None, network: Any, *, default_test_index: int | None = None
) -> AccountAPI:
    """The signer: the given account, or test account ``default_test_index`` on a local network.

    Refuses test accounts on live networks; unlocks keyfile accounts once for the whole run.
    """
    from ape import accounts
    from ape.api.accounts import TestAccountAPI
    from ape_accounts import KeyfileAccount

    if account is None and network.is_local and default_test_index is not None:
        test_account: AccountAPI = accounts.test_accounts[default_test_index]
        return test_account
    if account is None:
        raise _stop(
            f"--account is required on network {network.choice!r}: an Ape account alias "
            "(`ape accounts list`)" + (" or TEST::N" if network.is_local else "")
        )
    if isinstance(account, TestAccountAPI) and not network.is_local:
        raise _stop(
            f"test account {account.address} may sign on local networks only, "
            f"not on {network.choice!r}"
        )
    if isinstance(account, KeyfileAccount):
        passphrase = os.environ.get(f"APE_ACCOUNTS_{account.alias}_PASSPHRASE")
        account.set_autosign(True, passphrase=passphrase)
    return account


def parse_address(value: str, what: str) -> str:
    """A checksummed address (or test account ``TEST::N``'s, or an Ape account alias's), else a
    one-line stop naming ``what``."""
    from ape import accounts

    text = value.strip()
    if text.upper().startswith("TEST::") and text[6:].isdigit():
        return test_account_address(int(text[6:]))
    if is_address(text):
        return str(to_checksum_address(text))
    if text not in accounts.aliases:
        raise _stop(f"{what}: {value!r} is not an address (0x + 40 hex, TEST::N or an alias)")
    return str(accounts.load(text).address)


def _stop(message: str) -> click.ClickException:
    from scripts._lib.chain import Stop  # chain imports this module

    return Stop(message)


def test_account_address(index: int) -> str:
    from ape import accounts

    try:
        return str(accounts.test_accounts[index].address)
    except IndexError:
        raise _stop(f"there is no test account TEST::{index}") from None


def add_address_command(group: click.Group) -> None:
    """``address ACCOUNT``: the address of a test account or an Ape alias, with no node."""

    @group.command("address", short_help="the address of TEST::N or an alias")
    @click.argument("account")
    def address(account: str) -> None:
        """Print the address of ACCOUNT: TEST::N (test account N, the same as Anvil's account N)
        or the alias of one of your Ape accounts. Sends nothing, needs no node."""
        click.echo(parse_address(account, "ACCOUNT"))
