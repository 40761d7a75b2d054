"""A carrier's request body, parsed: one event object or an array of them, each valid on its own
and with the rules across its fields (one subject, an action that fits it, items only for an
order's delivery); a 422 with a code per offending field otherwise."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from app.api.errors import ApiError
from app.api.json_body import JsonTooDeep, loads_bounded
from app.ingest.schemas import (
    ITEM_ACTIONS,
    MAX_EVENTS_PER_REQUEST,
    ORDER_ACTIONS,
    CarrierAction,
    LogisticsEventCreate,
)


def parse_events(body: bytes) -> list[LogisticsEventCreate]:
    """One event object or an array of them; 422 with a code per bad field otherwise."""
    try:
        data = loads_bounded(body)
    except (UnicodeDecodeError, json.JSONDecodeError, JsonTooDeep) as error:
        raise ApiError(422, "invalid_json", f"the body is not JSON: {error}") from None
    single = isinstance(data, dict)
    if single:
        data = [data]
    elif isinstance(data, list):
        if not 1 <= len(data) <= MAX_EVENTS_PER_REQUEST:
            raise ApiError(
                422,
                "validation_failed",
                "the request is not valid",
                [
                    {
                        "field": "body",
                        "code": "too_many_events" if data else "no_events",
                        "message": f"send 1 to {MAX_EVENTS_PER_REQUEST} events per request",
                    }
                ],
            )
    else:
        raise ApiError(422, "invalid_body", "the body must be an event object or an array")
    details: list[dict[str, Any]] = []
    events: list[LogisticsEventCreate] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data):
        where: tuple[Any, ...] = ("body",) if single else ("body", index)
        try:
            parsed = LogisticsEventCreate.model_validate(item)
        except ValidationError as error:
            details += [detail((*where, *e["loc"]), e["type"], e["msg"]) for e in error.errors()]
            continue
        details += _rule_errors(parsed, where)
        if parsed.event_id in seen:
            details.append(
                detail(
                    (*where, "event_id"),
                    "duplicate_event_id",
                    f"event_id is also used by event {seen[parsed.event_id]} of this request",
                )
            )
        seen.setdefault(parsed.event_id, index)
        events.append(parsed)
    if details:
        raise ApiError(422, "validation_failed", "the request is not valid", details)
    return events


def _rule_errors(event: LogisticsEventCreate, where: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rules across fields: one subject, an action that fits it, items only for deliveries."""
    errors: list[dict[str, Any]] = []
    by_gs1 = event.gtin is not None or event.serial is not None
    named = [event.item_id is not None, by_gs1, event.order_id is not None]
    if sum(named) == 0:
        errors.append(
            detail(where, "subject_required", "name the subject: item_id, gtin+serial or order_id")
        )
        return errors
    if sum(named) > 1:
        errors.append(
            detail(where, "subject_ambiguous", "name one subject: item_id, gtin+serial or order_id")
        )
        return errors
    if by_gs1 and (event.gtin is None or event.serial is None):
        missing = "serial" if event.serial is None else "gtin"
        errors.append(detail((*where, missing), "missing", f"{missing} goes with gtin/serial"))
    if event.order_id is not None:
        if event.action not in ORDER_ACTIONS:
            errors.append(
                detail(
                    (*where, "action"),
                    "action_not_allowed",
                    f"an order takes {', '.join(ORDER_ACTIONS)}, not {event.action}",
                )
            )
        if event.items is not None and event.action is not CarrierAction.DELIVERED:
            errors.append(
                detail((*where, "items"), "items_not_allowed", "items go with a delivery only")
            )
        if event.items is not None and len(set(event.items)) != len(event.items):
            errors.append(detail((*where, "items"), "duplicate_items", "an item index repeats"))
    else:
        if event.action not in ITEM_ACTIONS:
            errors.append(
                detail(
                    (*where, "action"),
                    "action_not_allowed",
                    f"an item takes {', '.join(ITEM_ACTIONS)}, not {event.action}",
                )
            )
        if event.items is not None:
            errors.append(
                detail((*where, "items"), "items_not_allowed", "items go with an order only")
            )
    return errors


def detail(location: tuple[Any, ...], code: str, message: str) -> dict[str, Any]:
    """One entry of a 422's details: the field's dotted path, a machine-readable code, a message."""
    return {"field": ".".join(str(part) for part in location), "code": code, "message": message}
