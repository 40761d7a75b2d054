"""Webhook events from the index: one follower per indexed event (``HandlerTable.follow``) turns
the log into an event of its merchant, with one delivery per endpoint of that merchant subscribed
to its type, in the indexer's own transaction (so the event exists exactly when the index rows
that produced it do: a crash loses neither without the other, a reorg takes back both).

An event's id is derived from the log (transaction hash, log index) and the type: the same log
indexed again after a reorg that kept it is the same event to a receiver's dedupe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.index.handlers import ChainLog, HandlerTable, address, hex32
from app.index.models import OrderRow
from app.index.queries import item_merchants
from app.merchant.event_types import EventType
from app.merchant.models import (
    MerchantSessionRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookEventRow,
)

REGISTRY = "ProductRegistry"
ESCROW = "OrderEscrow"

Data = dict[str, Any]


def event_id(log: ChainLog, type_: EventType, repeat: int = 0) -> str:
    """A stable id for the receiver's dedupe: ``evt_`` and 32 hex digits, from the transaction
    and what the log says, not where it landed: a transaction a reorganisation moves to another
    block (and another log index) keeps its events' ids. ``repeat`` counts the same log said
    again earlier in the transaction (a contract may call the same function twice)."""
    said = json.dumps(_plain(dict(log.args)), sort_keys=True, separators=(",", ":"))
    again = f":{repeat}" if repeat else ""
    digest = keccak(text=f"{log.tx_hash}:{log.address}:{log.event}:{said}:{type_}{again}")
    return "evt_" + digest.hex()[:32]


def _plain(value: Any) -> Any:
    """A decoded log argument as JSON: bytes as hex, structs as objects, arrays as lists."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _order_merchant(session: Session, log: ChainLog) -> str | None:
    order = session.get(OrderRow, hex32(log.args["orderId"]))
    return None if order is None else order.merchant


def _item_merchant(session: Session, log: ChainLog) -> str | None:
    """The item's merchant now: its latest registration, or a later verifier's reassignment."""
    item_id = hex32(log.args["itemId"])
    return item_merchants(session, [item_id]).get(item_id)


def _merchant_arg(_session: Session, log: ChainLog) -> str | None:
    return address(log.args["merchant"])


def _terms_merchant(_session: Session, log: ChainLog) -> str | None:
    return address(log.args["terms"]["merchant"])


def _order(log: ChainLog) -> Data:
    return {"order_id": hex32(log.args["orderId"])}


def _funded(log: ChainLog) -> Data:
    terms = log.args["terms"]
    return {
        **_order(log),
        "buyer": address(terms["buyer"]),
        "payer": address(terms["payer"]),
        "token": address(terms["token"]),
        "amount": str(int(terms["amount"])),
        "order_ref": hex32(terms["orderRef"]),
        "ship_by": int(terms["shipBy"]),
        "item_ids": [hex32(item) for item in terms["itemIds"]],
    }


def _shipped(log: ChainLog) -> Data:
    a = log.args
    return {**_order(log), "carrier": int(a["carrier"]), "tracking_hash": hex32(a["trackingHash"])}


def _delivered(log: ChainLog) -> Data:
    return {
        **_order(log),
        "items": int(log.args["items"]),
        "proof_hash": hex32(log.args["proofHash"]),
    }


def _disputed(log: ChainLog) -> Data:
    a = log.args
    return {
        **_order(log),
        "by": address(a["by"]),
        "evidence_hash": hex32(a["evidenceHash"]),
        "deadline": int(a["deadline"]),
    }


def _released(log: ChainLog) -> Data:
    a = log.args
    return {
        **_order(log),
        "items": int(a["items"]),
        "merchant_amount": str(int(a["merchantAmount"])),
        "fee_amount": str(int(a["feeAmount"])),
    }


def _refunded(log: ChainLog) -> Data:
    a = log.args
    return {
        **_order(log),
        "items": int(a["items"]),
        "reason": int(a["reason"]),
        "payer_amount": str(int(a["payerAmount"])),
    }


def _report_filed(log: ChainLog) -> Data:
    a = log.args
    return {
        "report_id": int(a["reportId"]),
        "item_id": hex32(a["itemId"]),
        "reporter": address(a["reporter"]),
        "kind": int(a["kind"]),
        "evidence_hash": hex32(a["evidenceHash"]),
    }


def _report_decided(outcome: str) -> Callable[[ChainLog], Data]:
    def data(log: ChainLog) -> Data:
        a = log.args
        return {
            "report_id": int(a["reportId"]),
            "item_id": hex32(a["itemId"]),
            "outcome": outcome,
            "finding_hash": hex32(a["findingHash"]),
        }

    return data


def _item_recalled(log: ChainLog) -> Data:
    return {"item_id": hex32(log.args["itemId"]), "reason_hash": hex32(log.args["reasonHash"])}


