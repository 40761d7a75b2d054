"""What a source knows of one item, in one shape for both: the index's rows
(``app.shop.index_facts``) and the chain's views and logs (``app.shop.chain_facts``) are each
turned into these facts, and one assembler (``app.shop.assemble``) turns facts into the answer.

A source translates and fetches; it decides nothing a shopper reads. Which registration speaks
for the item after verifiers' reassignments is decided by ``ItemRecord`` (here, pure), which a
source also consults to know which batch and merchant to fetch.

Named tuples, not dataclasses: the index's hot path builds a dozen of them per request, and a
tuple is built several times faster than a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, TypeVar

from app.domain.vocab import MerchantStatus, OrderStatus
from app.index.seller_records import Counts
from app.shop.schemas import Source

Position = tuple[int, int]


class Ref(NamedTuple):
    """Where an event happened on chain (``time``: its block's time in seconds, if known)."""

    tx_hash: str
    block_number: int
    log_index: int
    time: int | None

    @property
    def position(self) -> Position:
        return (self.block_number, self.log_index)


class Located(Protocol):
    @property
    def ref(self) -> Ref: ...


class Registration(NamedTuple):
    """An item's registration (``ItemRegistered``) or activation from a batch
    (``BatchItemActivated``: ``root`` set, no URI of its own)."""

    ref: Ref
    merchant: str
    metadata_hash: str
    metadata_uri: str | None
    root: str | None


class Reassignment(NamedTuple):
    """A verifier moved the item to ``to``, or revoked its record (``to`` None)."""

    ref: Ref
    from_merchant: str
    to: str | None
    reason_hash: str


class Recall(NamedTuple):
    ref: Ref
    reason_hash: str


class Flag(NamedTuple):
    ref: Ref
    report_id: int


class ManifestEntry(NamedTuple):
    """The item in a batch's published manifest: its leaf and the proof to the root."""

    root: str
    metadata_hash: str
    metadata_uri: str | None
    leaf: str
    proof: list[str]


class BatchFacts(NamedTuple):
    """The batch that speaks for the item, and the item's entry in its manifest if published."""

    root: str
    merchant: str
    item_count: int
    registered: Ref | None
    recall: Recall | None
    entry: ManifestEntry | None


class MerchantFacts(NamedTuple):
    address: str
    name: str | None
    status: MerchantStatus
    record: Counts


class Custody(NamedTuple):
    ref: Ref
    action: int
    occurred_at: int
    submitter: str
    event_id: str
    location_hash: str
    context_hash: str


class Sale(NamedTuple):
    """An escrow order of the item: its terms, its status now, whether the item was released."""

    order_id: str
    status: OrderStatus
    buyer: str
    token: str
    amount: int
    released: bool
    opened: Ref


L = TypeVar("L", bound=Located)


class ItemRecord(NamedTuple):
    """The item's current registration (None: never registered, or revoked since), the batch that
    speaks for it (None once a verifier moved it), the merchant it was moved to, where the latest
    revocation happened, the latest reassignment of any kind, and the batch a move took the item
    out of with where that happened.

    ``ProductRegistry.reassignItem`` moves an item to another merchant (its state stays, it leaves
    its batch, and a recall of that batch made before the move stays with the goods) or revokes
    the record (the record and its state are deleted, and the rightful merchant may register the
    id afresh)."""

    registration: Registration | None
    root: str | None
    moved_to: str | None
    revoked_at: Position | None
    latest: Reassignment | None
    left_root: str | None = None
    left_at: Position | None = None

    @classmethod
    def resolve(
        cls, registration: Registration | None, reassignments: Sequence[Reassignment]
    ) -> ItemRecord:
        """From the item's latest registration and its reassignments, oldest first."""
        if not reassignments:  # the common case, on the hot path
            return cls(registration, registration.root if registration else None, None, None, None)
        revocations = [r for r in reassignments if r.to is None]
        revoked_at = revocations[-1].ref.position if revocations else None
        if registration and revoked_at and registration.ref.position < revoked_at:
            registration = None
        root = registration.root if registration is not None else None
        moved_to: str | None = None
        left_at: Position | None = None
        left_root = None
        if registration is not None:
            moves = [r for r in reassignments if r.ref.position > registration.ref.position]
            if moves:
                moved_to, left_root, root = moves[-1].to, root, None
                left_at = moves[0].ref.position if left_root is not None else None
        latest = reassignments[-1] if reassignments else None
        return cls(registration, root, moved_to, revoked_at, latest, left_root, left_at)

    @property
    def merchant(self) -> str | None:
        """The merchant the record names (None: no record)."""
        if self.registration is None:
            return None
        return self.moved_to or self.registration.merchant

    def carried(self, recall: Recall | None) -> Recall | None:
        """``recall`` (of the batch the item left) if it came before the item left the batch."""
        if recall is None or self.left_at is None or recall.ref.position > self.left_at:
            return None
        return recall

    def current(self, events: Sequence[L]) -> list[L]:
        """The events after the latest revocation (a revocation deletes the item's state)."""
        if self.revoked_at is None:
            return list(events)
        return [e for e in events if e.ref.position > self.revoked_at]


class ItemFacts(NamedTuple):
    """Everything a source knows of one item (events oldest first)."""

    item_id: str
    source: Source
    as_of_block: int | None
    record: ItemRecord
    batch: BatchFacts | None
    merchant: MerchantFacts | None
    recalls: Sequence[Recall]
    flags: Sequence[Flag]
    open_reports: int
    custody: Sequence[Custody]
    sales: Sequence[Sale]
    held_by: str | None
    # The recall of the batch a move took the item out of, if made before the move.
    carried_recall: Recall | None = None
    # Batches registered by the holder of the GTIN's company prefix whose item lists are not
    # published: counted only when the item was asked for by GTIN and nothing speaks for it.
    unpublished_batches: int = 0
