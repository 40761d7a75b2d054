"""``?fresh=true``: an item's verdict read from the chain itself, not the index.

Every contract view is called at one block (the head when the request came in) and every log is
read up to that block, so the answer is one consistent snapshot. Published manifests (off-chain
data) still come from the database: they carry the proof ``verifyBatchItem`` is called with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.contract import Contract

from app.domain.merkle import BatchLeaf, verify_proof
from app.domain.vocab import CustodyAction, MerchantStatus, OrderStatus, ReportStatus, Verdict
from app.index.chain import RPC_ERRORS, BlockHeader, ChainUnavailable
from app.index.handlers import hex32
from app.index.runtime import IndexRuntime
from app.shop.metadata_check import check_metadata
from app.shop.models import ManifestItem
from app.shop.reads import status_name, utc
from app.shop.schemas import (
    BatchPublic,
    ChainRefPublic,
    CustodyEventPublic,
    FlagPublic,
    ItemVerdictPublic,
    MerchantSummaryPublic,
    MetadataCheck,
    MetadataPublic,
    RecallPublic,
    RegistrationPublic,
    SalePublic,
    SellerRecordPublic,
    Source,
    VerdictReason,
)
from app.shop.verdicts import EXPLANATIONS, VERDICT_OF_REASON, action_name

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
TOPIC_CHUNK = 100
HALF_BPS = 5_000
REASON_OF_VERDICT = {
    Verdict.AUTHENTIC: VerdictReason.AUTHENTIC,
    Verdict.UNKNOWN: VerdictReason.UNKNOWN,
    Verdict.MERCHANT_SUSPENDED: VerdictReason.MERCHANT_SUSPENDED,
    Verdict.FLAGGED: VerdictReason.FLAGGED,
    Verdict.RECALLED: VerdictReason.RECALLED,
}


@dataclass(frozen=True)
class Event:
    """A decoded log."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str


class ChainSnapshot:
    """Views and logs of the suite at one block."""

    def __init__(self, index: IndexRuntime) -> None:
        self.index = index
        suite = index.chain.suite()
        self.web3: Web3 = suite.web3
        self.registry: Contract = suite.registry
        self.escrow: Contract | None = suite.contracts.get("OrderEscrow")
        self.start = suite.deployed_at_block("ProductRegistry")
        self.block = int(self.web3.eth.block_number)
        self._times: dict[int, int] = {}

    def call(self, function: Any) -> Any:
        return function.call(block_identifier=self.block)

    def logs(self, contract: Contract, events: Sequence[str], *topics: Any) -> list[Event]:
        decoders = {
            hex32(str(contract.events[name]().topic)): contract.events[name]() for name in events
        }
        raw = self.web3.eth.get_logs(
            {
                "address": contract.address,
                "fromBlock": self.start,
                "toBlock": self.block,
                "topics": [sorted(decoders), *topics],
            }
        )
        found = []
        for entry in sorted(raw, key=lambda e: (int(e["blockNumber"]), int(e["logIndex"]))):
            decoder = decoders[hex32(bytes(entry["topics"][0]))]
            data = decoder.process_log(entry)
            found.append(
                Event(
                    name=str(data["event"]),
                    args=dict(data["args"]),
                    block_number=int(entry["blockNumber"]),
                    log_index=int(entry["logIndex"]),
                    tx_hash=hex32(bytes(entry["transactionHash"])),
                )
            )
        return found

    def load_times(self, events: Iterable[Event]) -> None:
        wanted = sorted({e.block_number for e in events} - set(self._times))
        headers: dict[int, BlockHeader | None] = self.index.chain.headers(wanted)
        for number, header in headers.items():
            if header is not None:
                self._times[number] = header.time

    def ref(self, event: Event) -> dict[str, Any]:
        time = self._times.get(event.block_number)
        return ChainRefPublic(
            tx_hash=event.tx_hash,
            block_number=event.block_number,
            log_index=event.log_index,
            time=utc(time) if time is not None else None,
        ).model_dump()


def chain_item_verdict(index: IndexRuntime, session: Session, item_id: str) -> ItemVerdictPublic:
    try:
        return _chain_item_verdict(index, session, item_id)
    except RPC_ERRORS as error:
        raise ChainUnavailable(f"reading item {item_id} from the chain: {error}") from error


