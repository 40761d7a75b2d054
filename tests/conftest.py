"""Fixtures shared by every test directory: real chain nodes started as processes.

Under pytest-xdist every worker is a session of its own: it starts its own nodes, each on a free
port and logging into the worker's own temporary directory, so workers never share a chain.
Tests are spread one at a time (``--dist loadgroup``), except the suites written to run in order
on one chain without snapshots, which stay together on one worker, in their order.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _pytest.unraisableexception import gc_collect_iterations_key

import app  # noqa: F401  (chooses the keccak backend before Ape's accounts hash anything)
from bench.environment import SPEED_TEXT, python_speed
from harness.nodes import ChainNode, anvil_command, free_port, running

# A free port can be taken by another worker's process between the probe and the node's bind.
START_ATTEMPTS = 3
TESTS = Path(__file__).resolve().parent
# The attacks share one Anvil for their whole package (Ape cannot snapshot it), and its clock only
# moves forward; each scripts module builds on what its earlier tests left on the session's chain.
IN_ORDER_BY_PACKAGE = ("attacks", "scripts")
# The service's modules, and the examples' clients run against it, build their chain node, suite
# and service once (module fixtures): spread over two workers, a module would build them twice
# (the end-to-end module ~20 s each time).
IN_ORDER_BY_MODULE: tuple[str, ...] = ("app", "examples", "networks")


# The machine's speed at the start of the run (the controller's, not each worker's).
SPEED_AT_START = pytest.StashKey[str]()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        session.config.stash[SPEED_AT_START] = python_speed()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The suite's time means something only beside the machine's speed, which varies from hour to
    hour on a shared VM: the same fixed loop ``make bench`` reports, timed at both ends."""
    start = config.stash.get(SPEED_AT_START, None)
    if start is not None:
        terminalreporter.write_line(
            f"Machine speed ({SPEED_TEXT}): {start} at the start, {python_speed()} at the end"
        )


def pytest_configure(config: pytest.Config) -> None:
    from ape.contracts.base import ContractMethodHandler

    with warnings.catch_warnings():  # web3's websocket provider imports websockets.legacy
        warnings.simplefilter("ignore", DeprecationWarning)
        import ape_ethereum.provider

    # After every transaction Ape reads the receiver's code (uncached on a development chain) and
    # traces the transaction, to print the contract's console.log lines: our contracts have none,
    # and on Ape's EVM the trace runs the transaction again (about a quarter of a contract test's
    # time).
    ape_ethereum.provider._post_send_transaction = lambda transaction, receipt: None
    # Before every call and transaction Ape reads the contract's code again (uncached on a
    # development chain), to raise ContractNotFoundError for an address without code: a twentieth
    # of a contract test's time. Every contract a test names is one it deployed; a call to an
    # address without code still fails, on decoding its empty answer.
    ContractMethodHandler._validate_is_contract = lambda self: None  # type: ignore[method-assign]
    # At its end pytest collects garbage five times over to find unraisable exceptions left in
    # finalizers; over a worker's heap of chain objects that is ~2 s each time (~10 s a worker).
    # Once finds what a test left: the hook still reports every one raised while tests ran.
    config.stash[gc_collect_iterations_key] = 1


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        # A module that names its group keeps it: xdist joins two groups' names into a third, and
        # modules sharing a named group (one session fixture played once) would be split.
        if not path.is_relative_to(TESTS) or item.get_closest_marker("xdist_group"):
            continue
        parts = path.relative_to(TESTS).parts
        if parts[0] in IN_ORDER_BY_PACKAGE:
            item.add_marker(pytest.mark.xdist_group(parts[0]))
        elif parts[0] in IN_ORDER_BY_MODULE:
            item.add_marker(pytest.mark.xdist_group("/".join(parts)))


@pytest.fixture(scope="session", autouse=True)
def lean_test_provider() -> None:
    """Ape's in-process chain, through web3 without the middleware the project's clients go
    without (``app.chain.contracts.UNUSED_MIDDLEWARE``): the chain id asked twice a call."""
    from ape import networks

    from scripts._lib.chain import lean_provider

    lean_provider(networks.active_provider)


@contextlib.contextmanager
def node_on_a_free_port(command: Callable[[int], list[str]], log: Path) -> Iterator[ChainNode]:
    """A node started by ``command(port)`` on a free port; on another port when the first one
    was taken before the node could bind it (the node exits before answering)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        with contextlib.ExitStack() as stack:
            try:
                node = stack.enter_context(running(command(port), port, log))
            except RuntimeError:
                if attempt == START_ATTEMPTS:
                    raise
                continue
            yield node
            return


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    """A fresh Anvil node (chain id 1337, cancun) for this test session (or xdist worker)."""
    log: Path = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with node_on_a_free_port(anvil_command, log) as node:
        yield node
