"""Merchant operations on a deployed ProductRegistry, with pre-flight checks, chunking, dry runs
and resumable runs. Used by ``scripts/merchant.py``; the demo may call these functions directly
inside an Ape network context (``with networks.parse_network_choice(...)``).

Idempotence: every run re-reads the chain before sending.

* Items: an id this merchant already registered with the same metadata hash and URI (read from
  its ``ItemRegistered`` logs) counts as done and is skipped; registered by anyone else, or with
  other metadata, is an error naming the row.
* Custody: an event id this submitter already spent for the very same event is skipped; spent
  for another event it is an error. Rows without ``event_id`` are skipped when this submitter
  already recorded the very same event (item, action, time, location and context); the others
  get the next free ids *in sequence* — one past the highest id this submitter has used on this
  registry (from its ``CustodyRecorded`` logs) or given in the file — so that 256 consecutive ids
  share one storage word of the contract's bitmap (random ids would each cost a fresh slot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.domain.deployments import contract_address, deployments_dir, load_record
from app.domain.vocab import ItemState, MerchantStatus, Verdict
from scripts._lib.inputs import UINT256_MAX, CustodyEntry, ItemEntry
from scripts._lib.journal import Journal
from scripts._lib.manifest import Manifest, batch_item

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from ape.api.transactions import ReceiptAPI
    from ape.contracts.base import ContractInstance

REGISTRY = "ProductRegistry"
DEFAULT_CHUNK_SIZE = 100
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

Echo = Callable[[str], None]


class PreflightError(click.ClickException):
    """The chain says the run cannot go ahead; nothing was sent."""

    def __init__(self, problems: Sequence[str], headline: str = "pre-flight checks failed") -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{headline}, nothing was sent:\n{listing}")


@dataclass(frozen=True)
class Registry:
    contract: ContractInstance
    from_block: int

    @property
    def address(self) -> str:
        return str(self.contract.address)


def open_registry(address: str | None, directory: Path | None) -> Registry:
    """The registry at ``address``, else the one recorded for this chain in the deployments dir."""
    from ape import chain, project

    from_block = 0
    if address is None:
        folder = deployments_dir(directory)
        address = contract_address(folder, chain.chain_id, REGISTRY)
        if address is None:
            raise click.UsageError(
                f"no {REGISTRY} deployment recorded for chain {chain.chain_id} in {folder}: "
                "run `ape run deploy` first, or pass --registry ADDRESS"
            )
        record = load_record(folder, chain.chain_id)
        assert record is not None
        from_block = record.contracts[REGISTRY].block_number
    if not chain.provider.get_code(address):
        raise click.UsageError(f"no contract code at {address} on chain {chain.chain_id}")
    return Registry(project.ProductRegistry.at(address), from_block)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _head() -> int:
    from ape import chain

    return int(chain.blocks.height)


def require_active_merchant(registry: Registry, merchant: str) -> None:
    status = MerchantStatus(int(registry.contract.merchantOf(merchant).status))
    if status is not MerchantStatus.ACTIVE:
        raise PreflightError(
            [
                f"account {merchant} is not an active merchant on {registry.address} "
                f"(status {status.name.lower()}); a verifier must approve it first"
            ],
        )


def settle_pending(journal: Journal, echo: Echo) -> None:
    """Resolves transactions a previous run sent but never saw confirmed."""
    from ape import chain

    for tx in journal.pending():
        try:
            receipt = chain.provider.get_receipt(tx["tx_hash"], timeout=30)
        except Exception:  # never mined, or dropped: the chain check decides
            journal.settle(tx["tx_hash"], ok=False, block_number=None)
            echo(f"journal: {tx['tx_hash']} was never mined; its rows are re-checked on chain")
            continue
        journal.settle(tx["tx_hash"], ok=not receipt.failed, block_number=receipt.block_number)
        echo(f"journal: {tx['tx_hash']} {'confirmed' if not receipt.failed else 'failed'}")


def send_chunk(
    account: AccountAPI, method: Any, args: list[Any], keys: list[str], journal: Journal | None
) -> ReceiptAPI:
    """Signs, journals the hash, sends and waits for the receipt of one transaction."""
    from ape import chain

    txn = account.prepare_transaction(method.as_transaction(*args, sender=account))
    signed = account.sign_transaction(txn)
    if signed is None:
        raise click.ClickException("the transaction was not signed")
    tx_hash = _hex(signed.txn_hash)
    if journal is not None:
        journal.sent(keys, tx_hash)
    receipt: ReceiptAPI = chain.provider.send_transaction(signed)
    if journal is not None:
        journal.chunk_confirmed(tx_hash, receipt.block_number)
    return receipt


def estimate(account: AccountAPI, method: Any, args: list[Any]) -> int:
    """Gas units the transaction would use."""
    return int(method.estimate_gas_cost(*args, sender=account))


def gas_price() -> int:
    from ape import chain

    return int(chain.provider.gas_price)


# ---------------------------------------------------------------------------------------- items


@dataclass
class ItemPlan:
    to_send: list[ItemEntry] = field(default_factory=list)
    done: list[ItemEntry] = field(default_factory=list)


def _registered_by(registry: Registry, merchant: str) -> dict[bytes, tuple[bytes, str]]:
    """item id -> (metadata hash, URI) for every item ``merchant`` registered singly."""
    logs = registry.contract.ItemRegistered.range(
        registry.from_block, _head() + 1, search_topics={"merchant": merchant}
    )
    return {bytes(log.itemId): (bytes(log.metadataHash), str(log.metadataURI)) for log in logs}


def plan_items(registry: Registry, merchant: str, entries: list[ItemEntry]) -> ItemPlan:
    """Pre-flight for single registration: which rows to send, which are already done."""
    require_active_merchant(registry, merchant)
    plan = ItemPlan()
    problems: list[str] = []
    mine: dict[bytes, tuple[bytes, str]] | None = None
    for entry in entries:
        item = registry.contract.itemOf(entry.item_id)
        owner = str(item.merchant)
        if owner == ZERO_ADDRESS and int(item.state) == ItemState.ACTIVE:
            plan.to_send.append(entry)
            continue
        if owner == merchant and not item.inBatch:
            if mine is None:
                mine = _registered_by(registry, merchant)
            if mine.get(entry.item_id) == (entry.metadata_hash, entry.metadata_uri):
                plan.done.append(entry)
                continue
            problems.append(
                f"{entry.where}: item ({entry.label}, id {_hex(entry.item_id)}) is already "
                "registered by you with other metadata hash or URI"
            )
        elif owner == ZERO_ADDRESS:
            problems.append(
                f"{entry.where}: item ({entry.label}, id {_hex(entry.item_id)}) is taken "
                f"(state {ItemState(int(item.state)).name.lower()})"
            )
        else:
            where = "a batch of " if item.inBatch else ""
            problems.append(
                f"{entry.where}: item ({entry.label}, id {_hex(entry.item_id)}) is already "
                f"registered in {where}merchant {owner}"
            )
    if problems:
        raise PreflightError(problems)
    return plan


@dataclass
class RunResult:
    """What a run did: rows sent, rows skipped as done, receipts, or the dry-run estimate."""

    sent: int = 0
    skipped: int = 0
    receipts: list[Any] = field(default_factory=list)
    gas_estimates: list[int] = field(default_factory=list)

    @property
    def tx_hashes(self) -> list[str]:
        return [str(r.txn_hash) for r in self.receipts]


def register_items(
    registry: Registry,
    account: AccountAPI,
    plan: ItemPlan,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: Journal | None = None,
    dry_run: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> RunResult:
    """Registers the planned rows with ``registerItems``, ``chunk_size`` per transaction."""
    return _send_in_chunks(
        account,
        registry.contract.registerItems,
        plan.to_send,
        lambda e: (e.item_id, e.metadata_hash, e.metadata_uri),
        lambda e: _hex(e.item_id),
        RunResult(skipped=len(plan.done)),
        chunk_size=chunk_size,
        journal=journal,
        dry_run=dry_run,
        on_chunk=on_chunk,
    )


def _send_in_chunks(
    account: AccountAPI,
    method: Any,
    entries: list[Any],
    as_input: Callable[[Any], Any],
    journal_key: Callable[[Any], str],
    result: RunResult,
    *,
    chunk_size: int,
    journal: Journal | None,
    dry_run: bool,
    on_chunk: Callable[[int], None] | None,
) -> RunResult:
    """Calls ``method`` with ``chunk_size`` entries at a time (or only estimates its gas)."""
    for chunk in _chunks(entries, chunk_size):
        args = [[as_input(entry) for entry in chunk]]
        if dry_run:
            result.gas_estimates.append(estimate(account, method, args))
        else:
            keys = [journal_key(entry) for entry in chunk]
            result.receipts.append(send_chunk(account, method, args, keys, journal))
            result.sent += len(chunk)
        if on_chunk is not None:
            on_chunk(len(chunk))
    return result


# ---------------------------------------------------------------------------------------- batches


def plan_batch(registry: Registry, merchant: str, entries: list[ItemEntry], root: bytes) -> bool:
    """Pre-flight for a Merkle batch; True when this merchant already registered this root."""
    require_active_merchant(registry, merchant)
    batch = registry.contract.batchOf(root)
    owner = str(batch.merchant)
    if owner == merchant:
        return True
    problems = []
    if owner != ZERO_ADDRESS:
        problems.append(f"batch root {_hex(root)} is already registered by merchant {owner}")
    for entry in entries:
        item = registry.contract.itemOf(entry.item_id)
        if str(item.merchant) != ZERO_ADDRESS or int(item.state) != ItemState.ACTIVE:
            problems.append(
                f"{entry.where}: item ({entry.label}, id {_hex(entry.item_id)}) is already "
                f"registered (merchant {item.merchant})"
            )
    if problems:
        raise PreflightError(problems)
    return False


def register_batch(
    registry: Registry,
    account: AccountAPI,
    manifest: Manifest,
    metadata_uri: str,
    *,
    journal: Journal | None = None,
    dry_run: bool = False,
) -> RunResult:
    method = registry.contract.registerBatch
    args = [manifest.root, manifest.item_count, manifest.metadata_hash, metadata_uri]
    result = RunResult()
    if dry_run:
        result.gas_estimates.append(estimate(account, method, args))
    else:
        result.receipts.append(send_chunk(account, method, args, [_hex(manifest.root)], journal))
        result.sent = manifest.item_count
    return result


# ---------------------------------------------------------------------------------------- custody


@dataclass(frozen=True)
class PlannedEvent:
    entry: CustodyEntry
    event_id: int

    def as_input(self) -> tuple[bytes, int, int, int, bytes, bytes]:
        e = self.entry
        return (
            e.item_id,
            self.event_id,
            int(e.action),
            e.occurred_at,
            e.location_hash,
            e.context_hash,
        )


@dataclass
class CustodyPlan:
    submitter_is_oracle: bool
    to_send: list[PlannedEvent] = field(default_factory=list)
    done: list[CustodyEntry] = field(default_factory=list)


def plan_custody(registry: Registry, submitter: str, entries: list[CustodyEntry]) -> CustodyPlan:
    """Pre-flight for custody events: items known and ours (unless oracle), times not in the
    future, event ids free or spent on the very same event; assigns ids to rows without one."""
    from ape import chain

    contract = registry.contract
    is_oracle = bool(contract.hasRole(contract.ORACLE_ROLE(), submitter))
    if not is_oracle:
        require_active_merchant(registry, submitter)
    plan = CustodyPlan(submitter_is_oracle=is_oracle)
    problems: list[str] = []
    now = int(chain.blocks.head.timestamp)
    owners: dict[bytes, str] = {}
    for entry in entries:
        if entry.item_id not in owners:
            owners[entry.item_id] = str(contract.itemOf(entry.item_id).merchant)
        owner = owners[entry.item_id]
        if owner == ZERO_ADDRESS:
            problems.append(
                f"{entry.where}: item {_hex(entry.item_id)} is not registered "
                "(a batch item must be activated first)"
            )
        elif not is_oracle and owner != submitter:
            problems.append(
                f"{entry.where}: item {_hex(entry.item_id)} belongs to merchant {owner}, "
                f"not to {submitter}"
            )
        if entry.occurred_at > now:
            problems.append(
                f"{entry.where}, field 'occurred_at': {entry.occurred_at} is in the future "
                f"(latest block time {now})"
            )

    recorded: dict[int, tuple[bytes, int, int, bytes, bytes]] = {}
    for log in contract.CustodyRecorded.range(
        registry.from_block, _head() + 1, search_topics={"submitter": submitter}
    ):
        recorded[int(log.eventId)] = (
            bytes(log.itemId),
            int(log.action),
            int(log.occurredAt),
            bytes(log.locationHash),
            bytes(log.contextHash),
        )
    recorded_events = set(recorded.values())

    explicit = [e.event_id for e in entries if e.event_id is not None]
    next_id = max([*recorded, *explicit], default=-1) + 1
    for entry in entries:
        if entry.event_id is not None:
            spent = entry.event_id in recorded or contract.isEventRecorded(
                submitter, entry.event_id
            )
            if not spent:
                plan.to_send.append(PlannedEvent(entry, entry.event_id))
            elif recorded.get(entry.event_id) == entry.natural_key:
                plan.done.append(entry)
            else:
                problems.append(
                    f"{entry.where}, field 'event_id': {entry.event_id} is already recorded by "
                    f"{submitter} for another event"
                )
        elif entry.natural_key in recorded_events:
            plan.done.append(entry)
        else:
            while contract.isEventRecorded(submitter, next_id):
                next_id += 1
            if next_id > UINT256_MAX:
                problems.append(f"{entry.where}: no event id left after {UINT256_MAX}")
                continue
            plan.to_send.append(PlannedEvent(entry, next_id))
            next_id += 1
    if problems:
        raise PreflightError(problems)
    return plan


def record_custody(
    registry: Registry,
    account: AccountAPI,
    plan: CustodyPlan,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: Journal | None = None,
    dry_run: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> RunResult:
    """Records the planned events with ``recordCustody``, ``chunk_size`` per transaction."""
    return _send_in_chunks(
        account,
        registry.contract.recordCustody,
        plan.to_send,
        lambda event: event.as_input(),
        lambda event: str(event.event_id),
        RunResult(skipped=len(plan.done)),
        chunk_size=chunk_size,
        journal=journal,
        dry_run=dry_run,
        on_chunk=on_chunk,
    )


# ---------------------------------------------------------------------------------------- recalls


def recall_item(registry: Registry, account: AccountAPI, item_id: bytes, reason_hash: bytes) -> Any:
    item = registry.contract.itemOf(item_id)
    owner = str(item.merchant)
    problems = []
    if owner == ZERO_ADDRESS:
        problems.append(
            f"item {_hex(item_id)} is not registered (activate a batch item first, "
            "or recall its whole batch)"
        )
    elif owner != account.address:
        problems.append(f"item {_hex(item_id)} belongs to merchant {owner}, not {account.address}")
    elif Verdict(int(registry.contract.verify(item_id))) is Verdict.RECALLED:
        problems.append(f"item {_hex(item_id)} is already recalled (itself or with its batch)")
    if problems:
        raise PreflightError(problems)
    return registry.contract.recallItem(item_id, reason_hash, sender=account)


def recall_batch_item(
    registry: Registry,
    account: AccountAPI,
    manifest: dict[str, Any],
    item_id: bytes,
    reason_hash: bytes,
    echo: Echo,
) -> Any:
    """Recalls one item of a batch: activates it first with its proof from the manifest when it
    has no record yet (``activateBatchItem``), then ``recallItem``."""
    root = bytes.fromhex(str(manifest.get("root", "")).removeprefix("0x") or "00" * 32)
    item = batch_item(manifest, item_id)
    batch = registry.contract.batchOf(root)
    problems = []
    if item is None:
        problems.append(f"item {_hex(item_id)} is not in the manifest")
    elif str(batch.merchant) != account.address:
        problems.append(f"batch {_hex(root)} belongs to {batch.merchant}, not {account.address}")
    elif batch.recalled:
        problems.append(f"batch {_hex(root)} is already recalled, with all its items")
    if problems or item is None:
        raise PreflightError(problems)
    record = registry.contract.itemOf(item_id)
    if str(record.merchant) == ZERO_ADDRESS:
        proof = [bytes.fromhex(node[2:]) for node in item["proof"]]
        metadata = bytes.fromhex(item["metadata_hash"][2:])
        receipt = registry.contract.activateBatchItem(
            root, item_id, metadata, proof, sender=account
        )
        echo(f"activated batch item {_hex(item_id)} in tx {receipt.txn_hash}")
    return recall_item(registry, account, item_id, reason_hash)


def recall_batch(registry: Registry, account: AccountAPI, root: bytes, reason_hash: bytes) -> Any:
    batch = registry.contract.batchOf(root)
    owner = str(batch.merchant)
    problems = []
    if owner == ZERO_ADDRESS:
        problems.append(f"batch {_hex(root)} is not registered")
    elif owner != account.address:
        problems.append(f"batch {_hex(root)} belongs to merchant {owner}, not {account.address}")
    elif batch.recalled:
        problems.append(f"batch {_hex(root)} is already recalled")
    if problems:
        raise PreflightError(problems)
    return registry.contract.recallBatch(root, reason_hash, sender=account)


# ---------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class ItemStatus:
    where: str
    label: str
    item_id: bytes
    verdict: Verdict


def item_verdicts(registry: Registry, entries: list[ItemEntry]) -> list[ItemStatus]:
    return [
        ItemStatus(e.where, e.label, e.item_id, Verdict(int(registry.contract.verify(e.item_id))))
        for e in entries
    ]


def manifest_verdicts(registry: Registry, manifest: dict[str, Any]) -> list[ItemStatus]:
    """Verdicts of a manifest's items: batch items through their proofs (``verifyBatchItem``),
    items of a singles manifest through ``verify``."""
    root = bytes.fromhex(manifest["root"][2:]) if manifest.get("root") else None
    statuses = []
    for index, item in enumerate(manifest["items"]):
        item_id = bytes.fromhex(item["item_id"][2:])
        if root is None:
            verdict = registry.contract.verify(item_id)
        else:
            verdict = registry.contract.verifyBatchItem(
                root,
                item_id,
                bytes.fromhex(item["metadata_hash"][2:]),
                [bytes.fromhex(node[2:]) for node in item["proof"]],
            )
        label = str(item.get("label") or item["item_id"])
        statuses.append(ItemStatus(f"item {index}", label, item_id, Verdict(int(verdict))))
    return statuses