def _chain_item_verdict(index: IndexRuntime, session: Session, item_id: str) -> ItemVerdictPublic:
    chain = ChainSnapshot(index)
    key = bytes.fromhex(item_id[2:])
    registry = chain.registry
    verdict = Verdict(chain.call(registry.functions.verify(key)))
    merchant_address = _field(chain.call(registry.functions.itemOf(key)), 0, "merchant")
    item_events = chain.logs(
        registry,
        ["ItemRegistered", "BatchItemActivated", "CustodyRecorded", "ItemFlagged", "ItemRecalled"],
        key,
    )
    registered = next((e for e in item_events if e.name == "ItemRegistered"), None)
    activated = next((e for e in item_events if e.name == "BatchItemActivated"), None)
    custody = [e for e in item_events if e.name == "CustodyRecorded"]
    flags = [e for e in item_events if e.name == "ItemFlagged"]
    recall = next((e for e in item_events if e.name == "ItemRecalled"), None)

    # The batch: the one the item was activated from, else a published manifest's on chain.
    entry: ManifestItem | None = None
    root: str | None = hex32(activated.args["root"]) if activated else None
    if root is not None:
        entry = session.get(ManifestItem, (root, item_id))
    elif registered is None:
        for candidate in session.scalars(
            select(ManifestItem).where(ManifestItem.item_id == item_id).order_by(ManifestItem.root)
        ):
            record = chain.call(registry.functions.batchOf(bytes.fromhex(candidate.root[2:])))
            if _field(record, 0, "merchant") != ZERO_ADDRESS:
                entry, root = candidate, candidate.root
                verdict = Verdict(
                    chain.call(
                        registry.functions.verifyBatchItem(
                            bytes.fromhex(root[2:]),
                            key,
                            bytes.fromhex(candidate.metadata_hash[2:]),
                            [bytes.fromhex(node[2:]) for node in json.loads(candidate.proof)],
                        )
                    )
                )
                break
    batch_record = chain.call(registry.functions.batchOf(bytes.fromhex(root[2:]))) if root else None
    batch_merchant = _field(batch_record, 0, "merchant") if batch_record else None
    batch_events = (
        chain.logs(registry, ["BatchRegistered", "BatchRecalled"], bytes.fromhex(root[2:]))
        if root
        else []
    )
    batch_registered = next((e for e in batch_events if e.name == "BatchRegistered"), None)
    batch_recall = next((e for e in batch_events if e.name == "BatchRecalled"), None)

    if merchant_address == ZERO_ADDRESS:
        merchant_address = batch_merchant if entry is not None else None
    reports = chain.logs(registry, ["ReportFiled"], None, key)
    open_reports = sum(
        1
        for report in reports
        if _field(chain.call(registry.functions.reportOf(report.args["reportId"])), 4, "status")
        == ReportStatus.OPEN
    )
    reason = REASON_OF_VERDICT[verdict]
    if reason is VerdictReason.RECALLED and recall is None and batch_recall is not None:
        reason = VerdictReason.BATCH_RECALLED

    sold = [
        e
        for e in custody
        if chain.escrow is not None
        and e.args["action"] == CustodyAction.SOLD
        and e.args["submitter"] == chain.escrow.address
    ]
    sales, sale_events = _sales(chain, item_id, [hex32(e.args["contextHash"]) for e in sold])
    chain.load_times([*item_events, *batch_events, *sale_events])

    merchant = None
    if merchant_address is not None:
        record = chain.call(registry.functions.merchantOf(merchant_address))
        status = MerchantStatus(_field(record, 0, "status"))
        merchant = MerchantSummaryPublic(
            address=str(merchant_address),
            name=str(_field(record, 3, "name")) if status is not MerchantStatus.NONE else None,
            status=status_name(status),
            seller_record=_seller_record(chain, str(merchant_address)),
        )

    hosts = index.settings.metadata_fetch_hosts
    metadata: MetadataPublic | None = None
    if registered is not None:
        metadata = check_metadata(
            session,
            str(registered.args["metadataURI"]),
            hex32(registered.args["metadataHash"]),
            hosts,
            refresh=True,
        )
    elif entry is not None:
        metadata = check_metadata(
            session, entry.metadata_uri, entry.metadata_hash, hosts, refresh=True
        )
    elif activated is not None:
        metadata = MetadataPublic(
            uri=None, hash=hex32(activated.args["metadataHash"]), check=MetadataCheck.UNCHECKED
        )

    registration_event = registered or activated
    batch = None
    if root is not None and batch_record is not None:
        proof = json.loads(entry.proof) if entry is not None else None
        leaf_hash = (
            entry.metadata_hash
            if entry is not None
            else hex32(activated.args["metadataHash"])
            if activated
            else None
        )
        batch = BatchPublic(
            root=root,
            item_count=int(_field(batch_record, 2, "itemCount")),
            recalled=bool(_field(batch_record, 3, "recalled")),
            activated=activated is not None,
            metadata_hash=leaf_hash,
            leaf=entry.leaf if entry is not None else None,
            proof=proof,
            proof_verified=(
                verify_proof(
                    bytes.fromhex(root[2:]),
                    BatchLeaf(key, bytes.fromhex(entry.metadata_hash[2:])),
                    [bytes.fromhex(node[2:]) for node in proof or []],
                )
                if entry is not None
                else None
            ),
            registration=ChainRefPublic(**chain.ref(batch_registered))
            if batch_registered
            else None,
        )
    return ItemVerdictPublic(
        item_id=item_id,
        authentic=reason is VerdictReason.AUTHENTIC,
        verdict=VERDICT_OF_REASON[reason],
        reason=reason,
        explanation=EXPLANATIONS[reason],
        source=Source.CHAIN,
        as_of_block=chain.block,
        merchant=merchant,
        metadata=metadata,
        registration=(
            RegistrationPublic(
                **chain.ref(registration_event), kind="single" if registered else "batch"
            )
            if registration_event is not None
            else None
        ),
        batch=batch,
        custody=[
            CustodyEventPublic(
                **chain.ref(e),
                action=action_name(int(e.args["action"])),
                occurred_at=utc(int(e.args["occurredAt"])),
                submitter=str(e.args["submitter"]),
                event_id=str(int(e.args["eventId"])),
                location_hash=hex32(e.args["locationHash"]),
                context_hash=hex32(e.args["contextHash"]),
            )
            for e in custody
        ],
        flags=[FlagPublic(**chain.ref(e), report_id=int(e.args["reportId"])) for e in flags],
        recall=(
            RecallPublic(
                **chain.ref(recall), scope="item", reason_hash=hex32(recall.args["reasonHash"])
            )
            if recall is not None
            else RecallPublic(
                **chain.ref(batch_recall),
                scope="batch",
                reason_hash=hex32(batch_recall.args["reasonHash"]),
            )
            if batch_recall is not None
            else None
        ),
        open_reports=open_reports,
        sales=sales,
    )


