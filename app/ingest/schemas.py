"""A carrier's logistics events (EPCIS-like: what, when, where, why) and the answers to them.

A request body is one event object or an array of them. Each event names exactly one subject:
an item (``item_id``, or GS1 ``gtin`` + ``serial``), which becomes a custody event on the
registry, or an escrow order (``order_id``), which becomes a logistics report on the escrow.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from app.domain.abi_types import Bytes32, coded
from app.domain.ids import Gs1Serial, Gtin
from app.domain.vocab import CustodyAction, LogisticsKind
from app.outbox.models import RelayStatus
from app.outbox.schemas import RelayId

MAX_EVENTS_PER_REQUEST = 1_000
# A source's clock may run a little ahead of ours; more than this is refused.
MAX_CLOCK_SKEW_SECONDS = 60
UINT40_MAX = 2**40 - 1


class CarrierAction(StrEnum):
    """What happened (GS1 EPCIS business steps a carrier reports)."""

    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    RETURNED = "returned"
    BREACH = "breach"  # a broken condition (cold chain, damage): opens a dispute on an order


ITEM_ACTIONS: dict[CarrierAction, CustodyAction] = {
    CarrierAction.SHIPPED: CustodyAction.SHIPPED,
    CarrierAction.IN_TRANSIT: CustodyAction.IN_TRANSIT,
    CarrierAction.DELIVERED: CustodyAction.DELIVERED,
    CarrierAction.RETURNED: CustodyAction.RETURNED,
}
ORDER_ACTIONS: dict[CarrierAction, LogisticsKind] = {
    CarrierAction.SHIPPED: LogisticsKind.SHIPPED,
    CarrierAction.DELIVERED: LogisticsKind.DELIVERED,
    CarrierAction.BREACH: LogisticsKind.CONDITION_BREACHED,
}

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$")]
# An item or order id; ``invalid_hex32`` is the code carriers have always been answered.
Hex32 = Annotated[Bytes32, coded("invalid_hex32", "must be 0x followed by 64 hex digits")]
IDEMPOTENCY_KEY_MAX_LENGTH = 255
# Printable ASCII, as a header carries it; a retry with the same key gets the first answer.
IDEMPOTENCY_KEY_PATTERN = f"^[ -~]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"
IdempotencyKey = Annotated[
    str,
    StringConstraints(pattern=IDEMPOTENCY_KEY_PATTERN),
    coded(
        "invalid_idempotency_key",
        f"1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters",
    ),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class LogisticsEventCreate(BaseModel):
    """One event as a carrier reports it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "acme-7731-0001",
                    "gtin": "09506000134352",
                    "serial": "A1",
                    "action": "delivered",
                    "occurred_at": "2025-05-01T14:03:00Z",
                    "location": "urn:epc:id:sgln:9506000.13435.0",
                    "reference": "AWB 7731-0001",
                }
            ]
        },
    )

    event_id: EventId = Field(description="The carrier's own id of the event (printable ASCII).")
    item_id: Hex32 | None = Field(default=None, description="The item's id, 0x + 64 hex digits.")
    gtin: Gtin | None = Field(default=None, description="GS1 GTIN-8/12/13/14 (with serial).")
    serial: Gs1Serial | None = Field(default=None, description="GS1 serial (with gtin).")
    order_id: Hex32 | None = Field(default=None, description="An escrow order id, 0x + 64 hex.")
    action: CarrierAction
    occurred_at: AwareDatetime = Field(description="When it happened (ISO 8601 with offset).")
    location: Text | None = Field(default=None, description="Where: a GLN or location code.")
    reference: Text | None = Field(
        default=None, description="Shipment, waybill or proof-of-delivery reference."
    )
    items: list[Annotated[int, Field(ge=0, le=31)]] | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="A delivery of some items of an order only: their 0-based indexes.",
    )

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at(cls, value: datetime) -> datetime:
        seconds = value.timestamp()
        if seconds < 0 or seconds > UINT40_MAX:
            raise PydanticCustomError("occurred_out_of_range", "must be after 1970 (uint40)")
        if seconds > time.time() + MAX_CLOCK_SKEW_SECONDS:
            raise PydanticCustomError("occurred_in_future", "must not be in the future")
        return value


