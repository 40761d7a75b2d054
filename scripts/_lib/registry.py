"""Merchant operations on a deployed ProductRegistry, with pre-flight checks, chunking, dry runs
and resumable runs. Used by ``scripts/merchant.py`` (custody events: ``custody.py``, batch item
activation: ``activation.py``); the demo may call these functions directly inside an Ape network
context (``with networks.parse_network_choice(...)``).

Every transaction is simulated (``eth_call``) before it is sent, and a refusal stops the run with
the contract's own error explained (``scripts/_lib/reverts.py``): a GTIN whose company prefix no
verifier granted the merchant, an id another merchant holds. Items are sent as the registry's
``ItemKey`` (SKU or GTIN, and serial); the registry derives their ids.

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
from scripts._lib.inputs import ItemEntry
from scripts._lib.journal import Journal
from scripts._lib.manifest import Manifest

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

    def __init__(
        self,
        problems: Sequence[str],
        headline: str = "pre-flight checks failed",
        *,
        nothing_sent: bool = True,
    ) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        tail = ", nothing was sent" if nothing_sent else ""
        super().__init__(f"{headline}{tail}:\n{listing}")


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


def hex_of(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def head_block() -> int:
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
    tx_hash = hex_of(signed.txn_hash)
    if journal is not None:
        journal.sent(keys, tx_hash)
    receipt: ReceiptAPI = chain.provider.send_transaction(signed)
    if journal is not None:
        journal.chunk_confirmed(tx_hash, receipt.block_number)
    return receipt


def refuse_if(
    account: AccountAPI, method: Any, args: list[Any], what: str, result: RunResult | None = None
) -> None:
    """Simulates the transaction; raises PreflightError with the contract's refusal explained."""
    from scripts._lib.reverts import refusal_of

    refusal = refusal_of(method, *args, sender=str(account.address))
    if refusal is None:
        return
    problems = [f"{what}: the contract would refuse it: {refusal}"]
    if result is not None and result.sent:
        headline = f"stopped after {result.sent} row(s) were sent, the rest was not sent"
        raise PreflightError(problems, headline, nothing_sent=False)
    raise PreflightError(problems)


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
        registry.from_block, head_block() + 1, search_topics={"merchant": merchant}
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
                f"{entry.where}: item ({entry.label}, id {hex_of(entry.item_id)}) is already "
                "registered by you with other metadata hash or URI"
            )
        elif owner == ZERO_ADDRESS:
            problems.append(
                f"{entry.where}: item ({entry.label}, id {hex_of(entry.item_id)}) is taken "
                f"(state {ItemState(int(item.state)).name.lower()})"
            )
        else:
            where = "a batch of " if item.inBatch else ""
            problems.append(
                f"{entry.where}: item ({entry.label}, id {hex_of(entry.item_id)}) is already "
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
    return send_in_chunks(
        account,
        registry.contract.registerItems,
        plan.to_send,
        lambda e: (e.key, e.metadata_hash, e.metadata_uri),
        lambda e: hex_of(e.item_id),
        RunResult(skipped=len(plan.done)),
        chunk_size=chunk_size,
        journal=journal,
        dry_run=dry_run,
        on_chunk=on_chunk,
    )


def send_in_chunks(
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
    """Calls ``method`` with ``chunk_size`` entries at a time (or only estimates its gas), each
    transaction simulated first: a refusal stops the run before that transaction."""
    done = 0
    for chunk in _chunks(entries, chunk_size):
        args = [[as_input(entry) for entry in chunk]]
        refuse_if(account, method, args, f"rows {done + 1}-{done + len(chunk)} to send", result)
        done += len(chunk)
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
    check_batch_keys(registry, merchant, entries)
    problems = []
    if owner != ZERO_ADDRESS:
        problems.append(f"batch root {hex_of(root)} is already registered by merchant {owner}")
    for entry in entries:
        item = registry.contract.itemOf(entry.item_id)
        if str(item.merchant) != ZERO_ADDRESS or int(item.state) != ItemState.ACTIVE:
            problems.append(
                f"{entry.where}: item ({entry.label}, id {hex_of(entry.item_id)}) is already "
                f"registered (merchant {item.merchant})"
            )
    if problems:
        raise PreflightError(problems)
    return False


def check_batch_keys(registry: Registry, merchant: str, entries: list[ItemEntry]) -> None:
    """Asks the registry whether it would derive an id from each GTIN of the batch under
    ``merchant`` (``itemIdOfKey``): a GTIN whose company prefix no verifier granted it would
    leave those batch items unknown and never activated."""
    from scripts._lib.reverts import refusal_of

    problems = []
    seen: set[str] = set()
    for entry in entries:
        gtin = entry.row.gtin
        if gtin is None or gtin in seen:
            continue
        seen.add(gtin)
        refusal = refusal_of(registry.contract.itemIdOfKey, merchant, entry.key)
        if refusal is not None:
            problems.append(
                f"{entry.where} ({entry.label}): the registry refuses its key: {refusal}"
            )
    if problems:
        raise PreflightError(problems)


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
    refuse_if(account, method, args, "the batch")
    if dry_run:
        result.gas_estimates.append(estimate(account, method, args))
    else:
        result.receipts.append(send_chunk(account, method, args, [hex_of(manifest.root)], journal))
        result.sent = manifest.item_count
    return result


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
