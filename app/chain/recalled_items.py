"""An order's open items that the registry reads recalled or flagged, read from the contracts.

A release (``release``, ``releaseDue``) and a default ruling (``resolveExpiredDispute``) never read
verdicts: run while such an item is still open, they pay its share to the merchant (or half of
it), where ``refundRecalled`` returns it to the payer. Anyone may call them in that order; the
keeper does not: it holds them back until the refund has run. The registry's and the escrow's own
views decide, never the index (which lags and keeps marks a re-registration has undone).
"""

from __future__ import annotations

from typing import Any

from web3.contract import Contract
from web3.types import BlockIdentifier

from app.domain.abi_types import from_hex
from app.domain.orders import OrderTerms
from app.domain.vocab import Verdict

# IOrderEscrow.Order: status, itemCount, ..., releasedItems (9), refundedItems (10).
ITEM_COUNT, RELEASED_ITEMS, REFUNDED_ITEMS = 1, 9, 10
NOT_PAYABLE = frozenset({Verdict.RECALLED, Verdict.FLAGGED})


def recalled_open_items(
    registry: Contract, escrow: Contract, terms: OrderTerms, block: BlockIdentifier = "latest"
) -> list[str]:
    """The ids of the order's items neither released nor refunded that the registry reads
    recalled or flagged at ``block``."""
    if not terms.item_ids:
        return []  # an order of SKUs names no registry item: nothing to read
    order: Any = escrow.functions.orderOf(from_hex(terms.order_id)).call(block_identifier=block)
    closed = int(order[RELEASED_ITEMS]) | int(order[REFUNDED_ITEMS])
    found = []
    for position, item_id in enumerate(terms.item_ids[: int(order[ITEM_COUNT])]):
        if closed >> position & 1:
            continue
        verdict = registry.functions.verify(from_hex(item_id)).call(block_identifier=block)
        if Verdict(int(verdict)) in NOT_PAYABLE:
            found.append(item_id)
    return found
