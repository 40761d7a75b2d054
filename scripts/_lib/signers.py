"""The signing account's helpers, kept importable from here: they live in scripts._lib.chain."""

from scripts._lib.chain import add_address_command as add_address_command
from scripts._lib.chain import parse_address as parse_address
from scripts._lib.chain import resolve_account as resolve_account
from scripts._lib.chain import signer_option as signer_option
from scripts._lib.chain import test_account_address as test_account_address
