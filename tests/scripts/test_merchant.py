"""`ape run merchant ...` on Anvil: approval with an identity commitment, GS1 prefixes granted
and revoked, registration (single and batch, as item keys), the registry's refusals explained,
batch item activation, reassignment of a squatted id, dry runs, crash and resume, custody
events, recalls and verdicts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.ids import item_id_from_gs1, item_id_from_sku, item_key
from app.domain.metadata import metadata_hash
from app.domain.vocab import CustodyAction, IdScheme, MerchantStatus, Verdict
from scripts._lib.registry import CRASH_AFTER_CHUNKS_ENV, CRASH_EXIT_CODE
from tests.scripts.conftest import (
    ADMIN,
    BUYER,
    BUYER_ACCOUNT,
    MERCHANT,
    MERCHANT_ACCOUNT,
    ORACLE,
    ORACLE_ACCOUNT,
    RIVAL_MERCHANT,
    STRANGER,
    STRANGER_ACCOUNT,
    ApeRun,
    Run,
    events_of,
    item_rows,
    write_csv,
)
from tests.scripts.credit_support import contract

pytestmark = pytest.mark.anvil

ITEM_HEADER = "sku,serial,metadata,metadata_uri"
CUSTODY_HEADER = "sku,serial,action,occurred_at,location,reference,event_id"
GTIN = "09506000134352"
PREFIX = "9506000"  # GTIN 09506000134352's GS1 company prefix (digits 2-8 of the GTIN-14)
UNGRANTED_GTIN = "4006381333931"  # a GTIN under a prefix nobody holds
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def register(
    ape_run: ApeRun,
    path: Path,
    *args: str,
    account: str = MERCHANT_ACCOUNT,
    extra_env: dict[str, str] | None = None,
) -> Run:
    return ape_run(
        "merchant", "register", str(path), "--account", account, *args, extra_env=extra_env
    )


def nonce(w3: Web3, account: str) -> int:
    return int(w3.eth.get_transaction_count(account))


def owner_of(registry: Contract, item_id: bytes) -> str:
    return str(registry.functions.itemOf(item_id).call()[0])


def sku_ids(prefix: str, count: int) -> list[bytes]:
    return [item_id_from_sku(MERCHANT, prefix, f"{n:04d}") for n in range(1, count + 1)]


def chain_time(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def gs1_key(serial: str, gtin: str = GTIN) -> tuple[int, str, str]:
    return item_key(IdScheme.GS1, gtin, serial)


def send(w3: Web3, call: Any, sender: str) -> None:
    assert w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))["status"] == 1


@pytest.fixture(scope="module")
def prefix_runs(ape_run: ApeRun, merchant: str, registry: Contract, w3: Web3) -> tuple[Run, Run]:
    """A squatter first: the rival merchant holds PREFIX and registers serials TAKEN-1 and
    TAKEN-2 under it; then the verifier revokes its prefix and grants it to MERCHANT, through
    `ape run ops revoke-prefix` and `grant-prefix`."""
    send(w3, registry.functions.grantGs1Prefix(PREFIX, RIVAL_MERCHANT), ADMIN)
    rows = [(gs1_key(f"TAKEN-{n}"), keccak(b"rival"), "ipfs://rival") for n in (1, 2)]
    send(w3, registry.functions.registerItems(rows), RIVAL_MERCHANT)
    revoked = ape_run("ops", "revoke-prefix", PREFIX)
    assert revoked.returncode == 0, revoked.output
    granted = ape_run("ops", "grant-prefix", PREFIX, MERCHANT)
    assert granted.returncode == 0, granted.output
    return revoked, granted


@pytest.fixture(scope="module")
def registered(
    ape_run: ApeRun, merchant: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[bytes], Run]:
    """Five items REG/0001..0005 registered singly, two per transaction, with a manifest."""
    path = write_csv(
        tmp_path_factory.mktemp("registered") / "items.csv", ITEM_HEADER, item_rows("REG", 5)
    )
    run = register(ape_run, path, "--chunk-size", "2", "--manifest", f"{path}.manifest.json")
    assert run.returncode == 0, run.output
    return path, sku_ids("REG", 5), run


# ---------------------------------------------------------------------------------------- approve


def test_approve_makes_the_merchant_active_with_its_name_and_identity_commitment(
    merchant: str, registry: Contract
) -> None:
    status, _, _, identity_hash, name = registry.functions.merchantOf(merchant).call()
    assert MerchantStatus(status) is MerchantStatus.ACTIVE
    # The owner's legal identifier committed under the (local) identity key, never in clear.
    assert (name, identity_hash) == ("Acme Goods", identity_commitment("KVK 1", DEV_IDENTITY_KEY))


# ---------------------------------------------------------------------------------------- prefixes


def test_verifier_revokes_the_squatters_prefix_and_grants_it_to_its_licensee(
    prefix_runs: tuple[Run, Run], registry: Contract
) -> None:
    revoked, granted = prefix_runs
    assert f"Gs1PrefixRevoked(prefix={PREFIX}, merchant={RIVAL_MERCHANT}" in revoked.output
    assert f"Gs1PrefixGranted(prefix={PREFIX}, merchant={MERCHANT}" in granted.output
    assert registry.functions.gs1PrefixHolder(PREFIX).call() == MERCHANT
    (event,) = events_of(registry, "Gs1PrefixGranted", merchant=MERCHANT)
    assert event.args.prefix == PREFIX


# ---------------------------------------------------------------------------------------- register


def test_register_sends_every_row_in_chunks_with_its_canonical_metadata_hash(
    registered: tuple[Path, list[bytes], Run], registry: Contract
) -> None:
    _, ids, run = registered
    tx_hashes = set()
    for n, item_id in enumerate(ids, start=1):
        (log,) = events_of(registry, "ItemRegistered", itemId=item_id)
        assert log.args.merchant == MERCHANT
        assert log.args.metadataHash == metadata_hash({"name": f"REG #{n}"})
        assert log.args.metadataURI == f"https://shop.example/REG/{n}.json"
        assert Verdict(registry.functions.verify(item_id).call()) is Verdict.AUTHENTIC
        tx_hashes.add(log.transactionHash)
    assert len(tx_hashes) == 3
    assert "registered 5 item(s) in 3 transaction(s)" in run.output
    # Every row's id, as the registry derived it from the item's key.
    for n, item_id in enumerate(ids, start=1):
        assert f"item 0x{item_id.hex()}  sku REG serial {n:04d}" in run.output
        assert f"/verify/0x{item_id.hex()}" in run.output  # where shoppers check it
    assert "next: " in run.output


def test_register_with_manifest_lists_the_single_items_ids_hashes_and_uris(
    registered: tuple[Path, list[bytes], Run], registry: Contract
) -> None:
    path, ids, _ = registered
    manifest = json.loads(Path(f"{path}.manifest.json").read_text())
    assert "root" not in manifest
    assert (manifest["merchant"], manifest["registry"]) == (MERCHANT, registry.address)
    assert [item["item_id"] for item in manifest["items"]] == ["0x" + i.hex() for i in ids]
    assert manifest["items"][0] == {
        "item_id": "0x" + ids[0].hex(),
        "label": "sku REG serial 0001",
        "metadata_hash": "0x" + metadata_hash({"name": "REG #1"}).hex(),
        "metadata_uri": "https://shop.example/REG/1.json",
        "serial": "0001",
        "sku": "REG",
    }


def test_register_rerun_with_a_fresh_journal_skips_items_already_on_chain(
    registered: tuple[Path, list[bytes], Run], ape_run: ApeRun, w3: Web3, tmp_path: Path
) -> None:
    path, _, _ = registered
    before = nonce(w3, MERCHANT)

    run = register(ape_run, path, "--journal", str(tmp_path / "fresh.journal.json"))

    assert run.returncode == 0, run.output
    assert "5 item(s) already registered by you: skipped" in run.output
    assert nonce(w3, MERCHANT) == before


def test_register_batch_writes_a_manifest_whose_proofs_verify_on_chain(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract, tmp_path: Path
) -> None:
    rows = [
        {
            "gtin": GTIN,
            "serial": f"BATCH-{n}",
            "metadata": {"size": n},
            "metadata_uri": f"https://shop.example/b/{n}.json",
        }
        for n in range(1, 4)
    ]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(rows))
    manifest_path = tmp_path / "out" / "manifest.json"

    run = register(
        ape_run,
        path,
        "--batch",
        "--manifest",
        str(manifest_path),
        "--batch-uri",
        "ipfs://batch-manifest",
    )

    assert run.returncode == 0, run.output
    assert (
        f"next: publish the manifest so shoppers get each item's proof: ape run merchant "
        f"publish {manifest_path}" in run.output
    )
    manifest = json.loads(manifest_path.read_text())
    root = bytes.fromhex(manifest["root"][2:])
    merchant_of_batch, _, item_count, recalled = registry.functions.batchOf(root).call()
    assert (merchant_of_batch, item_count, recalled) == (MERCHANT, 3, False)
    (log,) = events_of(registry, "BatchRegistered", root=root)
    assert log.args.metadataHash == metadata_hash(manifest)
    assert log.args.metadataURI == "ipfs://batch-manifest"
    for row, item in zip(rows, manifest["items"], strict=True):
        item_id = item_id_from_gs1(GTIN, str(row["serial"]))
        assert item["item_id"] == "0x" + item_id.hex()
        assert item["metadata_hash"] == "0x" + metadata_hash(row["metadata"]).hex()
        proof = [bytes.fromhex(node[2:]) for node in item["proof"]]
        verdict = registry.functions.verifyBatchItem(
            root, gs1_key(str(row["serial"])), bytes.fromhex(item["metadata_hash"][2:]), proof
        ).call()
        assert Verdict(verdict) is Verdict.AUTHENTIC


def test_a_test_account_is_named_by_its_alias_wherever_an_address_is_asked(
    ape_run: ApeRun, merchant: str, w3: Web3
) -> None:
    before = nonce(w3, ADMIN)

    run = ape_run(
        "ops", "approve-merchant", "TEST::4", "--name", "Shop", "--identity", "I", "--dry-run"
    )

    assert run.returncode == 0, run.output
    assert f"ProductRegistry.approveMerchant(merchant={STRANGER}, name=Shop" in run.output
    assert nonce(w3, ADMIN) == before


def test_register_dry_run_estimates_gas_and_sends_nothing(
    ape_run: ApeRun, merchant: str, registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, item_rows("DRY", 3))
    before = nonce(w3, MERCHANT)

    run = register(ape_run, path, "--dry-run", "--chunk-size", "2")

    assert run.returncode == 0, run.output
    match = re.search(
        r"would register 3 item\(s\) in 2 transaction\(s\); estimated gas (\d+)", run.output
    )
    assert match is not None, run.output
    assert int(match.group(1)) > 0
    assert nonce(w3, MERCHANT) == before
    assert all(owner_of(registry, item_id) == ZERO_ADDRESS for item_id in sku_ids("DRY", 3))


def test_register_rejects_a_malformed_file_naming_line_and_field_and_sends_nothing(
    ape_run: ApeRun, merchant: str, registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        "sku,gtin,serial,metadata,metadata_uri",
        [
            'BAD,,0001,"{""ok"":true}",https://shop.example/ok',
            ',09506000134353,S1,"{}",https://shop.example/bad-check-digit',
            'BAD,,0003,"{}",',
            "BAD,,0004,not json,https://shop.example/x",
        ],
    )
    before = nonce(w3, MERCHANT)

    run = register(ape_run, path)

    assert run.returncode == 2, run.output
    assert "line 3, field 'gtin': GTIN '09506000134353' has a wrong check digit" in run.output
    assert "line 4, field 'metadata_uri'" in run.output
    assert "line 5, field 'metadata': not valid JSON" in run.output
    assert "line 2" not in run.output
    assert nonce(w3, MERCHANT) == before
    assert owner_of(registry, item_id_from_sku(MERCHANT, "BAD", "0001")) == ZERO_ADDRESS


def test_register_refuses_an_account_that_is_not_an_active_merchant(
    ape_run: ApeRun, merchant: str, w3: Web3, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, item_rows("STRANGER", 1))
    before = nonce(w3, STRANGER)

    run = register(ape_run, path, account=STRANGER_ACCOUNT)

    assert run.returncode == 2, run.output
    assert f"RegistryMerchantNotActive(merchant={STRANGER}): merchant not active" in run.output
    assert "nothing was sent" in run.output
    assert nonce(w3, STRANGER) == before


def test_register_rejects_an_item_repeated_in_the_file_naming_both_lines(
    ape_run: ApeRun, merchant: str, w3: Web3, tmp_path: Path
) -> None:
    rows = item_rows("DUP", 2)
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [*rows, rows[0].replace(".json", "b")])
    before = nonce(w3, MERCHANT)

    run = register(ape_run, path)

    assert run.returncode == 2, run.output
    assert "line 2, line 4: the same item (sku DUP serial 0001" in run.output
    assert nonce(w3, MERCHANT) == before


def test_register_rejects_an_item_another_merchant_registered_naming_the_line(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    taken = item_id_from_gs1(GTIN, "TAKEN-1")  # the squatter's, registered before the grant
    path = write_csv(
        tmp_path / "items.csv",
        "gtin,serial,metadata,metadata_uri",
        [
            f'{GTIN},FREE-1,"{{}}",https://shop.example/free',
            f'{GTIN},TAKEN-1,"{{}}",https://shop.example/taken',
        ],
    )
    before = nonce(w3, MERCHANT)

    run = register(ape_run, path)

    assert run.returncode == 2, run.output
    assert (
        "line 3: rows 1-2: the contract refuses it: "
        f"RegistryItemAlreadyRegistered(itemId=0x{taken.hex()}): item already registered"
    ) in run.output
    assert nonce(w3, MERCHANT) == before
    assert owner_of(registry, item_id_from_gs1(GTIN, "FREE-1")) == ZERO_ADDRESS


def test_register_of_a_gtin_under_a_prefix_never_granted_is_explained_and_sends_nothing(
    ape_run: ApeRun, merchant: str, registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        "gtin,serial,metadata,metadata_uri",
        [f'{UNGRANTED_GTIN},NOPE-1,"{{}}",https://shop.example/nope'],
    )
    before = nonce(w3, MERCHANT)

    run = register(ape_run, path)

    assert run.returncode == 2, run.output
    assert "nothing was sent" in run.output
    assert (
        f"RegistryGs1PrefixNotGranted(merchant={MERCHANT}, gtin={UNGRANTED_GTIN}): gs1 prefix "
        "not granted; a verifier grants it"
    ) in run.output
    assert nonce(w3, MERCHANT) == before
    assert owner_of(registry, item_id_from_gs1(UNGRANTED_GTIN, "NOPE-1")) == ZERO_ADDRESS


def test_reassign_moves_a_squatted_id_to_its_merchant_and_revoke_frees_another(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract
) -> None:
    moved, freed = item_id_from_gs1(GTIN, "TAKEN-2"), item_id_from_gs1(GTIN, "TAKEN-1")
    assert owner_of(registry, moved) == RIVAL_MERCHANT

    to_merchant = ape_run(
        "ops", "reassign-item", "0x" + moved.hex(), "--to", MERCHANT, "--reason", "GS1 licence"
    )
    revoked = ape_run(
        "ops", "reassign-item", "0x" + freed.hex(), "--to", "0", "--reason", "squatted"
    )

    assert to_merchant.returncode == 0, to_merchant.output
    assert revoked.returncode == 0, revoked.output
    assert owner_of(registry, moved) == MERCHANT
    assert owner_of(registry, freed) == ZERO_ADDRESS
    (event,) = events_of(registry, "ItemReassigned", itemId=moved)
    assert (event.args["from"], event.args.to) == (RIVAL_MERCHANT, MERCHANT)
    assert event.args.reasonHash == keccak(b"GS1 licence")
    assert f"from={RIVAL_MERCHANT}, to={ZERO_ADDRESS}" in revoked.output


def test_register_resumes_after_a_crash_without_registering_anything_twice(
    ape_run: ApeRun,
    ape_process: ApeRun,
    merchant: str,
    registry: Contract,
    w3: Web3,
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, item_rows("CRASH", 6))
    ids = sku_ids("CRASH", 6)
    journal_path = tmp_path / "items.csv.register.journal.json"

    # Dies right after the second chunk's receipt, before the journal records it: a process.
    crashed = register(
        ape_process, path, "--chunk-size", "2", extra_env={CRASH_AFTER_CHUNKS_ENV: "2"}
    )

    assert crashed.returncode == CRASH_EXIT_CODE, crashed.output
    assert [owner_of(registry, i) for i in ids] == [MERCHANT] * 4 + [ZERO_ADDRESS] * 2
    (section,) = json.loads(journal_path.read_text())["runs"].values()
    assert [tx["status"] for tx in section["transactions"]] == ["confirmed", "sent"]
    before = nonce(w3, MERCHANT)

    resumed = register(ape_run, path, "--chunk-size", "2")

    assert resumed.returncode == 0, resumed.output
    assert "4 item(s) already registered by you: skipped" in resumed.output
    assert nonce(w3, MERCHANT) == before + 1
    assert all(len(events_of(registry, "ItemRegistered", itemId=i)) == 1 for i in ids)
    (section,) = json.loads(journal_path.read_text())["runs"].values()
    assert [tx["status"] for tx in section["transactions"]] == ["confirmed"] * 3


# ---------------------------------------------------------------------------------------- custody


def custody_logs(registry: Contract, submitter: str, item_id: bytes) -> list[Any]:
    return events_of(registry, "CustodyRecorded", submitter=submitter, itemId=item_id)


def test_custody_appends_events_with_given_and_sequential_ids_and_skips_them_on_rerun(
    registered: tuple[Path, list[bytes], Run],
    ape_run: ApeRun,
    registry: Contract,
    w3: Web3,
    tmp_path: Path,
) -> None:
    _, ids, _ = registered
    t = chain_time(w3) - 3600
    iso = datetime.fromtimestamp(t + 60, UTC).isoformat().replace("+00:00", "Z")
    path = write_csv(
        tmp_path / "custody.csv",
        CUSTODY_HEADER,
        [
            f"REG,0001,produced,{t},GLN 1,WO-1,9000",
            f"REG,0001,shipped,{iso},GLN 1,SH-1,",
            f"REG,0002,produced,{t},GLN 1,WO-1,9001",
            f"REG,0002,in_transit,{t + 120},,SH-2,",
        ],
    )

    run = ape_run("merchant", "custody", str(path), "--account", MERCHANT_ACCOUNT)

    assert run.returncode == 0, run.output
    first = custody_logs(registry, MERCHANT, ids[0])
    second = custody_logs(registry, MERCHANT, ids[1])
    assert [(e.args.eventId, CustodyAction(e.args.action)) for e in first] == [
        (9000, CustodyAction.PRODUCED),
        (first[1].args.eventId, CustodyAction.SHIPPED),
    ]
    assert first[1].args.occurredAt == t + 60
    assert first[1].args.locationHash == keccak(b"GLN 1")
    assert first[1].args.contextHash == keccak(b"SH-1")
    assert second[0].args.eventId == 9001
    assert second[1].args.locationHash == bytes(32)
    derived = [first[1].args.eventId, second[1].args.eventId]
    assert derived[0] > 9001 and derived[1] == derived[0] + 1
    assert CustodyAction(registry.functions.itemOf(ids[0]).call()[2]) is CustodyAction.SHIPPED
    before = nonce(w3, MERCHANT)

    rerun = ape_run("merchant", "custody", str(path), "--account", MERCHANT_ACCOUNT)

    assert rerun.returncode == 0, rerun.output
    assert "4 event(s) already recorded by you: skipped" in rerun.output
    assert nonce(w3, MERCHANT) == before


def test_custody_rejects_an_event_id_already_used_for_another_event(
    registered: tuple[Path, list[bytes], Run],
    ape_run: ApeRun,
    registry: Contract,
    w3: Web3,
    tmp_path: Path,
) -> None:
    _, ids, _ = registered
    t = chain_time(w3) - 600
    tx = registry.functions.recordCustody(
        [(ids[2], 7000, int(CustodyAction.PRODUCED), t, bytes(32), bytes(32))]
    ).transact({"from": MERCHANT})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    path = write_csv(tmp_path / "custody.csv", CUSTODY_HEADER, [f"REG,0003,sold,{t},,,7000"])
    before = nonce(w3, MERCHANT)

    run = ape_run("merchant", "custody", str(path), "--account", MERCHANT_ACCOUNT)

    assert run.returncode == 2, run.output
    assert (
        f"line 2: the contract refuses it: RegistryEventAlreadyRecorded(submitter={MERCHANT}, "
        "eventId=7000): event already recorded"
    ) in run.output
    assert nonce(w3, MERCHANT) == before


def test_custody_rejects_an_unregistered_item_naming_the_line(
    ape_run: ApeRun, merchant: str, w3: Web3, tmp_path: Path
) -> None:
    unknown = keccak(b"never registered")
    path = tmp_path / "custody.json"
    path.write_text(
        json.dumps(
            {
                "events": [
                    {
                        "item_id": "0x" + unknown.hex(),
                        "action": "shipped",
                        "occurred_at": chain_time(w3) - 10,
                    }
                ]
            }
        )
    )
    before = nonce(w3, MERCHANT)

    run = ape_run("merchant", "custody", str(path), "--account", MERCHANT_ACCOUNT)

    assert run.returncode == 2, run.output
    assert (
        f"index 0: the contract refuses it: RegistryItemNotRegistered(itemId=0x{unknown.hex()})"
    ) in run.output
    assert nonce(w3, MERCHANT) == before


def test_oracle_appends_custody_for_a_merchant_item(
    registered: tuple[Path, list[bytes], Run],
    ape_run: ApeRun,
    registry: Contract,
    w3: Web3,
    tmp_path: Path,
) -> None:
    _, ids, _ = registered
    path = write_csv(
        tmp_path / "custody.csv",
        CUSTODY_HEADER,
        [f"REG,0004,delivered,{chain_time(w3) - 5},GLN 9,POD-4,"],
    )

    run = ape_run(
        "merchant", "custody", str(path), "--account", ORACLE_ACCOUNT, "--merchant", MERCHANT
    )

    assert run.returncode == 0, run.output
    (log,) = custody_logs(registry, ORACLE, ids[3])
    assert CustodyAction(log.args.action) is CustodyAction.DELIVERED
    assert CustodyAction(registry.functions.itemOf(ids[3]).call()[2]) is CustodyAction.DELIVERED


# ---------------------------------------------------------------------------------------- recall


def test_recall_by_sku_makes_the_item_verdict_recalled(
    registered: tuple[Path, list[bytes], Run], ape_run: ApeRun, registry: Contract
) -> None:
    _, ids, _ = registered

    run = ape_run(
        "merchant",
        "recall",
        "--sku",
        "REG",
        "--serial",
        "0005",
        "--reason",
        "mould in glaze",
        "--account",
        MERCHANT_ACCOUNT,
    )

    assert run.returncode == 0, run.output
    (log,) = events_of(registry, "ItemRecalled", itemId=ids[4])
    assert log.args.reasonHash == keccak(b"mould in glaze")
    assert Verdict(registry.functions.verify(ids[4]).call()) is Verdict.RECALLED


def register_batch(ape_run: ApeRun, folder: Path, prefix: str) -> tuple[Path, dict[str, Any]]:
    """Registers GTIN items <prefix>-1 and <prefix>-2 as a batch (the merchant holds the GTIN's
    company prefix); returns the manifest."""
    path = write_csv(
        folder / "batch.csv",
        "gtin,serial,metadata,metadata_uri",
        [f'{GTIN},{prefix}-{n},"{{""n"":{n}}}",https://shop.example/r/{n}' for n in (1, 2)],
    )
    manifest = folder / "batch.manifest.json"
    run = register(ape_run, path, "--batch", "--manifest", str(manifest))
    assert run.returncode == 0, run.output
    return manifest, json.loads(manifest.read_text())


def batch_verdicts(registry: Contract, manifest: dict[str, Any]) -> list[Verdict]:
    root = bytes.fromhex(manifest["root"][2:])
    return [
        Verdict(
            registry.functions.verifyBatchItem(
                root,
                gs1_key(item["serial"], item["gtin"]),
                bytes.fromhex(item["metadata_hash"][2:]),
                [bytes.fromhex(node[2:]) for node in item["proof"]],
            ).call()
        )
        for item in manifest["items"]
    ]


def test_activate_gives_named_batch_items_records_then_the_rest_skipping_those_done(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    path, manifest = register_batch(ape_run, tmp_path, "ACT")
    first, second = (bytes.fromhex(item["item_id"][2:]) for item in manifest["items"])

    one = ape_run(
        "merchant", "activate", str(path), "--item", "0x" + second.hex(),
        "--account", STRANGER_ACCOUNT,
    )  # fmt: skip

    assert one.returncode == 0, one.output
    assert (owner_of(registry, first), owner_of(registry, second)) == (ZERO_ADDRESS, MERCHANT)
    sent = nonce(w3, STRANGER)

    rest = ape_run("merchant", "activate", str(path), "--account", STRANGER_ACCOUNT)

    assert rest.returncode == 0, rest.output
    assert "1 item(s) already activated: skipped" in rest.output
    assert nonce(w3, STRANGER) == sent + 1
    assert owner_of(registry, first) == MERCHANT
    (activated,) = events_of(registry, "BatchItemActivated", itemId=first)
    assert activated.args.root == bytes.fromhex(manifest["root"][2:])


def test_activate_sends_a_whole_manifest_in_chunks_of_items(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    path, manifest = register_batch(ape_run, tmp_path, "CHUNK")
    sent = nonce(w3, STRANGER)

    run = ape_run("merchant", "activate", str(path), "--account", STRANGER_ACCOUNT)

    assert run.returncode == 0, run.output
    assert "activated 2 item(s) of batch" in run.output and "in 1 transaction(s)" in run.output
    assert nonce(w3, STRANGER) == sent + 1
    for item in manifest["items"]:
        assert owner_of(registry, bytes.fromhex(item["item_id"][2:])) == MERCHANT


def test_recall_of_one_batch_item_activates_it_then_recalls_only_it(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract, tmp_path: Path
) -> None:
    path, manifest = register_batch(ape_run, tmp_path, "ONE")
    item_id = item_id_from_gs1(GTIN, "ONE-1")

    run = ape_run(
        "merchant",
        "recall",
        "--gtin",
        GTIN,
        "--serial",
        "ONE-1",
        "--manifest",
        str(path),
        "--reason",
        "cracked sole",
        "--account",
        MERCHANT_ACCOUNT,
    )

    assert run.returncode == 0, run.output
    (activated,) = events_of(registry, "BatchItemActivated", itemId=item_id)
    assert activated.args.root == bytes.fromhex(manifest["root"][2:])
    assert registry.functions.itemOf(item_id).call()[4] is True
    assert batch_verdicts(registry, manifest) == [Verdict.RECALLED, Verdict.AUTHENTIC]


def test_recall_of_a_batch_manifest_makes_every_batch_item_read_recalled(
    ape_run: ApeRun, prefix_runs: tuple[Run, Run], registry: Contract, tmp_path: Path
) -> None:
    path, manifest = register_batch(ape_run, tmp_path, "ALL")

    run = ape_run(
        "merchant",
        "recall",
        "--manifest",
        str(path),
        "--reason",
        "bad glue",
        "--account",
        MERCHANT_ACCOUNT,
    )

    assert run.returncode == 0, run.output
    assert registry.functions.batchOf(bytes.fromhex(manifest["root"][2:])).call()[3] is True
    assert batch_verdicts(registry, manifest) == [Verdict.RECALLED, Verdict.RECALLED]
    status = ape_run("merchant", "status", str(path))
    assert status.returncode == 0, status.output
    verdicts = re.findall(r"^item \d+\s+0x[0-9a-f]{64}\s+(\w+)", status.output, re.MULTILINE)
    assert verdicts == ["recalled", "recalled"]
    # The item file itself: GS1 keys name no merchant, so no --account is needed to read them.
    by_key = ape_run("merchant", "status", str(tmp_path / "batch.csv"))
    assert by_key.returncode == 0, by_key.output
    shown = re.findall(r"^line \d+\s+(0x[0-9a-f]{64})\s+(\w+)", by_key.output, re.M)
    ids = [item["item_id"] for item in manifest["items"]]
    assert shown == [
        (i, Verdict(registry.functions.verify(bytes.fromhex(i[2:])).call()).name.lower())
        for i in ids
    ]
    skus = write_csv(tmp_path / "skus.csv", "sku,serial,metadata,metadata_uri", item_rows("S", 1))
    whose = ape_run("merchant", "status", str(skus))
    assert whose.returncode == 2 and "give --merchant or --account" in whose.output, whose.output


def test_a_buyer_orders_a_batch_item_from_its_manifest_and_the_batch_recall_refunds_the_order(
    ape_run: ApeRun,
    prefix_runs: tuple[Run, Run],
    registry: Contract,
    script_dirs: dict[str, Path],
    w3: Web3,
    tmp_path: Path,
) -> None:
    escrow = contract(w3, script_dirs, "OrderEscrow")
    path, manifest = register_batch(ape_run, tmp_path, "BUY")
    item = manifest["items"][0]["item_id"]
    order_file = tmp_path / "order.json"

    opened = ape_run(
        "buyer", "open", "--merchant", MERCHANT, "--price", "0.01", "--item-id", item,
        "--manifest", str(path), "--order-file", str(order_file), "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert opened.returncode == 0, opened.output
    assert f"activated batch item {item}" in opened.output
    assert owner_of(registry, bytes.fromhex(item[2:])) == MERCHANT
    (held,) = events_of(registry, "ItemHeld", itemId=item)
    credit = escrow.functions.creditOf(BUYER, ZERO_ADDRESS).call()

    recall = ape_run("merchant", "recall", "--manifest", str(path), "--reason", "lead paint",
                     "--account", MERCHANT_ACCOUNT)  # fmt: skip
    refund = ape_run("buyer", "refund-recalled", "--order-file", str(order_file),
                     "--account", STRANGER_ACCOUNT)  # fmt: skip

    assert recall.returncode == 0, recall.output
    assert refund.returncode == 0, refund.output
    assert escrow.functions.creditOf(BUYER, ZERO_ADDRESS).call() == credit + 10**16
    assert "payerAmount=0.01 ETH)" in refund.output, refund.output
    assert held.args.orderId == bytes.fromhex(json.loads(order_file.read_text())["order_id"][2:])