def _batch_recalled(log: ChainLog) -> Data:
    return {"batch_root": hex32(log.args["root"]), "reason_hash": hex32(log.args["reasonHash"])}


@dataclass(frozen=True)
class Source:
    """How one indexed event becomes a webhook event: its type, merchant and data."""

    contract: str
    event: str
    type: EventType
    merchant: Callable[[Session, ChainLog], str | None]
    data: Callable[[ChainLog], Data]


SOURCES = (
    Source(ESCROW, "OrderOpened", EventType.ORDER_FUNDED, _terms_merchant, _funded),
    Source(ESCROW, "OrderShipped", EventType.ORDER_SHIPPED, _order_merchant, _shipped),
    Source(ESCROW, "OrderDelivered", EventType.ORDER_DELIVERED, _order_merchant, _delivered),
    Source(ESCROW, "DisputeOpened", EventType.ORDER_DISPUTED, _order_merchant, _disputed),
    Source(ESCROW, "OrderReleased", EventType.ORDER_RELEASED, _order_merchant, _released),
    Source(ESCROW, "OrderRefunded", EventType.ORDER_REFUNDED, _order_merchant, _refunded),
    Source(REGISTRY, "ReportFiled", EventType.REPORT_FILED, _item_merchant, _report_filed),
    Source(
        REGISTRY,
        "ReportConfirmed",
        EventType.REPORT_DECIDED,
        _item_merchant,
        _report_decided("confirmed"),
    ),
    Source(
        REGISTRY,
        "ReportDismissed",
        EventType.REPORT_DECIDED,
        _item_merchant,
        _report_decided("dismissed"),
    ),
    Source(REGISTRY, "ItemRecalled", EventType.ITEM_RECALLED, _merchant_arg, _item_recalled),
    Source(REGISTRY, "BatchRecalled", EventType.ITEM_RECALLED, _merchant_arg, _batch_recalled),
)


def event_body(
    id_: str,
    type_: EventType,
    merchant: str,
    data: Mapping[str, Any],
    created: int,
    chain: Mapping[str, Any] | None,
) -> str:
    """The JSON every delivery of the event sends, byte for byte (what its signature covers)."""
    body = {
        "id": id_,
        "type": str(type_),
        "created": created,
        "merchant": merchant,
        "data": dict(data),
        "chain": None if chain is None else dict(chain),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def add_event(
    session: Session,
    id_: str,
    type_: EventType,
    merchant: str,
    body: str,
    where: Mapping[str, Any],
) -> WebhookEventRow | None:
    """The event and one delivery per endpoint of ``merchant`` subscribed to its type; nothing
    if none is."""
    endpoints = [
        endpoint.id
        for endpoint in session.scalars(
            select(WebhookEndpointRow).where(
                WebhookEndpointRow.merchant == merchant, WebhookEndpointRow.deleted_at.is_(None)
            )
        )
        if str(type_) in endpoint.event_types
    ]
    if not endpoints:
        return None
    event = WebhookEventRow(id=id_, merchant=merchant, type=str(type_), body=body, **where)
    session.add(event)
    session.flush()  # the event before the deliveries that refer to it
    session.add_all(WebhookDeliveryRow(endpoint_id=e, event_id=event.id) for e in endpoints)
    return event


def write_event(session: Session, log: ChainLog, source: Source) -> WebhookEventRow | None:
    """The indexed log's event of its merchant, if any endpoint of the merchant wants its type."""
    merchant = source.merchant(session, log)
    if merchant is None:
        return None  # an order or item from before the index began: nobody to tell
    repeat = 0
    while session.get(WebhookEventRow, id_ := event_id(log, source.type, repeat)) is not None:
        repeat += 1
    chain = {"block_number": log.block_number, "tx_hash": log.tx_hash, "log_index": log.log_index}
    body = event_body(id_, source.type, merchant, source.data(log), log.block_time, chain)
    return add_event(session, id_, source.type, merchant, body, log.where())


def follow_index(table: HandlerTable) -> None:
    """Makes the indexer write merchants' webhook events with the index rows, and end a merchant's
    sessions when the registry suspends it."""
    for source in SOURCES:
        table.follow(source.contract, source.event, _follower(source))
    table.follow(REGISTRY, "MerchantSuspended", _end_sessions)


def _end_sessions(session: Session, log: ChainLog) -> None:
    """A suspended merchant's sessions end: signing in again needs an active standing."""
    merchant = address(log.args["merchant"])
    session.execute(delete(MerchantSessionRow).where(MerchantSessionRow.merchant == merchant))


def _follower(source: Source) -> Callable[[Session, ChainLog], None]:
    def follower(session: Session, log: ChainLog) -> None:
        write_event(session, log, source)

    return follower
