"""Publishing a Merkle batch's manifest: the merchant signs it, the service checks it against the
chain and keeps each item's proof, so shoppers can check batch items without trusting us.

Checks, in order: the manifest's shape; its root, chain and registry are this batch's; the batch is
registered on chain (``registry.batchOf(root)``); the signature recovers the batch's merchant; each
item names its key (``sku`` or ``gtin``, and ``serial``) and the key gives its id under the batch's
merchant, as the registry derives it; each GTIN lies under a company prefix the batch's merchant
holds (``registry.gs1PrefixHolder``: the registry activates and verifies a batch's GS1 item only
then, so a manifest naming another company's GTINs would speak for items that are not its
merchant's); the leaves rebuild the root and their count is the batch's
``itemCount``. A second publication of the
same content answers the first; other content for a published root is a conflict.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.domain.errors import InvalidGtin, InvalidSerial
from app.domain.ids import gs1_company_prefixes, item_id_of_key, manifest_item_key
from app.domain.manifest import ManifestDocument, ManifestItemDocument
from app.domain.manifest_signing import (
    InvalidManifestSignature,
    manifest_content_hash,
    recover_manifest_signer,
)
from app.domain.merkle import LEAF_ENCODING, BatchLeaf, ItemBatch
from app.domain.metadata import NotCanonicalizable
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import IdScheme
from app.index.chain import RPC_ERRORS, ChainUnavailable
from app.index.handlers import hex32
from app.index.runtime import IndexRuntime
from app.shop.models import ManifestItem, PublishedManifest
from app.shop.schemas import ManifestCreate, ManifestPublishedPublic


def publish_manifest(
    index: IndexRuntime, session: Session, root: str, body: ManifestCreate
) -> ManifestPublishedPublic:
    document = _document(body.manifest)
    if document.root.lower() != root:
        raise _refused(422, "root_mismatch", "the manifest's root is not the root in the path")
    if document.leaf_encoding != list(LEAF_ENCODING):
        raise _refused(422, "invalid_manifest", f"leaf_encoding must be {list(LEAF_ENCODING)}")
    if document.item_count != len(document.items):
        raise _refused(422, "item_count_mismatch", "item_count is not the number of items")
    try:
        content_hash = manifest_content_hash(body.manifest)
    except NotCanonicalizable as error:
        raise _refused(422, "invalid_manifest", str(error)) from error

    batch_merchant, onchain_count, onchain_hash = _batch_on_chain(index, document, root)
    try:
        signer = recover_manifest_signer(bytes.fromhex(root[2:]), content_hash, body.signature)
    except InvalidManifestSignature as error:
        raise _refused(422, "invalid_signature", str(error)) from error
    if signer != batch_merchant:
        raise _refused(
            403,
            "signer_not_batch_merchant",
            "the manifest is not signed by the merchant who registered the batch",
            {"signer": signer, "batch_merchant": batch_merchant},
        )
    keys = [
        _item_key(position, item, batch_merchant) for position, item in enumerate(document.items)
    ]
    _check_gs1_prefixes(index, batch_merchant, keys)
    leaves = [
        BatchLeaf(bytes.fromhex(item.item_id[2:]), bytes.fromhex(item.metadata_hash[2:]))
        for item in document.items
    ]
    try:
        batch = ItemBatch(leaves)
    except ValueError as error:
        raise _refused(422, "invalid_manifest", str(error)) from error
    if "0x" + batch.root.hex() != root:
        raise _refused(
            422,
            "root_not_rebuilt",
            "the manifest's leaves do not rebuild the root",
            {"rebuilt_root": "0x" + batch.root.hex()},
        )
    if onchain_count != len(leaves):
        raise _refused(
            422,
            "item_count_mismatch",
            "the batch was registered with another item count",
            {"onchain_item_count": onchain_count, "manifest_item_count": len(leaves)},
        )

    content = "0x" + content_hash.hex()
    existing = session.get(PublishedManifest, root)
    if existing is not None:
        if existing.content_hash != content:
            raise _refused(
                409,
                "manifest_already_published",
                "another manifest was published for this root",
                {"content_hash": existing.content_hash},
            )
        return _public(existing, created=False)

    published = PublishedManifest(
        root=root,
        merchant=batch_merchant,
        content_hash=content,
        onchain_metadata_hash=onchain_hash,
        item_count=len(leaves),
        manifest=json.dumps(body.manifest, sort_keys=True),
        signature=body.signature.lower(),
        published_at=datetime.now(UTC),
    )
    session.add(published)
    for position, (item, leaf, key) in enumerate(zip(document.items, leaves, keys, strict=True)):
        session.add(
            ManifestItem(
                root=root,
                item_id=item.item_id.lower(),
                position=position,
                metadata_hash=item.metadata_hash.lower(),
                metadata_uri=item.metadata_uri,
                label=item.label,
                leaf=_leaf(leaf),
                proof=json.dumps(["0x" + node.hex() for node in batch.proof(leaf.item_id)]),
                id_scheme=int(key[0]),
                code=key[1],
                serial=key[2],
            )
        )
    session.commit()
    return _public(published, created=True)


def _item_key(position: int, item: ManifestItemDocument, merchant: str) -> tuple[int, str, str]:
    """The item's key, checked to give its id under the batch's merchant (else the registry would
    never activate it, and ``verifyBatchItem`` would call it unknown)."""
    key = manifest_item_key(item.model_dump())
    field = f"manifest.items.{position}"
    if key is None:
        raise _refused(
            422,
            "item_key_missing",
            "every manifest item names its key: sku or gtin, and serial",
            {"field": field},
        )
    scheme, code, serial = key
    try:
        derived = "0x" + item_id_of_key(merchant, scheme, code, serial).hex()
    except (InvalidGtin, InvalidSerial) as error:
        raise _refused(422, "invalid_item_key", str(error), {"field": field}) from error
    if derived != item.item_id.lower():
        raise _refused(
            422,
            "item_key_mismatch",
            "the item's key does not give its id under the batch's merchant",
            {"field": field, "item_id": item.item_id.lower(), "derived_item_id": derived},
        )
    return int(scheme), code, serial


def _check_gs1_prefixes(
    index: IndexRuntime, merchant: str, keys: list[tuple[int, str, str]]
) -> None:
    """Refuses the first GS1 key whose GTIN lies under no company prefix ``merchant`` holds now.
    Grants never nest, so a prefix found held covers every later GTIN under it: a company's
    manifest costs a few reads, whatever its size."""
    held: set[str] = set()
    try:
        registry = index.chain.suite().registry
        for position, (scheme, gtin, _serial) in enumerate(keys):
            if scheme != IdScheme.GS1:
                continue
            prefixes = gs1_company_prefixes(gtin)
            if held.intersection(prefixes):
                continue
            holding = next(
                (p for p in prefixes if registry.functions.gs1PrefixHolder(p).call() == merchant),
                None,
            )
            if holding is None:
                raise _refused(
                    422,
                    "gs1_prefix_not_held",
                    "the batch's merchant holds no GS1 company prefix this item's GTIN lies under: "
                    "the registry would never activate it (a verifier grants the prefix first)",
                    {"field": f"manifest.items.{position}", "gtin": gtin},
                )
            held.add(holding)
    except RPC_ERRORS as error:
        raise ChainUnavailable(f"reading GS1 prefix holders: {error}") from error


def _document(manifest: dict[str, Any]) -> ManifestDocument:
    try:
        return ManifestDocument.model_validate(manifest)
    except ValidationError as error:
        details = [
            {
                "field": "manifest." + ".".join(str(part) for part in item["loc"]),
                "code": item["type"],
                "message": item["msg"],
            }
            for item in error.errors()
        ]
        raise ApiError(422, "invalid_manifest", "the manifest is not valid", details) from error


def _batch_on_chain(
    index: IndexRuntime, document: ManifestDocument, root: str
) -> tuple[str, int, str]:
    """The batch's merchant, item count and registered metadata hash, read from the chain."""
    try:
        suite = index.chain.suite()
        if document.chain_id != suite.chain_id:
            raise _refused(422, "wrong_chain", f"this service serves chain {suite.chain_id}")
        registry = suite.registry
        if document.registry.lower() != registry.address.lower():
            raise _refused(422, "wrong_registry", f"this service's registry is {registry.address}")
        key = bytes.fromhex(root[2:])
        record = registry.functions.batchOf(key).call()
        merchant = str(record[0])
        if merchant == ZERO_ADDRESS:
            raise _refused(404, "batch_not_registered", "no batch with this root is registered")
        event = registry.events.BatchRegistered()
        logs = suite.web3.eth.get_logs(
            {
                "address": registry.address,
                "fromBlock": suite.deployed_at_block("ProductRegistry"),
                "toBlock": "latest",
                "topics": [hex32(str(event.topic)), hex32(key)],
            }
        )
        onchain_hash = hex32(event.process_log(logs[0])["args"]["metadataHash"]) if logs else ""
        return merchant, int(record[2]), onchain_hash
    except RPC_ERRORS as error:
        raise ChainUnavailable(f"reading batch {root}: {error}") from error


def _leaf(leaf: BatchLeaf) -> str:
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    return (
        "0x" + keccak(keccak(encode(list(LEAF_ENCODING), [leaf.item_id, leaf.metadata_hash]))).hex()
    )


def _public(row: PublishedManifest, *, created: bool) -> ManifestPublishedPublic:
    published_at = row.published_at
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    return ManifestPublishedPublic(
        root=row.root,
        merchant=row.merchant,
        item_count=row.item_count,
        content_hash=row.content_hash,
        matches_onchain_metadata_hash=row.content_hash == row.onchain_metadata_hash,
        published_at=published_at,
        created=created,
    )


def _refused(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> ApiError:
    return ApiError(status, code, message, details)
