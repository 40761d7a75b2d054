"""What the shopper API answers (``...Public``) and takes (``...Create``).

Ids and hashes are lowercase ``0x`` hex, addresses EIP-55 checksums, amounts decimal strings of
the token's base unit (wei for ETH), times ISO 8601 in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from app.domain.abi_types import Signature
from app.domain.escrow_moves import Action, DeadlineName, Party
from app.domain.manifest import ManifestDocument


class VerdictName(StrEnum):
    """The registry's ``Verdict``, by name."""

    AUTHENTIC = "authentic"
    UNKNOWN = "unknown"
    MERCHANT_SUSPENDED = "merchant_suspended"
    FLAGGED = "flagged"
    RECALLED = "recalled"


class VerdictReason(StrEnum):
    """Why: the verdict, with a recall of the whole batch told apart from the item's own, and an
    unknown GS1 item that may lie in a batch whose item list is not published yet
    (``batch_unpublished``: only when asked by GTIN, see ``item_verdict``) told apart from one
    nothing matches."""

    AUTHENTIC = "authentic"
    UNKNOWN = "unknown"
    MERCHANT_SUSPENDED = "merchant_suspended"
    FLAGGED = "flagged"
    RECALLED = "recalled"
    BATCH_RECALLED = "batch_recalled"
    BATCH_UNPUBLISHED = "batch_unpublished"


class MetadataCheck(StrEnum):
    """Whether the item's metadata hashes to its on-chain ``metadataHash``: a passport published
    to the service under the hash matches; else the document served at the URI, if its host is
    on the fetch allow-list."""

    MATCH = "match"
    MISMATCH = "mismatch"
    UNREACHABLE = "unreachable"
    # Nothing published here under the hash, and the URI's scheme or host not on the allow-list.
    UNCHECKED = "unchecked"


class Source(StrEnum):
    INDEX = "index"
    CHAIN = "chain"


class ChainRefPublic(BaseModel):
    """Where an event happened on chain."""

    tx_hash: str
    block_number: int
    log_index: int | None = None
    time: datetime | None = None


class SellerRecordPublic(BaseModel):
    """A merchant's escrow record: orders opened with it and how they ended. Orders whose amount
    is below the escrow's seller-record floor for their token (``sellerRecordFloor``, the floor
    in force now) are left out: dust orders a merchant pays itself cannot pad it."""

    orders_total: int
    orders_completed: int = Field(description="Orders released to the merchant in full")
    orders_refunded: int
    disputes_total: int
    disputes_lost: int = Field(
        description="Disputes that ended with more than half of the remainder back to the payer"
    )


class MerchantSummaryPublic(BaseModel):
    address: str
    name: str | None
    status: Literal["active", "suspended", "none"]
    seller_record: SellerRecordPublic


class MetadataPublic(BaseModel):
    uri: str | None
    hash: str
    check: MetadataCheck
    detail: str | None = None
    document: str | None = Field(
        default=None,
        description="The passport published to this service under the hash (POST /v1/metadata)",
    )


class RegistrationPublic(ChainRefPublic):
    kind: Literal["single", "batch"]


class CustodyEventPublic(ChainRefPublic):
    action: str
    occurred_at: datetime
    submitter: str
    event_id: str
    location_hash: str
    context_hash: str


class BatchPublic(BaseModel):
    """A batch item's batch, and the proof that places the item in it, checkable by anyone with
    OpenZeppelin's ``MerkleProof`` (or ``verifyBatchItem`` on the registry)."""

    root: str
    item_count: int | None
    recalled: bool
    activated: bool = Field(description="Whether the item has its own record on chain")
    metadata_hash: str | None = Field(description="The item's leaf metadata hash")
    leaf: str | None
    proof: list[str] | None
    proof_verified: bool | None = Field(description="The proof rebuilds the root (checked here)")
    registration: ChainRefPublic | None


class ReassignmentPublic(ChainRefPublic):
    """A verifier moved the item to its rightful merchant, or revoked its record (``to`` None)."""

    from_merchant: str
    to: str | None
    reason_hash: str


class FlagPublic(ChainRefPublic):
    report_id: int


class RecallPublic(ChainRefPublic):
    scope: Literal["item", "batch"]
    reason_hash: str


class SalePublic(BaseModel):
    """An escrow order that sold the item."""

    order_id: str
    status: str
    buyer: str
    token: str
    amount: str
    released: bool
    opened: ChainRefPublic | None


class ItemVerdictPublic(BaseModel):
    """Everything a shopper needs about one item, in one answer."""

    item_id: str
    authentic: bool
    verdict: VerdictName
    reason: VerdictReason
    explanation: str
    source: Source
    as_of_block: int | None
    merchant: MerchantSummaryPublic | None
    metadata: MetadataPublic | None
    registration: RegistrationPublic | None
    batch: BatchPublic | None
    custody: list[CustodyEventPublic]
    flags: list[FlagPublic]
    recall: RecallPublic | None
    open_reports: int = Field(
        description="Open reports a verifier filed (anyone may file one on chain; only a "
        "verifier's speaks about the item here)"
    )
    sales: list[SalePublic]
    reassignment: ReassignmentPublic | None = Field(
        default=None, description="The latest verifier reassignment or revocation of the id"
    )
    held_by_order: str | None = Field(
        default=None, description="The escrow order holding the item now (it cannot be sold twice)"
    )

    @property
    def known(self) -> bool:
        """Whether the chain knows anything of the item at all (else the API answers 404)."""
        return not (
            self.verdict is VerdictName.UNKNOWN
            and self.registration is None
            and self.batch is None
            and not self.flags
            and self.open_reports == 0
            and self.reassignment is None
            and not self.custody
        )


