"""Fixtures shared by every test directory: real chain nodes started as processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.nodes import ChainNode, anvil_command, free_port, running


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    """A fresh Anvil node (chain id 1337, cancun) for this test session."""
    port = free_port()
    log: Path = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with running(anvil_command(port), port, log) as node:
        yield node
