"""Signs and sends the service's transactions itself: local keys (eth-account), its own nonces,
gas estimation, fee bumps of stuck transactions, re-sending of transactions the node forgot, and a
confirmation depth — all through the journal in ``app.chain.journal``.

The rules that make a caller's effect exactly-once:

* A transaction is written to the journal (nonce, calldata, signed bytes) and committed before it
  is broadcast. A crash after that commit leaves a pending transaction that the next poll sends
  again — the same signed bytes, so the same hash.
* Every signed attempt for a nonce is journalled before it is sent; only one of them can mine.
  A transaction took effect iff one attempt has a receipt; its nonce was taken by someone else iff
  the account's mined nonce passed it and none of its attempts has a receipt (``REPLACED``).
* Nothing is reported final before ``confirmation_depth`` blocks sit on top of its receipt; a
  receipt that disappears (a reorg) puts the transaction back to pending.
* A transaction the node refuses for what it is (too large for its pool, a gas limit over the
  block's) would hold every later nonce of the account behind it. Once the account's next nonce
  is its own and it is ``cancel_refused_after_seconds`` old, its last attempt is a no-op
  (a transfer of nothing to the sender itself, at raised fees); when that no-op is at the
  confirmation depth, the transaction is ``CANCELLED`` and its callers send its work again.

One sender per (chain, account) per database: the nonces come from the node and the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import Web3Exception, Web3RPCError
from web3.types import BlockIdentifier, TxParams

from app.chain.journal import OPEN_STATES, ChainTransaction, TransactionAttempt, TxState
from app.chain.sender_policy import SenderPolicy
from app.db.session import Database

log = structlog.get_logger(__name__)

# Answers of a node to a send that mean "you already gave me this" or "this nonce is spent":
# the next poll reads the receipts and decides.
_BENIGN_SEND_ERRORS = ("already known", "already imported", "nonce too low", "known transaction")
# Refusals no resend can clear, whatever the fees or the balance: the transaction itself is more
# than the node takes (its gas over the block's, its bytes over the pool's). Any other refusal
# (funds, fees, a full pool, a rate limit) is resent until it clears.
_UNSENDABLE_MARKERS = ("gas limit", "intrinsic gas", "oversized", "too large")
_TRANSFER_GAS = 21_000


@dataclass
class PollReport:
    """What one poll saw and did."""

    open: int = 0
    confirmed: list[int] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)
    bumped: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


class TransactionSender:
    """Sends one account's transactions on one chain, journalled in ``database``."""

    def __init__(
        self,
        web3: Web3,
        account: LocalAccount,
        database: Database,
        policy: SenderPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.web3 = web3
        self.account = account
        self.address: ChecksumAddress = account.address
        self.database = database
        self.policy = policy or SenderPolicy()
        self.clock = clock
        self.chain_id = int(web3.eth.chain_id)

    # ------------------------------------------------------------------ sending

    def estimate_gas(self, to: str, data: bytes) -> int:
        """Gas for a call from this account on the pending state, with the policy's margin.

        Raises web3's contract errors when the call reverts (see ``app.chain.reverts``)."""
        params: TxParams = {"from": self.address, "to": Web3.to_checksum_address(to), "data": data}
        estimate = int(self.web3.eth.estimate_gas(params, "pending"))
        return estimate * (100 + self.policy.gas_margin_percent) // 100

    def runs_within(self, to: str, data: bytes, gas: int) -> bool:
        """Whether a call from this account runs to its end within ``gas`` on the pending state,
        as a transaction of it with that limit would (one execution, where an estimate runs it
        several times). False when it reverts or runs out of gas; raises if the node is away."""
        params: TxParams = {
            "from": self.address,
            "to": Web3.to_checksum_address(to),
            "data": data,
            "gas": gas,
        }
        try:
            self.web3.eth.call(params, "pending")
        except Web3Exception:
            return False
        return True

    def call(self, to: str, data: bytes, block: BlockIdentifier = "pending") -> bytes:
        """An ``eth_call`` from this account on ``block``'s state (by default the pending one);
        raises if it reverts."""
        params: TxParams = {"from": self.address, "to": Web3.to_checksum_address(to), "data": data}
        return bytes(self.web3.eth.call(params, block))

    def prepare(
        self, session: Session, *, to: str, data: bytes, gas_limit: int, purpose: str
    ) -> ChainTransaction:
        """Signs a transaction with this account's next nonce and adds it to ``session``.

        The caller commits (with whatever else must be durable with it), then calls
        :meth:`broadcast`. Until the commit, nothing was sent."""
        nonce = self._next_nonce(session)
        max_fee, tip = self._fees()
        tx = ChainTransaction(
            chain_id=self.chain_id,
            sender=self.address,
            nonce=nonce,
            to=Web3.to_checksum_address(to),
            data=data,
            gas_limit=gas_limit,
            purpose=purpose,
            state=TxState.PENDING,
            broadcasts=0,
        )
        tx.attempts.append(self._sign(tx, max_fee, tip))
        session.add(tx)
        session.flush()
        return tx

    def broadcast(self, transaction_id: int) -> None:
        """Sends the newest attempt of a committed transaction."""
        with self.database.transaction() as session:
            tx = session.get_one(ChainTransaction, transaction_id)
            self._send(tx, tx.latest_attempt)

    def pending_count(self) -> int:
        """Transactions of this account sent and not yet mined: the ones "in flight"."""
        with self.database.sessions() as session:
            count = session.scalar(
                select(func.count(ChainTransaction.id)).where(
                    *self.mine(), ChainTransaction.state == TxState.PENDING
                )
            )
        return int(count or 0)

    def receipt_of(self, tx_hash: str) -> dict[str, Any] | None:
        """A transaction's receipt as the node sends it (hex strings, raw logs); None if the
        node has none (not mined, or reorganised away)."""
        receipt = self._raw("eth_getTransactionReceipt", tx_hash)
        return None if receipt is None else dict(receipt)

    # ------------------------------------------------------------------ watching

    def poll(self) -> PollReport:
        """Looks at every open transaction once: receipts, depth, reorgs, forgotten and stuck
        transactions. Confirmed and replaced ones are left in the journal for the caller."""
        report = PollReport()
        bumps: list[int] = []
        cancels: list[int] = []
        with self.database.transaction() as session:
            # Order matters: the mined nonce is read before the receipts, so a transaction that
            # mines in between shows its receipt instead of looking replaced.
            mined_nonce = int(self.web3.eth.get_transaction_count(self.address, "latest"))
            report.reopened = self._reopen_forgotten(session, mined_nonce)
            open_txs = session.scalars(
                select(ChainTransaction)
                .where(*self.mine(), ChainTransaction.state.in_(OPEN_STATES))
                .order_by(ChainTransaction.nonce)
            ).all()
            report.open = len(open_txs)
            if not open_txs:
                return report
            head = int(self.web3.eth.block_number)
            now = self.clock()
            for tx in open_txs:
                found = self._receipt(tx)
                if found is not None:
                    self._record_receipt(tx, *found, head)
                    if tx.state == TxState.CONFIRMED:
                        report.confirmed.append(tx.id)
                    continue
                if tx.state == TxState.MINED:
                    log.warning("tx_reorged_out", tx_hash=tx.tx_hash, block=tx.block_number)
                    tx.state = TxState.PENDING
                    tx.tx_hash = tx.block_hash = tx.block_number = tx.gas_used = None
                    tx.succeeded = None
                    tx.last_error = None
                if tx.nonce < mined_nonce:
                    log.warning("tx_nonce_taken", nonce=tx.nonce, tx_id=tx.id)
                    tx.state = TxState.REPLACED
                    report.replaced.append(tx.id)
                elif not self._in_pool(tx):
                    if self._refused_for_good(tx, mined_nonce, now):
                        cancels.append(tx.id)
                    elif now - (tx.last_broadcast_at or 0.0) >= self.policy.resend_after_seconds:
                        log.info("tx_resent", nonce=tx.nonce, tx_hash=tx.latest_attempt.tx_hash)
                        self._send(tx, tx.latest_attempt)
                        report.resent.append(tx.id)
                elif now - tx.latest_attempt.signed_at >= self.policy.bump_after_seconds:
                    bumps.append(tx.id)
        for tx_id in bumps:
            self._new_attempt(tx_id, cancel=False)
            report.bumped.append(tx_id)
        for tx_id in cancels:
            self._new_attempt(tx_id, cancel=True)
            report.cancelled.append(tx_id)
        return report

    # ------------------------------------------------------------------ internals

    def _reopen_forgotten(self, session: Session, mined_nonce: int) -> list[int]:
        """Confirmed transactions the chain no longer has: their nonce is unspent again (a node
        restored from an older state, a reorg deeper than the confirmation depth). They are
        pending once more, so the poll sends them again (the same signed bytes), in nonce order
        before anything newer; their callers see them in ``PollReport.reopened``."""
        forgotten = session.scalars(
            select(ChainTransaction).where(
                *self.mine(),
                ChainTransaction.state.in_((TxState.CONFIRMED, TxState.CANCELLED)),
                ChainTransaction.nonce >= mined_nonce,
            )
        ).all()
        for tx in forgotten:
            log.warning("tx_forgotten_by_chain", nonce=tx.nonce, tx_hash=tx.tx_hash)
            tx.state = TxState.PENDING
            tx.tx_hash = tx.block_hash = tx.block_number = tx.gas_used = None
            tx.succeeded = None
            tx.last_broadcast_at = None
            tx.last_error = None
        return [tx.id for tx in forgotten]

    def mine(self) -> tuple[Any, ...]:
        """The conditions that select this sender's rows of the journal."""
        return (ChainTransaction.chain_id == self.chain_id, ChainTransaction.sender == self.address)

    def _next_nonce(self, session: Session) -> int:
        """Past the chain's count and every nonce this journal ever signed, confirmed ones too: a
        node restored from an older state counts fewer, and a nonce of a confirmed transaction it
        forgot must stay that transaction's (the poll sends it again), or its records would read
        confirmed while another transaction took its place."""
        chain_next = int(self.web3.eth.get_transaction_count(self.address, "pending"))
        ours = session.scalar(select(func.max(ChainTransaction.nonce)).where(*self.mine()))
        return max(chain_next, -1 if ours is None else int(ours) + 1)

    def _fees(self) -> tuple[int, int]:
        block = self.web3.eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas", 0) or 0)
        tip = self.policy.priority_fee
        max_fee = 2 * base_fee + tip
        if self.policy.max_fee_per_gas is not None:
            max_fee = min(max_fee, self.policy.max_fee_per_gas)
            tip = min(tip, max_fee)
        return max_fee, tip

    def _sign(
        self, tx: ChainTransaction, max_fee: int, tip: int, *, no_op: bool = False
    ) -> TransactionAttempt:
        """An attempt at ``tx``'s nonce: its call, or (``no_op``) a transfer of nothing to the
        sender, which only spends the nonce."""
        signed = self.account.sign_transaction(
            {
                "type": 2,
                "chainId": tx.chain_id,
                "nonce": tx.nonce,
                "to": self.address if no_op else Web3.to_checksum_address(tx.to),
                "value": 0,
                "data": b"" if no_op else tx.data,
                "gas": _TRANSFER_GAS if no_op else tx.gas_limit,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": tip,
            }
        )
        return TransactionAttempt(
            tx_hash=HexBytes(signed.hash).to_0x_hex(),
            raw=bytes(signed.raw_transaction),
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
            signed_at=self.clock(),
        )

    def _send(self, tx: ChainTransaction, attempt: TransactionAttempt) -> None:
        tx.broadcasts += 1
        tx.last_broadcast_at = self.clock()
        try:
            self.web3.eth.send_raw_transaction(attempt.raw)
        except Web3RPCError as error:
            text = str(error)
            if any(marker in text.lower() for marker in _BENIGN_SEND_ERRORS):
                tx.last_error = None
            else:
                tx.last_error = text[:500]
                log.warning("tx_send_refused", nonce=tx.nonce, tx_hash=attempt.tx_hash, error=text)
        else:
            tx.last_error = None

    def _refused_for_good(self, tx: ChainTransaction, mined_nonce: int, now: float) -> bool:
        """Whether ``tx``, out of the pool, holds the account's next nonce, was refused when last
        sent for what it is, and is old enough: resent, it would hold every later nonce."""
        refusal = (tx.last_error or "").lower()
        return (
            any(marker in refusal for marker in _UNSENDABLE_MARKERS)
            and tx.nonce == mined_nonce
            and now - tx.latest_attempt.signed_at >= self.policy.cancel_refused_after_seconds
            and not tx.is_no_op(tx.latest_attempt)
        )

    def _new_attempt(self, transaction_id: int, *, cancel: bool) -> None:
        """A new attempt at raised fees, journalled and committed first, then sent: the same call
        for one stuck in the pool (a no-op if its newest attempt is one), or, with ``cancel``, a
        no-op for one the node refuses."""
        with self.database.transaction() as session:
            tx = session.get_one(ChainTransaction, transaction_id)
            if tx.state != TxState.PENDING:
                return
            max_fee, tip = self._raised_fees(tx.latest_attempt)
            cap = self.policy.max_fee_per_gas
            if cap is not None and max_fee > cap:
                if not cancel:
                    log.warning("tx_fee_cap_reached", nonce=tx.nonce, cap=cap)
                    return
                max_fee, tip = cap, min(tip, cap)
            no_op = cancel or tx.is_no_op(tx.latest_attempt)
            attempt = self._sign(tx, max_fee, tip, no_op=no_op)
            tx.attempts.append(attempt)
            if cancel:
                log.warning("tx_cancelled", nonce=tx.nonce, tx_hash=attempt.tx_hash)
            else:
                log.info("tx_fee_bumped", nonce=tx.nonce, tx_hash=attempt.tx_hash, max_fee=max_fee)
        with self.database.transaction() as session:
            tx = session.get_one(ChainTransaction, transaction_id)
            self._send(tx, tx.latest_attempt)

    def _raised_fees(self, old: TransactionAttempt) -> tuple[int, int]:
        """Today's fees, and at least the policy's bump over ``old``'s: what a node takes as a
        replacement of the same nonce."""
        max_fee, tip = self._fees()
        factor = 100 + self.policy.fee_bump_percent
        tip = max(tip, old.max_priority_fee_per_gas * factor // 100 + 1)
        return max(max_fee, old.max_fee_per_gas * factor // 100 + 1, tip), tip

    def _receipt(self, tx: ChainTransaction) -> tuple[dict[str, Any], TransactionAttempt] | None:
        """The receipt of the attempt that mined, with that attempt; None if none did."""
        for attempt in reversed(tx.attempts):
            receipt = self._raw("eth_getTransactionReceipt", attempt.tx_hash)
            if receipt is not None:
                return dict(receipt), attempt
        return None

    def _in_pool(self, tx: ChainTransaction) -> bool:
        return any(
            self._raw("eth_getTransactionByHash", attempt.tx_hash) is not None
            for attempt in reversed(tx.attempts)
        )

    def _raw(self, method: str, tx_hash: str) -> Any:
        """A raw JSON-RPC answer: receipts of big batches carry hundreds of logs, which web3's
        result formatting would turn into attribute dictionaries one by one for nothing."""
        answer = self.web3.provider.make_request(method, [tx_hash])  # type: ignore[arg-type]
        if answer.get("error"):
            raise Web3RPCError(str(answer["error"]))
        return answer.get("result")

    def _record_receipt(
        self,
        tx: ChainTransaction,
        receipt: dict[str, Any],
        attempt: TransactionAttempt,
        head: int,
    ) -> None:
        block = int(receipt["blockNumber"], 16)
        block_hash = str(receipt["blockHash"])
        if tx.block_hash is not None and tx.block_hash != block_hash:
            log.warning("tx_moved_block", nonce=tx.nonce, old=tx.block_number, new=block)
        tx.tx_hash = str(receipt["transactionHash"])
        tx.block_number = block
        tx.block_hash = block_hash
        tx.gas_used = int(receipt["gasUsed"], 16)
        no_op = tx.is_no_op(attempt)  # it spent the nonce: nothing of the transaction ran
        tx.succeeded = int(receipt["status"], 16) == 1 and not no_op
        if head - block < self.policy.confirmation_depth:
            tx.state = TxState.MINED
        else:
            tx.state = TxState.CANCELLED if no_op else TxState.CONFIRMED
