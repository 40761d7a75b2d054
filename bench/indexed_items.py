"""``bench.verify``'s index: a few dozen items registered on chain and indexed by the service's
own indexer, and the bulk (100,000 items named by GTIN and serial, two custody events each)
inserted straight into the index's tables, as the indexer writes them, because registering them
all on chain would take the whole time budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from eth_utils.crypto import keccak
from sqlalchemy import insert

from app.domain.ids import gs1_digital_link_path, item_id_from_gs1, item_id_of_key, item_key
from app.domain.vocab import IdScheme
from bench.context import BenchContext

INDEXED_ITEMS = 100_000
REAL_ITEMS = 24
SKU = "TM-BENCH-JACKET"
# The bulk items are named by GTIN and serial, so their labels' GS1 Digital Links resolve.
GTIN = "09506000134352"
CUSTODY_PER_ITEM = 2


def deploy(ctx: BenchContext, base: Path) -> tuple[Path, Path]:
    from ape import networks

    from scripts._lib.abi import compiled_abis, write_abis
    from scripts._lib.deployer import deploy_suite

    deployments, abi = base / "deployments", base / "abi"
    deploy_suite(
        ctx.admin,
        verifier=str(ctx.verifier.address),
        oracle=str(ctx.oracle.address),
        network_choice=str(networks.provider.network_choice),
        directory=deployments,
        redeploy=True,
        echo=lambda *_args, **_kwargs: None,
    )
    write_abis(abi, compiled_abis())
    return deployments, abi


class IndexedItems(NamedTuple):
    """The items of the index: a few registered on chain, the bulk inserted into its tables."""

    real: list[bytes]
    synthetic: list[bytes]

    def paths(self, items: list[bytes] | None = None) -> list[str]:
        """``GET /v1/items/{id}`` paths of ``items`` (by default all of them)."""
        chosen = [*self.synthetic, *self.real] if items is None else items
        return [f"/v1/items/0x{item.hex()}" for item in chosen]

    def page_paths(self) -> list[str]:
        """The bulk items' pages."""
        return [f"/verify/0x{item.hex()}" for item in self.synthetic]

    def link_paths(self) -> list[str]:
        """The bulk items' GS1 Digital Links."""
        return [gs1_digital_link_path(GTIN, _serial(i)) for i in range(len(self.synthetic))]


def build_index(
    rpc_url: str, deployments: Path, abi: Path, database: Path, *, verifier: str, merchant: str
) -> IndexedItems:
    """This benchmark's index in a fresh SQLite file: ``REAL_ITEMS`` items registered on chain
    by ``merchant`` (approved by ``verifier``; both unlocked accounts of the node) and indexed by
    the service's indexer, and ``INDEXED_ITEMS`` more inserted straight into its tables."""
    real = _register_real_items(rpc_url, deployments, abi, verifier=verifier, merchant=merchant)
    return index_into(rpc_url, deployments, abi, f"sqlite:///{database}", real)


def index_into(
    rpc_url: str, deployments: Path, abi: Path, database_url: str, real: list[bytes]
) -> IndexedItems:
    """The same index in another database (``real``: the items ``build_index`` registered)."""
    _index_real_items(rpc_url, deployments, abi, database_url)
    return IndexedItems(real, _insert_synthetic_items(database_url))


