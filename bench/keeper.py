"""The keeper: gas per order of the keeper releasing 100 due orders in one `releaseDue` batch,
beside 100 single `release` calls in the same run; and the time from due to executed over 100
orders that come due one after another.

Set-up, all its own: a fresh Anvil (cancun, chain id 1337, each transaction mined at once), the
suite deployed by `ape run deploy` into a temporary directory, a merchant approved, 301 SKU orders
(no registry items) paid in ETH, shipped and reported delivered by the logistics oracle
(``harness.keeper_orders``). The first 101 have the shortest dispute window the escrow allows:
once the chain's clock is moved past it, one is released as a warm-up (the merchant's and the fee
recipient's credits become non-zero, as in a running shop) and 100 are released by an account of
no role, one `release` transaction each: the peer.

The next 100 are the keeper's spread group: their windows are an hour longer, and differ by whole
seconds so that their release times spread evenly over one keeper interval (the service's
default) and every phase of the keeper's cycle is met. The service is then started as `make api`
starts it (uvicorn, `app.main:create_app`, a SQLite file, its background workers on, default
settings but for the keeper's key: a fresh account with no role), with an empty block every
second besides the automatic ones, as a live chain keeps making blocks. Once its index has read
the deliveries, the chain's clock is set 2 s before the first release time and runs on with the
wall clock. The keeper sends the releases each of its cycles finds due together.

The last 100 are the keeper's batch group: one window, two hours longer, so that all come due at
one moment; once the spread group is released, the chain's clock is set to it, and the keeper's
next cycle queues the 100 releases, which the relayer sends in one `releaseDue` (the default
`KEEPER_MAX_GAS`, 2,000,000, holds them): the target, at most 15,000 gas per order in one
batch. These are SKU orders: an order with registry items also records its sale in the registry,
which costs more per order.

Due: the first block whose time reaches the order's release time (the contract's `release` accepts
from that block on). Executed: the block holding the keeper's release of the order. Both are
timed by the wall clock at which a poller (every 10 ms) first saw the block; the block times give
the same figures rounded to whole seconds (in the notes). The keeper's gas is read from the
receipts of its transactions as the relayer sent them, and shared equally by the orders each
released.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from web3 import Web3

from app.chain.contracts import connect
from app.settings import Settings
from bench.context import BenchContext
from bench.model import Peer, Row, Target
from harness.ape_run import STRANGER
from harness.keeper_orders import HOUR, Duty, EscrowDriver, Outcome
from harness.nodes import anvil_command, free_port, running
from harness.suite import CarrierService, block_ticker, deploy

SECTION = "Keeper"

ORDERS = 100
BATCH_TARGET = Target(15_000)
BATCH_WINDOW_EXTRA = 2 * HOUR
CODE_SIZE_LIMIT = 24_576  # EIP-170
LEAD_SECONDS = 2
POLL_SECONDS = 0.01
DEADLINE_SECONDS = 120.0
INTERVAL = float(Settings.model_fields["keeper_interval_seconds"].default)


@dataclass
class BlockClock:
    """When each block was first seen (wall clock, unix seconds), and its block time."""

    w3: Web3
    seen: dict[int, tuple[float, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def poll(self) -> None:
        last = int(self.w3.eth.block_number)
        while not self._stop.wait(POLL_SECONDS):
            head = int(self.w3.eth.block_number)
            now = time.time()
            for number in range(last + 1, head + 1):
                self.seen[number] = (now, int(self.w3.eth.get_block(number)["timestamp"]))
            last = max(last, head)

    @contextmanager
    def running(self) -> Iterator[BlockClock]:
        thread = threading.Thread(target=self.poll, name="block-clock", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def reached(self, block_time: int) -> tuple[float, int]:
        """The first block seen whose time is at least ``block_time``: when seen, its time."""
        return min((seen, stamp) for seen, stamp in self.seen.values() if stamp >= block_time)


@dataclass(frozen=True)
class KeeperRun:
    """Per order: due to executed, by the wall clock and by block time; queued (the keeper's
    outbox record written) to executed, by the wall clock. And the keeper's transactions: each
    one's gas and how many orders it released."""

    wall: list[float]
    block: list[int]
    queued: list[float]
    sent: list[tuple[int, int]]  # (gas used, orders released) per transaction

    @property
    def gas_per_order(self) -> float:
        return sum(gas for gas, _ in self.sent) / sum(orders for _, orders in self.sent)


@dataclass(frozen=True)
class KeeperBatch:
    """The batch group: the keeper's transactions, each one's gas and orders released."""

    sent: list[tuple[int, int]]

    @property
    def gas_per_order(self) -> float:
        return sum(gas for gas, _ in self.sent) / sum(orders for _, orders in self.sent)