class MerchantStatusChangePublic(ChainRefPublic):
    status: Literal["active", "suspended"]
    reason_hash: str | None


class MerchantPublic(BaseModel):
    address: str
    name: str
    identity_hash: str
    status: Literal["active", "suspended"]
    verifier: str
    approved: ChainRefPublic
    status_history: list[MerchantStatusChangePublic]
    items_registered: int
    batches_registered: int
    seller_record: SellerRecordPublic
    as_of_block: int | None


class OrderEventPublic(ChainRefPublic):
    kind: str
    actor: str
    details: dict[str, Any]
    status: str = Field(description="The order's status after this event")


class DisputePublic(BaseModel):
    order_id: str
    merchant: str
    buyer: str
    opened_by: str
    evidence_hash: str
    deadline: datetime
    opened: ChainRefPublic
    open: bool
    order_status: str
    outcome: str | None


# Which clock an answer's countdowns ran on: the chain's latest block, else (the node away) the
# latest block the index read, else (nothing indexed yet) the service's own.
Clock = Literal["chain", "index", "system"]


class OrderActionPublic(BaseModel):
    """A move open now by the escrow's rules (``app.domain.escrow_moves``); the contract still
    judges it when it is sent."""

    party: Party = Field(description="Who may make it: buyer, merchant, arbiter or anyone")
    action: Action
    function: str = Field(description="The OrderEscrow function it calls")
    closes_at: datetime | None = Field(
        description="The first moment (block time, UTC) it no longer goes through; none: "
        "until the order moves on"
    )
    seconds_left: int | None = Field(description="Until closes_at, by the answer's clock")
    items: int | None = Field(
        default=None, description="A refund's or recall refund's items (bit i: item_ids[i])"
    )
    buyer_bps: int | None = Field(
        default=None, description="The pending offer's split, which an acceptance must name"
    )


class OrderDeadlinePublic(BaseModel):
    """A time the order's current status runs against, as the escrow stores it (``ship_by``,
    ``arbitration_deadline``) or computes it (``dispute_window_closes``: delivery, or deliver-by
    for a shipped order not reported delivered, plus the dispute window)."""

    name: DeadlineName
    at: datetime
    seconds_left: int = Field(description="Until then by the answer's clock; 0 once come")


class OrderSummaryPublic(BaseModel):
    """An escrow order: its terms (all a call needs: they travel in calldata), where it stands,
    the deadlines of its status and the moves open to each party now."""

    order_id: str
    buyer: str
    merchant: str
    payer: str
    token: str
    amount: str = Field(description="Base units of the token (wei for ETH)")
    amount_text: str = Field(description="The amount in the token's symbol and decimals")
    ship_by: datetime
    deliver_by: datetime
    dispute_window_seconds: int
    fee_bps: int
    order_ref: str
    salt: str
    item_ids: list[str]
    status: str
    delivered_items: int
    released_items: int
    refunded_items: int = Field(
        default=0, description="Items refunded (bitmap); the rest of the order goes on"
    )
    carrier: int | None = Field(default=None, description="The carrier the merchant assigned")
    opened: ChainRefPublic
    deadlines: list[OrderDeadlinePublic] = Field(description="Soonest first; none once final")
    next_actions: list[OrderActionPublic] = Field(
        description="Moves open now, by party; none once final"
    )


class OrderPublic(OrderSummaryPublic):
    events: list[OrderEventPublic]
    dispute: DisputePublic | None
    as_of_block: int | None
    now: datetime = Field(description="The time deadlines and actions are judged by")
    clock: Clock


class OrderListPublic(BaseModel):
    """One party's orders, newest first."""

    orders: list[OrderSummaryPublic]
    buyer: str | None = Field(description="The buyer asked about")
    merchant: str | None = Field(description="The merchant asked about")
    limit: int
    next_cursor: str | None = Field(description="Pass as cursor for the next page; none: the end")
    as_of_block: int | None
    now: datetime = Field(description="The time deadlines and actions are judged by")
    clock: Clock


class DisputeListPublic(BaseModel):
    disputes: list[DisputePublic]
    limit: int
    offset: int
    as_of_block: int | None


@dataclass(frozen=True)
class DocumentedAs:
    """Documents a value with ``model``'s schema while pydantic keeps it as it came."""

    model: type[BaseModel]

    def __get_pydantic_json_schema__(
        self, _schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self.model.__pydantic_core_schema__)


class ManifestCreate(BaseModel):
    """A Merkle batch's manifest (as ``ape run merchant register --batch`` writes it) and the
    merchant's EIP-191 signature over the root and the manifest's content hash
    (``app.domain.manifest_signing``)."""

    model_config = ConfigDict(extra="forbid")

    # Kept as sent (its content hash is the merchant's), checked as a ManifestDocument when
    # published (``invalid_manifest``), and so documented as one.
    manifest: Annotated[dict[str, Any], DocumentedAs(ManifestDocument)]
    signature: Signature


class ManifestPublishedPublic(BaseModel):
    root: str
    merchant: str
    item_count: int
    content_hash: str
    matches_onchain_metadata_hash: bool = Field(
        description="The manifest hashes to the metadataHash the batch was registered with"
    )
    published_at: datetime
    created: bool