def _register_real_items(
    rpc_url: str, deployments: Path, abi: Path, *, verifier: str, merchant: str
) -> list[bytes]:
    """Items on chain, each with a production and a shipping custody event."""
    from app.chain.contracts import connect, load_suite

    suite = load_suite(connect(rpc_url), deployments, abi)
    registry, w3 = suite.registry, suite.web3

    def send(call: Any, sender: str) -> None:
        receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
        if receipt["status"] != 1:
            raise RuntimeError("a benchmark set-up transaction reverted")

    send(
        registry.functions.approveMerchant(merchant, "Bench Outfitters", keccak(text="id")),
        verifier,
    )
    serials = [f"R{i:04d}" for i in range(REAL_ITEMS)]
    inputs = [
        (item_key(IdScheme.SKU, SKU, serial), keccak(text=f"metadata {i}"), f"ipfs://bafybench{i}")
        for i, serial in enumerate(serials)
    ]
    send(registry.functions.registerItems(inputs), merchant)
    items = [item_id_of_key(merchant, IdScheme.SKU, SKU, serial) for serial in serials]
    now = int(w3.eth.get_block("latest")["timestamp"])
    events = [
        (item, n * REAL_ITEMS + i + 1, action, now, keccak(text="GLN"), keccak(text="lot 7"))
        for n, action in enumerate((1, 2))  # Produced, Shipped
        for i, item in enumerate(items)
    ]
    send(registry.functions.recordCustody(events), merchant)
    return items


def _index_real_items(rpc_url: str, deployments: Path, abi: Path, database_url: str) -> None:
    import app.index.models
    import app.shop.models  # noqa: F401
    from app.db.migrate import upgrade_schema
    from app.db.session import Database
    from app.index.chain import ChainAccess
    from app.index.indexer import Indexer
    from app.settings import Settings

    # ``_env_file`` is pydantic-settings' init-only argument: no .env file leaks into the run.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        rpc_url=rpc_url,
        deployments_dir=deployments,
        abi_dir=abi,
        database_url=database_url,
        confirmation_depth=0,
    )
    database = Database(database_url)
    upgrade_schema(database.engine)
    Indexer(database, ChainAccess(settings), confirmation_depth=0).run_once()
    database.dispose()


def _insert_synthetic_items(database_url: str) -> list[bytes]:
    """The bulk of the index, written as the indexer writes rows: for the real merchant, at the
    real registration's block (so the service's own reorg check finds nothing to undo)."""
    from sqlalchemy import select

    from app.db.session import Database
    from app.index.models import CustodyRow, ItemRow
    from app.stats.counters import recount

    database = Database(database_url)
    with database.transaction() as session:
        template = session.scalars(select(ItemRow).limit(1)).one()
        merchant, block, block_time = template.merchant, template.block_number, template.block_time
    where = {"block_number": block, "block_time": block_time}
    items = [item_id_from_gs1(GTIN, _serial(i)) for i in range(INDEXED_ITEMS)]
    with database.engine.begin() as connection:
        for start in range(0, INDEXED_ITEMS, 10_000):
            chunk = items[start : start + 10_000]
            connection.execute(
                insert(ItemRow),
                [
                    {
                        "item_id": "0x" + item.hex(),
                        "merchant": merchant,
                        "metadata_hash": "0x" + keccak(item).hex(),
                        "metadata_uri": f"ipfs://bafybulk{start + n}",
                        "batch_root": None,
                        "log_index": n,
                        "tx_hash": "0x" + keccak(text=f"tx {start + n}").hex(),
                        **where,
                    }
                    for n, item in enumerate(chunk)
                ],
            )
            connection.execute(
                insert(CustodyRow),
                [
                    {
                        "item_id": "0x" + item.hex(),
                        "submitter": merchant,
                        "event_id": str((start + n) * CUSTODY_PER_ITEM + step),
                        "action": step + 1,
                        "occurred_at": block_time,
                        "location_hash": "0x" + keccak(text="GLN").hex(),
                        "context_hash": "0x" + keccak(text="lot 7").hex(),
                        "log_index": n,
                        "tx_hash": "0x" + keccak(text=f"custody {start + n}").hex(),
                        **where,
                    }
                    for n, item in enumerate(chunk)
                    for step in range(CUSTODY_PER_ITEM)
                ],
            )
    with database.transaction() as session:
        recount(session)  # the dashboard's counters, as an indexer keeping them would have them
    database.dispose()
    return items


def _serial(number: int) -> str:
    return f"B{number:06d}"
