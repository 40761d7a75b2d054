"""Escrow logistics reports the escrow skipped: ``reportLogistics`` applies what its rules allow
and emits ``LogisticsUpdateRejected(orderId, kind, carrier, reason)`` for each report it refuses,
``reason`` being the ABI-encoded custom error. The relayer reads them from the receipt of each
confirmed batch and fails exactly those records, with the error decoded by name and arguments.

A rejection names its report by (order, kind, carrier); the relayer never puts two reports with
the same three in one batch (``app.outbox.kinds.logistics``), so each rejection names one
record."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

log = structlog.get_logger(__name__)

REJECTED_TOPIC = "0x" + keccak(text="LogisticsUpdateRejected(bytes32,uint8,uint16,bytes)").hex()


@dataclass(frozen=True)
class Rejection:
    """One ``LogisticsUpdateRejected`` log."""

    order_id: str  # 0x + 64 hex, lower case
    kind: int
    carrier: int
    reason: bytes  # the custom error, selector first

    def names(self, payload: Mapping[str, Any]) -> bool:
        """Whether this rejection is of the report ``payload`` describes."""
        return (
            str(payload["order_id"]).lower() == self.order_id
            and int(payload["kind"]) == self.kind
            and int(payload.get("carrier", 0)) == self.carrier
        )


def report_key(payload: Mapping[str, Any]) -> tuple[str, int, int]:
    """What a rejection names a report by: (order id, kind, carrier)."""
    return (str(payload["order_id"]).lower(), int(payload["kind"]), int(payload.get("carrier", 0)))


def order_logs(
    receipt: Mapping[str, Any], escrow: str, topic: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The escrow's logs of the event ``topic`` in a raw JSON-RPC receipt, in log order, each
    with the order id of its first indexed argument (0x + 64 hex, lower case)."""
    for entry in receipt.get("logs") or []:
        topics = entry.get("topics") or []
        if str(entry.get("address", "")).lower() != escrow.lower() or len(topics) < 2:
            continue
        if str(topics[0]).lower() == topic:
            yield "0x" + str(topics[1])[2:].lower().rjust(64, "0"), entry


def rejections_in(receipt: Mapping[str, Any], escrow: str) -> list[Rejection]:
    """The escrow's ``LogisticsUpdateRejected`` logs in a raw JSON-RPC receipt, in log order."""
    found: list[Rejection] = []
    for order_id, entry in order_logs(receipt, escrow, REJECTED_TOPIC):
        try:
            kind, carrier, reason = decode(
                ["uint8", "uint16", "bytes"], bytes.fromhex(str(entry["data"])[2:])
            )
        except (DecodingError, ValueError):
            log.warning("relay_rejection_undecodable", tx_hash=receipt.get("transactionHash"))
            continue
        found.append(Rejection(order_id, int(kind), int(carrier), bytes(reason)))
    return found


def match_rejections(
    records: Sequence[tuple[int, Mapping[str, Any]]], rejections: Sequence[Rejection]
) -> dict[int, Rejection]:
    """record id -> its rejection, for ``records`` (id, payload) of one transaction in the order
    they were sent. A rejection that names no record is logged and left out."""
    matched: dict[int, Rejection] = {}
    for rejection in rejections:
        record_id = next(
            (rid for rid, payload in records if rid not in matched and rejection.names(payload)),
            None,
        )
        if record_id is None:
            log.warning(
                "relay_rejection_unmatched",
                order_id=rejection.order_id,
                kind=rejection.kind,
                carrier=rejection.carrier,
            )
            continue
        matched[record_id] = rejection
    return matched