class AcceptedEventPublic(BaseModel):
    """An event the service keeps and will relay."""

    index: int = Field(description="Position in the request (0 for a single object).")
    event_id: str
    relay_id: RelayId = Field(description="Follow it at GET /v1/relay/{relay_id}.")
    status: RelayStatus
    duplicate: bool = Field(description="True if this event id was accepted before: same record.")


class RejectedEventPublic(BaseModel):
    """An event the service refused, and why."""

    index: int
    event_id: str
    code: str = Field(
        description="unknown_item, unknown_order, event_id_conflict or item_not_carried (the "
        "item is neither of a merchant this carrier moves goods for nor held by an open order "
        "assigned to it)"
    )
    message: str
    subject: str | None = None


class LogisticsIngestPublic(BaseModel):
    """The answer to accepted events (202): every event is in one of the two lists."""

    accepted: list[AcceptedEventPublic]
    rejected: list[RejectedEventPublic]


def request_body_schema() -> dict[str, Any]:
    """The OpenAPI schema of the request body (one event or an array), references inlined.

    An event is documented as one of its shapes, with the rules across its fields that
    ``app.ingest.events`` checks: one subject (the others absent or null), an action that fits
    it, item indexes only with an order's delivery, each once. Not stated: an event id used
    twice in one request (``duplicate_event_id``), which no JSON Schema can say."""
    schema = LogisticsEventCreate.model_json_schema()
    definitions = schema.pop("$defs", {})
    event = _inline(schema, definitions)
    examples = event.pop("examples")
    delivered: list[CarrierAction] = [CarrierAction.DELIVERED]
    reports: list[CarrierAction] = [a for a in ORDER_ACTIONS if a is not CarrierAction.DELIVERED]
    shapes: dict[str, tuple[tuple[str, ...], list[CarrierAction]]] = {
        "An item's custody event, the item named by id": (("item_id",), list(ITEM_ACTIONS)),
        "An item's custody event, the item named by GTIN and serial": (
            ("gtin", "serial"),
            list(ITEM_ACTIONS),
        ),
        "An order's delivery, of all its items or of those listed": (
            ("order_id", "items"),
            delivered,
        ),
        "An order's other logistics report": (("order_id",), reports),
    }
    one: dict[str, Any] = {
        "oneOf": [_shape(event, text, named, actions) for text, (named, actions) in shapes.items()],
        "examples": examples,
    }
    return {
        "oneOf": [
            one,
            {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_EVENTS_PER_REQUEST},
        ]
    }


_SUBJECT_FIELDS = ("item_id", "gtin", "serial", "order_id", "items")


def _shape(
    event: dict[str, Any], description: str, named: tuple[str, ...], actions: list[CarrierAction]
) -> dict[str, Any]:
    """``event`` with ``named`` subject fields (required, but for ``items``), the others null
    if given, and ``actions`` only."""
    properties = dict(event["properties"])
    for field in _SUBJECT_FIELDS:
        if field not in named:
            properties[field] = {"type": "null"}
        elif field != "items":  # the subject: given, not null
            given = {key: value for key, value in properties[field].items() if key != "default"}
            [value] = [branch for branch in given.pop("anyOf") if branch != {"type": "null"}]
            properties[field] = {**given, **value}
    if "items" in named:
        listed, null = properties["items"]["anyOf"]
        properties["items"] = {
            **properties["items"],
            "anyOf": [{**listed, "uniqueItems": True}, null],
        }
    properties["action"] = {**properties["action"], "enum": [str(action) for action in actions]}
    required = [*event["required"], *(field for field in named if field != "items")]
    return {**event, "description": description, "properties": properties, "required": required}


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node