def _sales(
    chain: ChainSnapshot, item_id: str, order_ids: list[str]
) -> tuple[list[SalePublic], list[Event]]:
    """The escrow orders that sold the item (its "sold" custody events name them)."""
    escrow = chain.escrow
    if escrow is None or not order_ids:
        return [], []
    unique = list(dict.fromkeys(order_ids))
    opened = chain.logs(escrow, ["OrderOpened"], [bytes.fromhex(o[2:]) for o in unique])
    sales = []
    for event in opened:
        order_id = hex32(event.args["orderId"])
        terms = event.args["terms"]
        state = chain.call(escrow.functions.orderOf(bytes.fromhex(order_id[2:])))
        item_ids = [hex32(i) for i in terms["itemIds"]]
        position = item_ids.index(item_id) if item_id in item_ids else None
        released_items = int(_field(state, 8, "releasedItems"))
        sales.append(
            SalePublic(
                order_id=order_id,
                status=OrderStatus(_field(state, 0, "status")).name.lower(),
                buyer=str(terms["buyer"]),
                token=str(terms["token"]),
                amount=str(int(terms["amount"])),
                released=bool(position is not None and released_items >> position & 1),
                opened=ChainRefPublic(
                    tx_hash=event.tx_hash,
                    block_number=event.block_number,
                    log_index=event.log_index,
                ),
            )
        )
    return sales, opened


def _seller_record(chain: ChainSnapshot, merchant: str) -> SellerRecordPublic:
    """The merchant's escrow record from the escrow's logs."""
    escrow = chain.escrow
    if escrow is None:
        return SellerRecordPublic(
            orders_total=0, orders_completed=0, orders_refunded=0, disputes_total=0, disputes_lost=0
        )
    merchant_topic = bytes(12) + bytes.fromhex(merchant[2:])
    opened = chain.logs(escrow, ["OrderOpened"], None, None, merchant_topic)
    item_counts = {hex32(e.args["orderId"]): len(e.args["terms"]["itemIds"]) or 1 for e in opened}
    ids = list(item_counts)
    outcomes: list[Event] = []
    for start in range(0, len(ids), TOPIC_CHUNK):
        chunk = [bytes.fromhex(o[2:]) for o in ids[start : start + TOPIC_CHUNK]]
        outcomes += chain.logs(
            escrow, ["OrderReleased", "OrderRefunded", "OrderSettled", "DisputeOpened"], chunk
        )
    outcomes.sort(key=lambda e: (e.block_number, e.log_index))
    released: dict[str, int] = {}
    disputed: set[str] = set()
    completed = refunded = lost = 0
    for event in outcomes:
        order_id = hex32(event.args["orderId"])
        if event.name == "OrderReleased":
            released[order_id] = released.get(order_id, 0) | int(event.args["items"])
            if released[order_id] == (1 << item_counts[order_id]) - 1:
                completed += 1
        elif event.name == "OrderRefunded":
            refunded += 1
            lost += order_id in disputed
        elif event.name == "OrderSettled":
            lost += order_id in disputed and int(event.args["buyerBps"]) > HALF_BPS
        else:
            disputed.add(order_id)
    return SellerRecordPublic(
        orders_total=len(ids),
        orders_completed=completed,
        orders_refunded=refunded,
        disputes_total=len(disputed),
        disputes_lost=lost,
    )


def _field(record: Any, position: int, name: str) -> Any:
    """A struct field from a view's answer (web3 gives tuples; some set-ups give dicts)."""
    if isinstance(record, dict):
        return record[name]
    return record[position]
