"""Custody event ids, as the registry keeps them: each submitter spends an id once, in a bitmap, so
ids handed out in sequence share storage words (random ids would each cost a fresh slot).

The one rule for handing them out, used by the relayer (``app.outbox.custody_ids``) and by the
merchant.s script (``scripts._lib.registry``): start one past the highest id the submitter
ever spent, and treat an id spent on chain as this very event only when the event says the same
(:data:`CustodyKey`); otherwise it is someone else's and the event needs another id. The relayer,
whose ids may be spent by another holder of its key while it works, also skips every id the chain
shows spent (:func:`free_ids`); the script's ids follow the submitter's own logs, and the registry
refuses an id spent meanwhile (nothing is sent; run it again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from eth_abi.abi import decode

# What a custody event says: item id, action, time, location hash, context hash.
CustodyKey = tuple[bytes, int, int, bytes, bytes]
# Which of some ids the chain shows spent (``isEventRecorded`` of each), in their order.
SpentFlags = Callable[[Sequence[int]], Sequence[bool]]

MAX_EVENT_ID = 2**256 - 1
_SEARCH_ROUNDS = 64


def custody_key(
    item_id: bytes, action: int, occurred_at: int, location_hash: bytes, context_hash: bytes
) -> CustodyKey:
    return (bytes(item_id), int(action), int(occurred_at), bytes(location_hash),
            bytes(context_hash))  # fmt: skip


def key_of_log(item_topic: bytes, data: bytes) -> CustodyKey:
    """The key of a raw ``CustodyRecorded`` log: its indexed item id and its data."""
    action, occurred_at, location, context = decode(
        ["uint8", "uint40", "bytes32", "bytes32"], bytes(data)
    )
    return custody_key(bytes(item_topic), action, occurred_at, location, context)


def first_unspent(spent_ids: Iterable[int]) -> int:
    """One past the highest id spent (0 when none): where a submitter's sequence goes on."""
    return max(spent_ids, default=-1) + 1


def free_ids(start: int, count: int, spent: SpentFlags) -> list[int]:
    """``count`` ids from ``start`` on, in sequence, leaving out those the chain shows spent
    (asked for ``count`` at a time). Raises ValueError past the last id or after many rounds of
    spent ids (someone spending this submitter's ids as fast as we look)."""
    found: list[int] = []
    candidate = start
    for _ in range(_SEARCH_ROUNDS):
        wanted = count - len(found)
        if wanted == 0:
            return found
        window = list(range(candidate, candidate + wanted))
        if window and window[-1] > MAX_EVENT_ID:
            raise ValueError(f"no custody event id left after {MAX_EVENT_ID}")
        found += [i for i, taken in zip(window, spent(window), strict=True) if not taken]
        candidate += wanted
    if len(found) < count:
        raise ValueError(f"no {count} free custody event ids found from {start}")
    return found[:count]
