"""Fixtures for tests against other chain nodes than Ape's in-process EVM: accounts by role."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="module")
def verifier(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="module")
def merchant(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="module")
def shopper(accounts: Any) -> Any:
    return accounts[5]
