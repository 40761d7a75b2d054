"""Product registry: registration by item key (SKU and GS1), directly and relayed through the
ERC-2771 forwarder (bench.forwarded), GS1 prefix grants, custody, Merkle batches and
verification."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from ape import chain
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from app.domain.ids import gs1_company_prefixes, item_id_from_gs1, item_id_from_sku, item_key
from app.domain.merkle import BatchLeaf, ItemBatch
from app.domain.vocab import IdScheme
from bench import forwarded
from bench.context import BenchContext, breakdown, gas_used
from bench.model import Peer, Row, Target
from harness.nodes import rpc

SECTION = "Product registry"

# What was measured for the peers when the registry was designed (solc 0.8.37, optimizer 200,
# Anvil), shown beside this run's own measurement of the same peers as a check on the set-up.
DESIGN_ERC721_FIRST_MINT = 68_759
DESIGN_NEW_STORAGE_SLOT = 44_114

SINGLE_REGISTRATION_TARGET = Target(60_000)
CUSTODY_PER_EVENT_TARGET = Target(15_000)
BATCH_10K_PER_ITEM_TARGET = Target(10)

CUSTODY_BATCH = 100
SMALL_BATCH = 10
LARGE_BATCH = 10_000
SKU = "TM-BENCH-SNEAKER-42"
# A GS1 item: GTIN-14 09506000134352 (GS1's own example), company prefix 9506000 (7 digits).
GTIN = "09506000134352"
GS1_PREFIX_LENGTH = 7
SHIPPED = 2  # IProductRegistry.CustodyAction.Shipped
AUTHENTIC = 0  # IProductRegistry.Verdict.Authentic


def run(ctx: BenchContext) -> list[Row]:
    erc721_mint, slot_write = _measure_peers(ctx)
    erc721_peer = Peer("OZ 5 ERC-721 first mint", erc721_mint)
    slot_peer = Peer("bare new storage slot", slot_write)

    # The registry as the suite deploys it: behind its forwarder, which relays merchants' signed
    # requests (the forwarded rows). Direct calls cost the same as with no forwarder (measured).
    forwarder = ctx.admin.deploy(ctx.project.TrustMallForwarder)
    registry = ctx.admin.deploy(ctx.project.ProductRegistry, ctx.admin.address, forwarder.address)
    registry.grantRole(registry.VERIFIER_ROLE(), ctx.verifier.address, sender=ctx.admin)
    registry.approveMerchant(
        ctx.merchant.address, "Bench Footwear Ltd", keccak(text="identity"), sender=ctx.verifier
    )

    rows = [
        Row(
            "registry.peer_erc721_first_mint",
            "Peer: OZ 5 ERC-721 `mint` (`_mint`), first token of a new owner",
            erc721_mint,
            "gas",
            note=f"measured {DESIGN_ERC721_FIRST_MINT:,} when the registry was designed",
        ),
        Row(
            "registry.peer_new_storage_slot",
            "Peer: first write of a mapping slot (`set(k, v)`)",
            slot_write,
            "gas",
            note=f"measured {DESIGN_NEW_STORAGE_SLOT:,} when the registry was designed",
        ),
    ]
    registration = _registration(ctx, registry, erc721_peer)
    rows += registration
    rows += forwarded.rows(ctx, forwarder, registry, _item_input, registration[0])
    rows += _gs1(ctx, registry, erc721_peer)
    rows += _custody(ctx, registry, slot_peer)
    rows += _batches(ctx, registry, erc721_peer)
    return rows


def _measure_peers(ctx: BenchContext) -> tuple[int, int]:
    nft = ctx.admin.deploy(ctx.project.PeerERC721)
    new_owner = to_checksum_address(keccak(text="peer: a new owner")[12:])
    mint = gas_used(nft.mint(new_owner, 1, sender=ctx.admin))
    slots = ctx.admin.deploy(ctx.project.PeerStorageSlot)
    # Keyed like the registry's records, by a 32-byte hash.
    key = int.from_bytes(keccak(text="peer: a new key"))
    write = gas_used(slots.set(key, 1, sender=ctx.admin))
    return mint, write


def _registration(ctx: BenchContext, registry: Any, erc721_peer: Peer) -> list[Row]:
    key, item_id, metadata_hash, uri = _item(ctx, "single-000001")
    receipt = registry.registerItem(key, metadata_hash, uri, sender=ctx.merchant)
    gas = gas_used(receipt)
    verify_gas = registry.verify.estimate_gas_cost(item_id, sender=ctx.shopper)
    if registry.verify(item_id) != AUTHENTIC:
        raise RuntimeError("the registered item does not verify as Authentic")
    return [
        Row(
            "registry.register_item",
            "`registerItem`, one item",
            gas,
            "gas",
            target=SINGLE_REGISTRATION_TARGET,
            peer=erc721_peer,
            note=f"SKU key ({len(SKU)}-character SKU, {len(key[2])}-character serial): the id"
            f" derived on chain from the caller; item slot 0 → non-zero; metadata URI of"
            f" {len(uri)} characters (ipfs://CIDv1) in the event",
            breakdown=breakdown(ctx, receipt, {}),
        ),
        Row(
            "registry.verify",
            "`verify(itemId)`, singly registered item",
            verify_gas,
            "gas",
            note="eth_estimateGas of the call, 21,000 base included",
        ),
    ]


def _gs1(ctx: BenchContext, registry: Any, erc721_peer: Peer) -> list[Row]:
    """A verifier grants the merchant its GS1 company prefix; the merchant registers a GTIN item."""
    prefix = gs1_company_prefixes(GTIN)[GS1_PREFIX_LENGTH - 4]
    granted = registry.grantGs1Prefix(prefix, ctx.merchant.address, sender=ctx.verifier)
    grant = gas_used(granted)
    serial = "A1B2C3D4"
    metadata = _metadata({"gtin": GTIN, "serial": serial})
    key = item_key(IdScheme.GS1, GTIN, serial)
    registered = registry.registerItem(
        key, keccak(metadata), _ipfs_uri(metadata), sender=ctx.merchant
    )
    register = gas_used(registered)
    if registry.verify(item_id_from_gs1(GTIN, serial)) != AUTHENTIC:
        raise RuntimeError("the GS1 item does not verify as Authentic")
    shorter = GS1_PREFIX_LENGTH - 4
    return [
        Row(
            "registry.grant_gs1_prefix",
            f"`grantGs1Prefix`, a {GS1_PREFIX_LENGTH}-digit company prefix (verifier)",
            grant,
            "gas",
            note=f"digits checked; the prefix and its {shorter} shorter prefixes (4 digits and up)"
            " looked up, each a keccak and a cold slot (none may be granted), and the prefix's"
            " count of granted longer prefixes (must be 0: granted prefixes never nest); the"
            f" prefix slot 0 → non-zero, and each of the {shorter} shorter prefixes' count of"
            " longer ones 0 → 1 (new slots); the merchant's prefix-length bits set in its"
            " record's first slot",
            breakdown=breakdown(ctx, granted, {}),
        ),
        Row(
            "registry.register_item_gs1",
            "`registerItem`, one item by GS1 key (GTIN-14 and serial)",
            register,
            "gas",
            peer=erc721_peer,
            note=f"GTIN digits and check digit and the {len(serial)}-character serial checked"
            f" on chain, the id derived; the merchant holds one prefix length, so one prefix"
            f" lookup (a keccak and a cold slot); item slot 0 → non-zero",
            breakdown=breakdown(ctx, registered, {}),
        ),
    ]


def _custody(ctx: BenchContext, registry: Any, slot_peer: Peer) -> list[Row]:
    items = [_item(ctx, f"custody-{n:06d}") for n in range(CUSTODY_BATCH)]
    registry.registerItems([(key, meta, uri) for key, _, meta, uri in items], sender=ctx.merchant)
    location = keccak(text="urn:epc:id:sgln:9506000.13435.0")

    def events(first_id: int, count: int) -> list[tuple[bytes, int, int, int, bytes, bytes]]:
        now = int(chain.blocks.head.timestamp)
        return [
            (items[n][1], first_id + n, SHIPPED, now, location, keccak(text=f"shipment-{first_id}"))
            for n in range(count)
        ]

    # Event ids are spent per submitter in 256-id words: id 0 opens word 0, id 1 shares it,
    # and the batch starts at 256 so that it too opens a word of its own.
    # All three in the second of the chain's head, as the baseline measured them (its node was
    # fast enough): an item's repeated Shipped event then rewrites its record unchanged, 2,800
    # less than a change, whether or not the node's clock ticks meanwhile.
    same_second = int(chain.blocks.head.timestamp)

    def record(first_id: int, count: int) -> int:
        rpc(ctx.rpc_url, "evm_setNextBlockTimestamp", [same_second])
        return gas_used(registry.recordCustody(events(first_id, count), sender=ctx.merchant))

    new_word = record(0, 1)
    in_word = record(1, 1)
    batch = record(256, CUSTODY_BATCH)
    return [
        Row(
            "registry.custody_single_event",
            "`recordCustody`, 1 event alone (next sequential id)",
            in_word,
            "gas",
            peer=slot_peer,
            note="the submitter's bitmap word already in use; the item's previous event in the"
            " same second (the block time pinned), its record rewritten unchanged",
        ),
        Row(
            "registry.custody_single_event_new_word",
            "`recordCustody`, 1 event alone, first id of a bitmap word",
            new_word,
            "gas",
            peer=slot_peer,
            note="one id in 256 pays for a new bitmap word",
        ),
        Row(
            "registry.custody_batch_100_total",
            f"`recordCustody`, batch of {CUSTODY_BATCH} events (total)",
            batch,
            "gas",
            note=f"{CUSTODY_BATCH} items (2 with an event in the same second before), sequential"
            " ids opening a new bitmap word",
        ),
        Row(
            "registry.custody_batch_100_per_event",
            f"`recordCustody`, per event in a batch of {CUSTODY_BATCH}",
            round(batch / CUSTODY_BATCH, 1),
            "gas/event",
            target=CUSTODY_PER_EVENT_TARGET,
            note="transaction total / events, 21,000 base included",
        ),
    ]


def _batches(ctx: BenchContext, registry: Any, erc721_peer: Peer) -> list[Row]:
    rows: list[Row] = []
    large: ItemBatch | None = None
    for size in (SMALL_BATCH, LARGE_BATCH):
        batch = _item_batch(ctx, f"batch{size}", size)
        manifest = json.dumps(
            {"sku": SKU, "items": size, "root": "0x" + batch.root.hex()}, separators=(",", ":")
        ).encode()
        gas = gas_used(
            registry.registerBatch(
                batch.root, size, keccak(manifest), _ipfs_uri(manifest), sender=ctx.merchant
            )
        )
        target = BATCH_10K_PER_ITEM_TARGET if size == LARGE_BATCH else None
        rows += [
            Row(
                f"registry.batch_{size}_total",
                f"`registerBatch`, Merkle batch of {size:,} items (total)",
                gas,
                "gas",
            ),
            Row(
                f"registry.batch_{size}_per_item",
                f"`registerBatch`, per item in a batch of {size:,}",
                round(gas / size, 2),
                "gas/item",
                target=target,
                peer=erc721_peer,
            ),
        ]
        large = batch

    assert large is not None
    index = LARGE_BATCH // 2
    leaf = large.leaves[index]
    proof = large.proof(leaf.item_id)
    key = item_key(IdScheme.SKU, SKU, _serial(f"batch{LARGE_BATCH}", index))
    args = (large.root, key, leaf.metadata_hash, proof)
    if registry.verifyBatchItem(*args) != AUTHENTIC:
        raise RuntimeError("the batch item does not verify as Authentic")
    verify_gas = registry.verifyBatchItem.estimate_gas_cost(*args, sender=ctx.shopper)
    activate_gas = gas_used(registry.activateBatchItem(*args, sender=ctx.merchant))
    rows += [
        Row(
            "registry.verify_batch_item_10000",
            f"`verifyBatchItem`, item of a {LARGE_BATCH:,}-item batch",
            verify_gas,
            "gas",
            note=f"proof of {len(proof)} hashes; the id derived from the item's SKU key under"
            " the batch's merchant; eth_estimateGas, 21,000 base included",
        ),
        Row(
            "registry.activate_batch_item_10000",
            f"`activateBatchItem`, item of a {LARGE_BATCH:,}-item batch",
            activate_gas,
            "gas",
            peer=erc721_peer,
            note=f"proof of {len(proof)} hashes; the id derived from the item's SKU key;"
            " item slot 0 → non-zero, its batch root stored",
        ),
    ]
    return rows


def _item(ctx: BenchContext, serial: str) -> tuple[tuple[int, str, str], bytes, bytes, str]:
    """A realistic SKU item: its key, its id, the hash of its metadata JSON and an ipfs:// URI."""
    metadata = _metadata({"sku": SKU, "serial": serial})
    item_id = item_id_from_sku(ctx.merchant.address, SKU, serial)
    return item_key(IdScheme.SKU, SKU, serial), item_id, keccak(metadata), _ipfs_uri(metadata)


def _item_input(ctx: BenchContext, serial: str) -> forwarded.ItemInput:
    """`_item` as `registerItems` takes it: key, metadata hash, URI."""
    key, _, metadata_hash, uri = _item(ctx, serial)
    return key, metadata_hash, uri


def _metadata(key: dict[str, str]) -> bytes:
    return json.dumps(
        {"name": "Trail runner, size 42", "origin": "PT", **key},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def _serial(prefix: str, n: int) -> str:
    return f"{prefix}-{n:06d}"


def _item_batch(ctx: BenchContext, prefix: str, size: int) -> ItemBatch:
    leaves = []
    for n in range(size):
        _, item_id, metadata_hash, _ = _item(ctx, _serial(prefix, n))
        leaves.append(BatchLeaf(item_id, metadata_hash))
    return ItemBatch(leaves)


def _ipfs_uri(content: bytes) -> str:
    """``ipfs://`` + the CIDv1 (raw codec, sha2-256, base32) IPFS gives ``content``."""
    cid = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(content).digest()
    return "ipfs://b" + base64.b32encode(cid).decode().lower().rstrip("=")
