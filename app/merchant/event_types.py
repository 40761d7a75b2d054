"""The event types a merchant's webhook endpoint may subscribe to."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """What happened, for the merchant the order, report or item belongs to."""

    ORDER_FUNDED = "order.funded"  # OrderEscrow.OrderOpened (an order is funded as it opens)
    ORDER_SHIPPED = "order.shipped"  # OrderShipped
    ORDER_DELIVERED = "order.delivered"  # OrderDelivered (some or all of its items)
    ORDER_DISPUTED = "order.disputed"  # DisputeOpened
    ORDER_RELEASED = "order.released"  # OrderReleased (some or all of its items)
    ORDER_REFUNDED = "order.refunded"  # OrderRefunded (some or all of its items)
    REPORT_FILED = "report.filed"  # ProductRegistry.ReportFiled on one of its items
    REPORT_DECIDED = "report.decided"  # ReportConfirmed / ReportDismissed
    ITEM_RECALLED = "item.recalled"  # ItemRecalled, BatchRecalled
    # A signed request relayed for the merchant (POST /v1/merchant/requests) was confirmed on
    # chain or failed: defined for subscriptions; emitted once the signed-request relay exists.
    REQUEST_CONFIRMED = "request.confirmed"
    REQUEST_FAILED = "request.failed"
