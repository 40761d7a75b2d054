"""Merchants' signed requests (``app.merchant.requests``), several to a transaction through
``TrustMallForwarder.executeBatch`` with a refund receiver, so that one request whose call reverts
fails alone: the forwarder then still uses its nonce and logs
``ExecutedForwardRequest(signer, nonce, false)``. A request the forwarder finds invalid (expired,
its nonce not the signer's next) is skipped, nonce unused, with no log.

Exactly once comes from the forwarder: a signer's nonce runs once. Before a batch goes, each
request's nonce is read against the forwarder's: one already used (a resend after a crash, or
someone who relayed the signed request first) is settled from its log; one whose earlier nonce is
still on its way waits; one whose earlier nonce can no longer run (its request expired unsent)
fails, as the forwarder would skip it for ever. After mining, each record is read from its log.

A withdrawn request (``app.merchant.request_withdrawal``) is never sent, but anyone holding its
signature may relay it until its nonce is spent. Once the signer's nonce passes it, it is confirmed
with the transaction that ran it if that carried it, or its reason says what spent the nonce (or
that its deadline passed unspent); then it is looked at no more.

A batch holds what a block can run: the forwarder gives each call exactly its signed gas and, so
that a relayer cannot starve a call, ends the whole transaction with INVALID when a call could not
get it. A batch whose calls outgrow the block is not refused (no revert names a request): the node
cannot even estimate it. Requests are taken, oldest first, while their signed gas (with the
forwarder's own work for each) stays within the share of the block's gas limit the relay fills;
the rest wait for the next batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import structlog
from eth_abi.abi import encode
from eth_typing import HexStr
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import select, update

from app.chain.forwarded import forwarded_refusal, forwarder_nonces
from app.chain.log_ranges import logs_in_ranges
from app.chain.reverts import explain
from app.chain.rpc_reads import Batches
from app.db.base import utc_now
from app.domain.abi_types import address_topic, from_hex
from app.domain.forward_requests import (
    BATCH_BYTES_PER_REQUEST,
    FORWARDER,
    MAX_BATCH_DATA,
    REQUEST_DATA_TYPE,
    ForwardRequest,
)
from app.outbox.calls import BatchCall, RowView
from app.outbox.kinds.base import KindRelay, SucceededSends
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.outbox.plan import WAITING_FOR_DEPTH, Plan

log = structlog.get_logger(__name__)

REQUEST_SOURCE = "merchant-request"
# A withdrawn request's reason while someone else could still relay it.
WITHDRAWN = "withdrawn by its signer before the service sent it"
EXECUTED_TOPIC = keccak(text="ExecutedForwardRequest(address,uint256,bool)")
WAITING_FOR_EARLIER = "waiting for the signer's earlier request"
# Seconds a request's deadline must leave after the next block's time for it to be sent.
DEADLINE_MARGIN = 30
# The forwarder's own gas for one request of a batch, beyond its call's: calldata, the signature
# recovered, the nonce's slot written, the log (about 40,000 for a few items' registerItems).
FORWARDER_GAS_PER_REQUEST = 60_000
# The share of the block's gas limit a batch's signed gas may fill (the lane's own bound on an
# estimate: it halves a batch estimated above it).
BLOCK_GAS_SHARE = 0.9


def request_of(payload: Mapping[str, Any]) -> ForwardRequest:
    """The signed request an outbox record keeps."""
    return ForwardRequest(
        sender=str(payload["from"]),
        to=str(payload["to"]),
        value=int(payload["value"]),
        gas=int(payload["gas"]),
        nonce=int(payload["nonce"]),
        deadline=int(payload["deadline"]),
        data=from_hex(str(payload["data"])),
    )


def request_event_id(signer: str, nonce: int, failed_before: int) -> str:
    """The outbox key of a signer's request with ``nonce``, after ``failed_before`` requests of
    that nonce failed without using it (expired or stranded unsent, or skipped by the forwarder):
    the nonce is still the signer's next, so it is signed again, and its new request needs a key
    of its own."""
    first = f"{signer}:{nonce}"
    return first if failed_before == 0 else f"{first}:{failed_before}"


def request_payload(request: ForwardRequest, signature: bytes) -> dict[str, Any]:
    """What an outbox record keeps of a signed request (big numbers as decimal text)."""
    return {
        "from": request.sender,
        "to": request.to,
        "value": str(request.value),
        "gas": str(request.gas),
        "nonce": str(request.nonce),
        "deadline": request.deadline,
        "data": "0x" + request.data.hex(),
        "signature": "0x" + signature.hex(),
    }


@dataclass(frozen=True)
class ForwarderBatchCall(BatchCall):
    """``executeBatch(ForwardRequestData[], address refundReceiver)``. The receiver only makes the
    batch non-atomic: requests carry no value (the API refuses any), so nothing is refunded."""

    @property
    def signature(self) -> str:
        return f"{self.function}({self.tuple_type}[],address)"

    def encode(self, rows: Sequence[RowView]) -> bytes:
        requests = [
            request_of(row.payload).request_data(from_hex(str(row.payload["signature"])))
            for row in rows
        ]
        types = [f"{self.tuple_type}[]", "address"]
        return self.selector + encode(types, [requests, self.address])


@dataclass(frozen=True)
class Executed:
    """A forwarder log: the request of (signer, nonce) ran, and whether its call succeeded."""

    success: bool
    tx_hash: str
    block: int


class MerchantRequestRelay(KindRelay):
    kind = RelayKind.MERCHANT_REQUEST
    contract_name = FORWARDER
    function = "executeBatch"
    tuple_type = REQUEST_DATA_TYPE
    error_contracts = ("ProductRegistry", "OrderEscrow")

    @classmethod
    def call_on(cls, contract: Any) -> BatchCall:
        return ForwarderBatchCall(cls.kind, contract, cls.function, cls.tuple_type, _unused)

    # ------------------------------------------------------------------ preparing

    def prepare(self, rows: list[RowView], head: int, plan: Plan) -> list[RowView]:
        # Signers whose next nonce failed unsent in this batch: their later nonces cannot run.
        stranded: set[str] = set()
        live: dict[str, set[int]] = {}  # a signer's nonces on their way here, read once
        block = self.context.suite.web3.eth.get_block("latest")
        block_time = int(block["timestamp"]) + 1
        send: list[RowView] = []
        # Every signer's nonce in one read (a batch of calls), not one call each.
        signers = sorted({str(row.payload["from"]) for row in rows})
        chain_nonce = forwarder_nonces(
            cast(Batches, self.context.suite.web3.provider), self.call.address, signers
        )
        expected = dict(chain_nonce)
        for row in sorted(rows, key=lambda r: (str(r.payload["from"]), int(r.payload["nonce"]))):
            request = request_of(row.payload)
            signer = request.sender
            if request.nonce < chain_nonce[signer]:
                self._settle_executed(row, request, head, plan)
            elif request.nonce > expected[signer]:
                if signer not in live:
                    live[signer] = self._live_nonces(signer)
                if signer in stranded or expected[signer] not in live[signer]:
                    plan.failed[row.id] = (
                        f"nonce {request.nonce} cannot run: the signer's nonce "
                        f"{expected[signer]} was never used (its request failed before it was "
                        "sent); sign again with that nonce"
                    )
                else:
                    plan.deferred[row.id] = WAITING_FOR_EARLIER
            elif request.deadline < block_time + DEADLINE_MARGIN:
                plan.failed[row.id] = "expired before it could be relayed (deadline passed)"
                stranded.add(signer)
            else:
                expected[signer] += 1
                send.append(row)
        return within_block(send, int(block["gasLimit"]))

    def _settle_executed(
        self, row: RowView, request: ForwardRequest, head: int, plan: Plan
    ) -> None:
        """A request whose nonce the forwarder already used: by this request (sent before a crash,
        or relayed by someone else) or, failing that, by another request of its signer."""
        found = self._executed(request.sender).get(request.nonce)
        if found is None or not self._carries(found, row.payload):
            plan.failed[row.id] = _used_by_another(request)
        elif head - found.block < self.context.depth:
            plan.deferred[row.id] = WAITING_FOR_DEPTH
        elif found.success:
            plan.confirmed[row.id] = (found.tx_hash, found.block)
        else:
            plan.failed[row.id] = self._why_failed(request, found.block)

    def _live_nonces(self, signer: str) -> set[int]:
        """The nonces of the signer's requests still on their way here (queued or submitted)."""
        with self.context.database.sessions() as session:
            query = select(OutboxRecord.payload).where(
                OutboxRecord.kind == self.kind,
                OutboxRecord.subject == signer,
                OutboxRecord.status.in_([RelayStatus.QUEUED, RelayStatus.SUBMITTED]),
            )
            return {int(payload["nonce"]) for payload in session.scalars(query)}

    def _executed(self, signer: str) -> dict[int, Executed]:
        """The forwarder's ``ExecutedForwardRequest`` logs of ``signer``, by nonce."""
        start = self.context.suite.deployed_at_block(self.contract_name)
        topics = ["0x" + EXECUTED_TOPIC.hex(), address_topic(signer)]
        logs = logs_in_ranges(self.context.suite.web3, self.call.address, topics, start)
        found: dict[int, Executed] = {}
        for log in logs:
            _signer, nonce, success = executed_in(log)
            found[nonce] = Executed(
                success, HexBytes(log["transactionHash"]).to_0x_hex(), int(log["blockNumber"])
            )
        return found

    def _carries(self, found: Executed, payload: Mapping[str, Any]) -> bool:
        """Whether the transaction of ``found`` carried this request: its signature (which binds
        every field) is in the transaction's input. The log names only signer and nonce, and a
        signer may have signed another request of that nonce and had it run first (sent itself,
        or by a thief of its key): that one's success is not this one's."""
        sent = self.context.suite.web3.eth.get_transaction(HexStr(found.tx_hash))
        return from_hex(str(payload["signature"])) in bytes(sent["input"])

    def _why_failed(self, request: ForwardRequest, block: int) -> str:
        """The target's own reason, from the call simulated on the state of ``block``."""
        data = forwarded_refusal(self.context.suite.web3, self.call.address, request, block)
        if data is None:
            return "the call reverted in its batch (it succeeds on the state after its block)"
        if not data:
            return "the call reverted without a reason (out of its signed gas?)"
        return explain(self.context.decoder.decode(data))

    # ------------------------------------------------------------------ withdrawn requests

    def follow_settled(self) -> None:
        with self.context.database.sessions() as session:
            withdrawn = session.execute(
                select(OutboxRecord.id, OutboxRecord.payload).where(
                    OutboxRecord.kind == self.kind,
                    OutboxRecord.status == RelayStatus.FAILED,
                    OutboxRecord.failure_reason == WITHDRAWN,
                )
            ).all()
        if not withdrawn:
            return
        web3 = self.context.suite.web3
        head = web3.eth.get_block("latest")
        signers = sorted({str(payload["from"]) for _id, payload in withdrawn})
        chain_nonce = forwarder_nonces(cast(Batches, web3.provider), self.call.address, signers)
        executed: dict[str, dict[int, Executed]] = {}  # a signer's logs, read once
        outcomes: dict[int, dict[str, Any]] = {}
        for record_id, payload in withdrawn:
            request = request_of(payload)
            if request.nonce >= chain_nonce[request.sender]:
                if request.deadline < int(head["timestamp"]):
                    outcomes[record_id] = {"failure_reason": f"{WITHDRAWN}; it expired unsent"}
                continue
            if request.sender not in executed:
                executed[request.sender] = self._executed(request.sender)
            found = executed[request.sender].get(request.nonce)
            outcome = self._withdrawn_outcome(request, payload, found, int(head["number"]))
            if outcome is not None:
                outcomes[record_id] = outcome
        self._write_withdrawn(outcomes)

    def _withdrawn_outcome(
        self, request: ForwardRequest, payload: Mapping[str, Any], found: Executed | None, head: int
    ) -> dict[str, Any] | None:
        """What a withdrawn request whose nonce was spent becomes; None until the transaction that
        spent it is at depth."""
        if found is None or head - found.block < self.context.depth:
            return None
        if not self._carries(found, payload):
            return {"failure_reason": f"{WITHDRAWN}; {_used_by_another(request)}"}
        if not found.success:
            why = self._why_failed(request, found.block)
            return {"failure_reason": f"{WITHDRAWN}; relayed by someone else, it failed: {why}"}
        return {
            "status": RelayStatus.CONFIRMED,
            "tx_hash": found.tx_hash,
            "block_number": found.block,
            "confirmed_at": utc_now(),
            "failure_reason": None,
        }

    def _write_withdrawn(self, outcomes: Mapping[int, Mapping[str, Any]]) -> None:
        """Writes each outcome on its record if the record is still withdrawn."""
        if not outcomes:
            return
        with self.context.database.transaction() as session:
            for record_id, values in outcomes.items():
                session.execute(
                    update(OutboxRecord)
                    .where(
                        OutboxRecord.id == record_id,
                        OutboxRecord.status == RelayStatus.FAILED,
                        OutboxRecord.failure_reason == WITHDRAWN,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
        log.info("merchant_requests_withdrawn_settled", records=sorted(outcomes))

    # ------------------------------------------------------------------ settling

    def refused_in_receipts(self, sends: SucceededSends) -> tuple[dict[int, str], set[int]]:
        """Each request of a mined batch by its ``ExecutedForwardRequest`` log: a false success
        fails the record with the target's reason; no log (the forwarder skipped it) fails it,
        unless the signer's nonce was used for it elsewhere (then it is confirmed with this
        transaction, which settles it)."""
        payloads = self.sent_payloads(sends)
        refused: dict[int, str] = {}
        unsettled: set[int] = set()
        executed: dict[str, dict[int, Executed]] = {}  # a signer's logs, read once
        for tx_id, (tx_hash, record_ids) in sends.items():
            receipt = self.context.sender.receipt_of(tx_hash)
            if receipt is None:
                unsettled.add(tx_id)
                continue
            block = int(str(receipt["blockNumber"]), 16)
            ran = self._ran_in(receipt)
            for record_id in record_ids:
                request = request_of(payloads[record_id])
                success = ran.get((request.sender.lower(), request.nonce))
                if success is False:
                    refused[record_id] = self._why_failed(request, block)
                elif success is None:
                    if request.sender not in executed:
                        executed[request.sender] = self._executed(request.sender)
                    found = executed[request.sender].get(request.nonce)
                    if found is None or not found.success:
                        refused[record_id] = "not run: expired, or its nonce was not the next"
                    elif not self._carries(found, payloads[record_id]):
                        refused[record_id] = _used_by_another(request)
        return refused, unsettled

    def _ran_in(self, receipt: Mapping[str, Any]) -> dict[tuple[str, int], bool]:
        """(signer, nonce) -> success, from the forwarder's logs in a raw receipt."""
        ran: dict[tuple[str, int], bool] = {}
        for log in receipt.get("logs", []):
            if str(log["address"]).lower() != self.call.address.lower():
                continue
            topics = log["topics"]
            if not topics or HexBytes(topics[0]) != EXECUTED_TOPIC:
                continue
            signer, nonce, success = executed_in(log)
            ran[(signer, nonce)] = success
        return ran


def _used_by_another(request: ForwardRequest) -> str:
    return f"the signer's nonce {request.nonce} was used by another request"


def executed_in(log: Mapping[str, Any]) -> tuple[str, int, bool]:
    """An ``ExecutedForwardRequest(address indexed signer, uint256 nonce, bool success)`` log, as
    a node returns it (from ``eth_getLogs`` or a receipt): (signer in lower case, nonce,
    success)."""
    data = HexBytes(log["data"])
    signer = "0x" + HexBytes(log["topics"][1])[-20:].hex()
    return signer, int.from_bytes(data[:32], "big"), any(data[32:64])


def within_block(rows: list[RowView], block_gas_limit: int) -> list[RowView]:
    """The oldest of ``rows`` (at least one) whose gas (signed and calldata's), and the
    forwarder's for each, fits in ``BLOCK_GAS_SHARE`` of a block, and whose calldata fits in
    ``MAX_BATCH_DATA`` bytes; never a signer's nonce without the ones before it."""
    budget = int(block_gas_limit * BLOCK_GAS_SHARE)
    fits: set[int] = set()
    total = size = 0
    for row in sorted(rows, key=lambda r: r.id):
        request = request_of(row.payload)
        total += request.charged_gas + FORWARDER_GAS_PER_REQUEST
        size += len(request.data) + BATCH_BYTES_PER_REQUEST
        if fits and (total > budget or size > MAX_BATCH_DATA):
            break
        fits.add(row.id)
    taken: list[RowView] = []
    cut: set[str] = set()
    for row in sorted(rows, key=lambda r: (str(r.payload["from"]), int(r.payload["nonce"]))):
        signer = str(row.payload["from"])
        if row.id not in fits:
            cut.add(signer)
        elif signer not in cut:
            taken.append(row)
    return sorted(taken, key=lambda row: row.id)


def _unused(_row: RowView) -> list[bytes]:
    raise NotImplementedError("ForwarderBatchCall encodes whole batches")