def run(ctx: BenchContext | None = None) -> list[Row]:
    """Measures; ``ctx`` (the shared bench node) is not used: this suite brings its own."""
    del ctx
    with tempfile.TemporaryDirectory(prefix="bench-keeper-") as scratch:
        base = Path(scratch)
        port = free_port()
        with running(anvil_command(port), port, base / "anvil.log") as node:
            addresses = deploy(node.rpc_url, base)
            w3 = connect(node.rpc_url, timeout=60)
            driver = EscrowDriver(w3, addresses, base / "abi")
            driver.approve_merchant()
            plain, keepers, batch = _orders(driver)
            single = _single_releases(driver, plain)
            measured, batched = _keeper(driver, node.rpc_url, base, keepers, batch)
            code_size = driver.code_size()
    return _rows(single, measured, batched, code_size)


def _orders(driver: EscrowDriver) -> tuple[list[Duty], list[Duty], list[Duty]]:
    """The warm-up and peer orders (shortest window), the keeper's spread group (an hour longer,
    spread over one keeper interval), then its batch group (two hours longer, all due at once)."""
    ship_by = driver.block_time() + 5 * 86_400
    plain = driver.delivered([driver.min_window] * (ORDERS + 1), ship_by)
    spread = [driver.min_window + HOUR + math.floor(i * INTERVAL / ORDERS) for i in range(ORDERS)]
    batch = [driver.min_window + BATCH_WINDOW_EXTRA] * ORDERS
    return plain, driver.delivered(spread, ship_by), driver.delivered(batch, ship_by)


def _single_releases(driver: EscrowDriver, plain: list[Duty]) -> list[int]:
    """The clock past the short window; a warm-up release, then 100 measured ones."""
    driver.set_time(max(duty.due_at for duty in plain))
    warm_up, *measured = plain
    driver.release([warm_up.terms], STRANGER)
    receipts = driver.release([duty.terms for duty in measured], STRANGER)
    return [int(receipt["gasUsed"]) for receipt in receipts]


def _keeper(
    driver: EscrowDriver, rpc_url: str, base: Path, duties: list[Duty], batch: list[Duty]
) -> tuple[KeeperRun, KeeperBatch]:
    keeper = driver.funded_account()
    workdir = base / "service"
    workdir.mkdir()
    start_block = int(driver.w3.eth.block_number) + 1
    clock = BlockClock(driver.w3)
    with (
        block_ticker(driver.w3),
        clock.running(),
        CarrierService(
            rpc_url, base, workdir, keeper_private_key="0x" + bytes(keeper.key).hex()
        ) as service,
    ):
        _wait_indexed(service.url, start_block - 1)
        driver.set_time(min(duty.due_at for duty in duties) - LEAD_SECONDS)
        outcomes = _wait_released(driver, duties, keeper.address, start_block)
        queued_at = {
            str(order_id): datetime.fromisoformat(str(at)).replace(tzinfo=UTC).timestamp()
            for order_id, at in service.query(
                "SELECT subject, accepted_at FROM outbox_records WHERE kind = 'keeper_duty'"
            )
        }
        # The batch group: all due at one moment, released in the keeper's next cycle.
        batch_start = int(driver.w3.eth.block_number) + 1
        driver.set_time(max(duty.due_at for duty in batch))
        batch_outcomes = _wait_released(driver, batch, keeper.address, batch_start)
    wall, block, queued = [], [], []
    for duty in duties:
        outcome = outcomes[duty.order_id]
        due_seen, _ = clock.reached(duty.due_at)
        executed_seen, executed_time = clock.seen[outcome.block_number]
        wall.append(executed_seen - due_seen)
        block.append(executed_time - duty.due_at)
        queued.append(executed_seen - queued_at[duty.order_id])
    return (
        KeeperRun(wall, block, queued, _sent(driver, outcomes)),
        KeeperBatch(_sent(driver, batch_outcomes)),
    )


def _sent(driver: EscrowDriver, outcomes: dict[str, Outcome]) -> list[tuple[int, int]]:
    """Each transaction holding these releases: its gas used and how many of them it holds."""
    orders = Counter(outcome.tx_hash for outcome in outcomes.values())
    return [
        (int(driver.w3.eth.get_transaction_receipt(tx)["gasUsed"]), count)  # type: ignore[arg-type]
        for tx, count in sorted(orders.items())
    ]


