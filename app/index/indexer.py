"""The indexer: reads the suite's events with ``eth_getLogs`` in block ranges, decodes them with the
ABIs and hands each to its handler, up to ``confirmation_depth`` blocks below the head.

Reorgs: the index keeps the hash of every block it took events from and of the last block of each
range. Before each cycle it compares the newest kept hashes with the chain's; on a mismatch it
walks back to the newest block the chain still has, deletes every row from the blocks after it
(one ``DELETE`` per table, since rows are insert-only; ``app.index.derived`` takes their counts
away) and indexes again from there.

Resumable: the cursor (last block indexed, per deployment) is written in the same transaction as
the rows of its range, so a crash loses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.lease import Lease
from app.db.session import Database
from app.domain.errors import TrustMallError
from app.index.chain import RPC_ERRORS, BlockHeader, ChainAccess, ChainUnavailable, RawLog
from app.index.derived import DerivedTables
from app.index.handlers import ChainLog, Handler, HandlerTable, default_handlers
from app.index.models import IndexCursor, IndexedBlock, chain_record_tables
from app.index.plan import Plan, build_plan

log = structlog.get_logger(__name__)

CURSOR = "chain"
DEFAULT_BLOCK_RANGE = 2_000
# Blocks without events are remembered only this far back (enough to notice any sane reorg).
RECENT_BLOCKS = 256
VERIFY_PAGE = 32
HEADER_BATCH = 500


class ReorgDuringFetch(TrustMallError, RuntimeError):
    """The chain changed while a range was being read; the next cycle reads it again."""


@dataclass(frozen=True)
class IndexProgress:
    """What one cycle did."""

    head: int
    safe_head: int
    last_block: int
    logs: int
    rolled_back_to: int | None = None


@dataclass
class IndexStatus:
    """The latest the indexer knows, for readiness and metrics (no database read needed)."""

    head: int | None = None
    last_block: int | None = None
    last_cycle_at: float | None = None
    last_error: str | None = None
    rollbacks: int = 0
    logs_indexed: int = 0
    # Whether this process leads the indexing (holds the index's lease); None with no lease.
    leading: bool | None = None


class Indexer:
    """Follows the deployment's events into the database."""

    def __init__(
        self,
        database: Database,
        chain: ChainAccess,
        *,
        confirmation_depth: int,
        handlers: HandlerTable | None = None,
        block_range: int = DEFAULT_BLOCK_RANGE,
        from_block: int | None = None,
        lease: Lease | None = None,
    ) -> None:
        if block_range < 1:
            raise ValueError("block_range must be at least 1")
        self.database = database
        self.chain = chain
        self.confirmation_depth = confirmation_depth
        self.handlers = handlers or default_handlers()
        self.block_range = block_range
        # Where a new index starts: the deployment's first block unless set (a service that needs
        # only recent history; tests on a shared chain). Read when the cursor is created; what
        # happened before it (a merchant's approval...) is unknown to the index.
        self.from_block = from_block
        # With several processes on one database, only the lease's holder indexes: the others
        # stand by, and one takes over within the lease's seconds when the holder stops.
        self.lease = lease
        self.status = IndexStatus()
        self.derived = DerivedTables()  # kept in each range's and each rollback's transaction
        self._plan: Plan | None = None
        # The plan whose cursor this indexer made (or found) and counted the derived tables for:
        # the counting is checked once per process, not every cycle.
        self._ensured: str | None = None

    # ---------------------------------------------------------------------------- the cycle

    def run_once(self, *, leased: bool = False) -> IndexProgress:
        """Checks the last indexed blocks against the chain, rolls back what a reorg removed, then
        indexes every range up to ``head - confirmation_depth``; ``leased``: renewing the lease
        before each range, and stopping when another process holds it (the worker's way)."""
        try:
            progress = self._run_once(leased)
        except ChainUnavailable as error:
            self.status.last_error = str(error)
            raise
        except RPC_ERRORS as error:
            self.status.last_error = str(error)
            raise ChainUnavailable(str(error)) from error
        self.status.head = progress.head
        self.status.last_block = progress.last_block
        self.status.last_cycle_at = time.time()
        self.status.last_error = None
        self.status.logs_indexed += progress.logs
        if progress.rolled_back_to is not None:
            self.status.rollbacks += 1
        return progress

    async def run_forever(self, poll_seconds: float) -> None:
        """The background worker: a cycle, then a pause, for the app's lifetime (cycles only
        while this process holds the lease, if the indexer has one)."""
        try:
            while True:
                if await asyncio.to_thread(self.take_lead):
                    await self._cycle()
                await asyncio.sleep(poll_seconds)
        finally:
            if self.lease is not None and self.status.leading:
                await asyncio.shield(asyncio.to_thread(self.lease.release))

    def take_lead(self) -> bool:
        """Takes or renews the lease; whether this process may index now."""
        if self.lease is None:
            return True
        leading = self.lease.take()
        if leading != self.status.leading:
            log.info("index_lease", leading=leading, lease=self.lease.name)
        self.status.leading = leading
        return leading

    async def _cycle(self) -> None:
        """One cycle in a thread; a chain that does not answer is logged and tried again."""
        try:
            progress = await asyncio.to_thread(self.run_once, leased=True)
            if progress.logs or progress.rolled_back_to is not None:
                log.info(
                    "index_advanced",
                    last_block=progress.last_block,
                    head=progress.head,
                    logs=progress.logs,
                    rolled_back_to=progress.rolled_back_to,
                )
        except ChainUnavailable as error:
            log.warning("index_chain_unavailable", error=str(error))

    def _run_once(self, leased: bool) -> IndexProgress:
        plan = self.plan()
        head = self.chain.head()
        safe_head = head - self.confirmation_depth
        self._ensure_cursor(plan)
        rolled_back_to = self._verify_recent_blocks()
        last = self.last_block()
        logs = 0
        while last < safe_head and (not leased or self.take_lead()):
            end = min(last + self.block_range, safe_head)
            try:
                logs += self._index_range(plan, last + 1, end)
            except ReorgDuringFetch as error:
                log.warning("index_reorg_during_fetch", error=str(error))
                break
            last = end
        return IndexProgress(head, safe_head, last, logs, rolled_back_to)

    # ---------------------------------------------------------------------------- plan

    def plan(self) -> Plan:
        """Addresses, topics and decoders for the deployment (built once)."""
        if self._plan is None:
            self._plan = build_plan(self.chain, self.handlers)
        return self._plan

    # ---------------------------------------------------------------------------- cursor

    def last_block(self) -> int:
        return self._cursor().last_block

    def _cursor(self) -> IndexCursor:
        with self.database.sessions() as session:
            cursor = session.get(IndexCursor, CURSOR)
            if cursor is None:
                raise LookupError("the index has no cursor yet")
            return cursor

    def _ensure_cursor(self, plan: Plan) -> None:
        """Creates the cursor; a cursor of another deployment wipes the index first."""
        if self._ensured == plan.fingerprint:
            with self.database.sessions() as session:  # a read: a write only when it changed
                cursor = session.get(IndexCursor, CURSOR)
                if cursor is not None and cursor.fingerprint == plan.fingerprint:
                    return
        self._make_cursor(plan)
        self._ensured = plan.fingerprint

    def _make_cursor(self, plan: Plan) -> None:
        with self.database.transaction() as session:
            self.derived.ensure_counted(session)  # an index older than them counts them once
            cursor = session.get(IndexCursor, CURSOR)
            if cursor is not None and cursor.fingerprint == plan.fingerprint:
                return
            start = self.from_block if self.from_block is not None else plan.start_block
            if cursor is not None:
                log.warning(
                    "index_deployment_changed", old=cursor.fingerprint, new=plan.fingerprint
                )
                self.derived.roll_back(session, None, _delete_from)
                session.delete(cursor)
                session.flush()
            session.add(
                IndexCursor(
                    name=CURSOR,
                    chain_id=plan.chain_id,
                    fingerprint=plan.fingerprint,
                    start_block=start,
                    last_block=start - 1,
                    last_block_hash=None,
                )
            )

    # ---------------------------------------------------------------------------- reorgs

    def _verify_recent_blocks(self) -> int | None:
        """Rolls back to the newest kept block the chain still has; returns it if it rolled back."""
        newest: int | None = None
        keep: int | None = None
        below: int | None = None
        page_size = 1  # the newest block first: when it stands, so do all before it
        while keep is None:
            with self.database.sessions() as session:
                query = select(IndexedBlock).order_by(IndexedBlock.number.desc())
                if below is not None:
                    query = query.where(IndexedBlock.number < below)
                page = list(session.scalars(query.limit(page_size)))
            page_size = VERIFY_PAGE
            if not page:
                break
            if newest is None:
                newest = page[0].number
            chain_headers = self.chain.headers([block.number for block in page])
            for block in page:
                header = chain_headers[block.number]
                if header is not None and header.hash == block.hash:
                    keep = block.number
                    break
            below = page[-1].number
        if newest is None or keep == newest:
            return None
        kept = keep if keep is not None else self._cursor().start_block - 1
        self.rollback_to(kept)
        log.warning("index_reorg_rolled_back", kept_block=kept, newest_indexed=newest)
        return kept

    def rollback_to(self, kept_block: int) -> None:
        """Deletes every row from blocks after ``kept_block`` and moves the cursor back to it."""
        with self.database.transaction() as session:
            self.derived.roll_back(session, kept_block + 1, _delete_from)
            cursor = session.get(IndexCursor, CURSOR)
            if cursor is not None and cursor.last_block > kept_block:
                kept = session.get(IndexedBlock, kept_block)
                cursor.last_block = kept_block
                cursor.last_block_hash = kept.hash if kept is not None else None

    # ---------------------------------------------------------------------------- ranges

    def _index_range(self, plan: Plan, first: int, last: int) -> int:
        end_before = self._header(last)
        raw_logs = self.chain.logs(first, last, list(plan.addresses), [plan.topics])
        block_numbers = sorted({entry.block_number for entry in raw_logs})
        headers = self._headers([*block_numbers, last])
        if headers[last] is None or headers[last].hash != end_before.hash:  # type: ignore[union-attr]
            raise ReorgDuringFetch(f"block {last} changed while blocks {first}-{last} were read")
        decoded: list[tuple[ChainLog, Handler]] = []
        for entry in sorted(raw_logs, key=lambda e: (e.block_number, e.log_index)):
            number = entry.block_number
            header = headers[number]
            if header is None or header.hash != entry.block_hash:
                raise ReorgDuringFetch(f"block {number} changed while it was read")
            item = self._decode(plan, entry, header)
            if item is not None:
                decoded.append(item)
        with self.database.transaction() as session:
            for chain_log, handler in decoded:
                handler(session, chain_log)
            if decoded:
                self.derived.follow_range(session, first, last)
            for number in block_numbers:
                header = headers[number]
                assert header is not None
                session.merge(
                    IndexedBlock(number=number, hash=header.hash, time=header.time, has_logs=True)
                )
            end = headers[last]
            assert end is not None
            if last not in block_numbers:
                session.merge(
                    IndexedBlock(number=last, hash=end.hash, time=end.time, has_logs=False)
                )
            session.execute(
                delete(IndexedBlock).where(
                    IndexedBlock.has_logs.is_(False), IndexedBlock.number < last - RECENT_BLOCKS
                )
            )
            cursor = session.get(IndexCursor, CURSOR)
            assert cursor is not None
            cursor.last_block = last
            cursor.last_block_hash = end.hash
        return len(decoded)

    def _decode(
        self, plan: Plan, entry: RawLog, header: BlockHeader
    ) -> tuple[ChainLog, Handler] | None:
        if not entry.topics:
            return None
        subscription = plan.by_key.get((entry.address, entry.topics[0]))
        if subscription is None:
            return None
        args = subscription.decoder.decode(
            [bytes.fromhex(topic[2:]) for topic in entry.topics], bytes.fromhex(entry.data[2:])
        )
        chain_log = ChainLog(
            contract=subscription.contract,
            event=subscription.event,
            args=args,
            address=entry.address,
            block_number=header.number,
            block_hash=header.hash,
            block_time=header.time,
            tx_hash=entry.tx_hash,
            log_index=entry.log_index,
        )
        return chain_log, subscription.handler

    def _header(self, number: int) -> BlockHeader:
        header = self.chain.headers([number])[number]
        if header is None:
            raise ReorgDuringFetch(f"block {number} is gone")
        return header

    def _headers(self, numbers: list[int]) -> dict[int, BlockHeader | None]:
        found: dict[int, BlockHeader | None] = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), HEADER_BATCH):
            found.update(self.chain.headers(unique[start : start + HEADER_BATCH]))
        return found


def _delete_from(session: Session, first_block: int | None) -> None:
    """Deletes index rows from ``first_block`` on (all rows when None)."""
    for table in chain_record_tables():
        query = delete(table)
        if first_block is not None:
            query = query.where(table.block_number >= first_block)
        session.execute(query)
    blocks = delete(IndexedBlock)
    if first_block is not None:
        blocks = blocks.where(IndexedBlock.number >= first_block)
    session.execute(blocks)