def _wait_indexed(url: str, block: int) -> None:
    """Until the service's index has read ``block`` (the keeper finds duties in the index)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    # One client for the loop: each httpx.get would build a TLS context (~30 ms of CPU) while
    # the service indexes on the same cores.
    with httpx.Client(base_url=url, timeout=10) as client:
        while time.monotonic() < deadline:
            answer = client.get("/v1/keeper", params={"limit": 1}).json()
            if not answer["enabled"]:
                raise RuntimeError("the service's keeper is off")
            if (answer["as_of_block"] or -1) >= block:
                return
            time.sleep(0.1)
    raise TimeoutError(f"the service's index did not reach block {block}")


def _wait_released(
    driver: EscrowDriver, duties: list[Duty], keeper: str, start_block: int
) -> dict[str, Outcome]:
    """Until every order's release is on chain; each order's one release, by the keeper."""
    deadline = time.monotonic() + INTERVAL + DEADLINE_SECONDS
    ids = [duty.order_id for duty in duties]
    while time.monotonic() < deadline:
        found = driver.outcomes(ids, start_block)
        if len(found) == len(ids):
            break
        time.sleep(0.2)
    else:
        raise TimeoutError(f"{len(ids) - len(found)} of {len(ids)} due orders were not released")
    for order_id, outcomes in found.items():
        if len(outcomes) != 1 or outcomes[0].event != "OrderReleased" or outcomes[0].by != keeper:
            raise RuntimeError(f"order {order_id}: {outcomes}, not one release by the keeper")
    return {order_id: outcomes[0] for order_id, outcomes in found.items()}


def _percentile(values: list[float] | list[int], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of them at or below it."""
    ranked = sorted(values)
    return float(ranked[max(0, math.ceil(fraction * len(ranked)) - 1)])


def _transactions(count: int) -> str:
    return "one transaction" if count == 1 else f"{count} transactions"


def _rows(
    single: list[int], measured: KeeperRun, batched: KeeperBatch, code_size: int
) -> list[Row]:
    keeper_gas = round(measured.gas_per_order)
    batch_gas = round(batched.gas_per_order)
    single_gas = round(statistics.mean(single))
    peer = Peer(f"{len(single)} single `release` calls, same run", single_gas)
    sizes = sorted(orders for _, orders in measured.sent)
    batch_txs = ", ".join(f"{gas:,} gas for {orders}" for gas, orders in batched.sent)
    blocks = (
        f"by block time (whole seconds): p50 {_percentile(measured.block, 0.5):.0f} s, p99 "
        f"{_percentile(measured.block, 0.99):.0f} s, max {max(measured.block)} s"
    )
    clocks = (
        "wall clock: each block timed when a 10 ms poller first saw it; due = the first block "
        "whose time reached the order's release time, executed = the block holding the "
        f"keeper's release; keeper interval {INTERVAL:g} s (the default), due times spread "
        "over one interval"
    )
    return [
        Row(
            "keeper.gas_per_order",
            f"The keeper releasing {ORDERS} orders as they come due over one interval: gas per "
            "order (the releases each cycle found due in one `releaseDue`)",
            keeper_gas,
            "gas",
            peer=peer,
            note=f"{_transactions(len(measured.sent))} of {sizes[0]} to {sizes[-1]} orders, as the "
            "relayer sent them with the service's keeper key (no role); each transaction's gas "
            "shared by the orders it released",
        ),
        Row(
            "keeper.release_single",
            f"Peer: {ORDERS} single `release` calls by an account of no role",
            single_gas,
            "gas",
            note=f"{min(single):,} to {max(single):,} gas each; delivered orders past their "
            "dispute window, merchant's and fee recipient's credits already non-zero (a warm-up "
            "release first)",
        ),
        Row(
            "keeper.gas_per_order_batch",
            f"Gas per order: the keeper releasing {ORDERS} due SKU orders in one batch "
            "(`releaseDue`)",
            batch_gas,
            "gas",
            target=BATCH_TARGET,
            peer=peer,
            note=f"{_transactions(len(batched.sent))}: {batch_txs} orders; SKU orders of one "
            "merchant in ETH (the escrow writes the credits of a run of one merchant and token "
            "once); an order with registry items also records its sale in the registry, which "
            f"costs more per order; OrderEscrow's deployed code is {code_size:,} bytes, "
            f"{CODE_SIZE_LIMIT - code_size:,} under the {CODE_SIZE_LIMIT:,}-byte limit (EIP-170)",
        ),
        Row(
            "keeper.due_to_executed_p50",
            f"Due to executed, p50: {ORDERS} releases by the service's keeper and relayer",
            round(_percentile(measured.wall, 0.5), 2),
            "s",
            note=f"{clocks}; {blocks}",
        ),
        Row(
            "keeper.due_to_executed_p99",
            f"Due to executed, p99 (nearest rank) over the same {ORDERS} releases",
            round(_percentile(measured.wall, 0.99), 2),
            "s",
            note=f"max {max(measured.wall):.2f} s, min {min(measured.wall):.2f} s (wall clock); "
            "bounded by the keeper's interval: a duty that comes due just after a cycle waits "
            "for the next",
        ),
        Row(
            "keeper.queued_to_executed_p50",
            "Queued to executed, p50: the keeper's outbox record written to its release on chain",
            round(_percentile(measured.queued, 0.5), 2),
            "s",
            note=f"p99 {_percentile(measured.queued, 0.99):.2f} s, max "
            f"{max(measured.queued):.2f} s; wall clock (the record's time as the service wrote "
            "it, the block's as the poller first saw it): the relayer's part, without the wait "
            "for the keeper's next cycle",
        ),
    ]
