"""The suite as the relay benchmark, the fault-injection campaign and the load campaign set it up:
deployed by ``ape run deploy`` into a directory of its own, ``ITEMS`` items registered by one
merchant, and the service run as ``make api`` runs it for one carrier, the oracle being
``ORACLE``. Kept here, not in one of them, so that none of the three imports another for it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from app.chain.contracts import connect, load_abi
from app.domain.ids import item_id_of_key, item_key
from app.domain.vocab import IdScheme
from harness.ape_run import TEST_PRIVATE_KEYS, run_ape
from harness.nodes import free_port, subprocess_env
from harness.service import FACTORY, ServiceProcess, service_environment

ITEMS = 1_000
CONFIRMATION_DEPTH = 2

ADMIN = Account.from_key(TEST_PRIVATE_KEYS[0])
ORACLE = Account.from_key(TEST_PRIVATE_KEYS[1])
MERCHANT = Account.from_key(TEST_PRIVATE_KEYS[2])
CARRIER = "bench-carrier"


def deploy(rpc_url: str, base: Path, oracle: str = ORACLE.address) -> dict[str, str]:
    """The suite deployed by `ape run deploy` into ``base`` (``deployments/``, ``abi/``) with
    ``oracle`` as its oracle; the contracts' addresses by name."""
    env = subprocess_env(
        APE_FOUNDRY_HOST=rpc_url,
        TRUSTMALL_DEPLOYMENTS_DIR=str(base / "deployments"),
        TRUSTMALL_ABI_DIR=str(base / "abi"),
        NO_COLOR="1",
    )
    result = run_ape(env, "deploy", "--redeploy", "--oracle", oracle)
    if result.returncode != 0:
        raise RuntimeError(f"ape run deploy failed:\n{result.output}")
    record = json.loads((base / "deployments" / "1337.json").read_text())
    return {name: entry["address"] for name, entry in record["contracts"].items()}


def deploy_with_items(rpc_url: str, base: Path) -> tuple[Web3, Contract, list[str]]:
    """`deploy`, then `register_items`: a connection to the node, the registry, the items."""
    addresses = deploy(rpc_url, base)
    w3 = connect(rpc_url, timeout=60)
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(addresses["ProductRegistry"]),
        abi=load_abi(base / "abi", "ProductRegistry"),
    )
    return w3, registry, register_items(w3, registry)


def _send(w3: Web3, account: LocalAccount, function: Any) -> None:
    tx = function.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)
    if receipt["status"] != 1:
        raise RuntimeError(f"set-up transaction {tx_hash.hex()} failed")


def register_items(w3: Web3, registry: Contract) -> list[str]:
    """``MERCHANT`` approved and ``ITEMS`` items registered by it (SKU "bench-relay", serials
    0..ITEMS-1); their ids (0x-hex)."""
    _send(w3, ADMIN, registry.functions.approveMerchant(MERCHANT.address, "Bench Co", b"\x01" * 32))
    keys = [item_key(IdScheme.SKU, "bench-relay", str(i)) for i in range(ITEMS)]
    for start in range(0, ITEMS, 250):
        chunk = [(key, b"\x02" * 32, "") for key in keys[start : start + 250]]
        _send(w3, MERCHANT, registry.functions.registerItems(chunk))
    ids = [
        item_id_of_key(MERCHANT.address, IdScheme.SKU, "bench-relay", str(i)) for i in range(ITEMS)
    ]
    return ["0x" + item.hex() for item in ids]


class CarrierService(ServiceProcess):
    """The service as `make api` runs it (not started yet), against the suite deployed in
    ``base``, on a SQLite file of its own in ``workdir``, the oracle being ``ORACLE``, with the
    fresh credentials of one carrier; ``settings`` are further service settings by name."""

    def __init__(
        self,
        rpc_url: str,
        base: Path,
        workdir: Path,
        *,
        factory: str = FACTORY,
        carrier: str = CARRIER,
        requests_per_minute: int = 6_000,
        database_url: str | None = None,
        **settings: str | int | float,
    ) -> None:
        self.api_key = secrets.token_urlsafe(24)
        self.secret = secrets.token_urlsafe(32)
        # A SQLite file of its own unless a database URL (PostgreSQL) is given.
        self.database: Path | str = database_url or workdir / "service.db"
        source = {
            "kind": "carrier",
            "api_key": self.api_key,
            "hmac_secret": self.secret,
            "requests_per_minute": requests_per_minute,
            "carrier_id": 1,
            # The carrier moves the bench merchant's goods (app.ingest.custody_scope).
            "merchants": [MERCHANT.address],
        }
        settings.setdefault("confirmation_depth", CONFIRMATION_DEPTH)
        env = service_environment(
            rpc_url=rpc_url,
            deployments_dir=base / "deployments",
            abi_dir=base / "abi",
            database=self.database,
            oracle_key=ORACLE.key.hex(),
            sources={carrier: source},
            **settings,
        )
        super().__init__(env, free_port(), workdir / "service.log", factory)

    def outbox(self) -> dict[str, int]:
        """Records by status, read from the service's database."""
        rows = self.query("SELECT status, count(*) FROM outbox_records GROUP BY status")
        return {str(status): int(count) for status, count in rows}

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of a query (``?`` placeholders) on the service's database."""
        return database_rows(self.database, sql, parameters)


def database_rows(database: Path | str, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    """Rows of a query (``?`` placeholders) on a service's database, read through the driver
    itself (no engine, no pool: a harness reads while the service writes): a SQLite file
    (``Path`` or ``sqlite:///`` URL), opened read-only, or a PostgreSQL URL."""
    if isinstance(database, Path) or database.startswith("sqlite:///"):
        path = database if isinstance(database, Path) else database.removeprefix("sqlite:///")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        dbname=url.database, autocommit=True,
    ) as pg:  # fmt: skip
        return pg.execute(sql.replace("?", "%s").encode(), parameters).fetchall()


def wait_outbox_confirmed(database: Path | str, count: int, timeout: float) -> float:
    """Seconds until the service's outbox at ``database`` (a SQLite file or a database URL)
    holds ``count`` records confirmed; fails on a record failed, or after ``timeout`` seconds."""
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        rows = dict(
            database_rows(database, "SELECT status, count(*) FROM outbox_records GROUP BY status")
        )
        if rows.get("failed"):
            raise RuntimeError(f"records failed on their way to the chain: {rows}")
        if rows.get("confirmed", 0) == count:
            return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError(f"not every record was confirmed within {timeout:.0f} s")


@contextmanager
def block_ticker(w3: Web3, seconds: float = 1.0) -> Iterator[None]:
    """An empty block every second besides the automatic ones, as a live chain keeps making
    blocks: the last batches reach their confirmation depth. (Anvil's own --mixed-mining does
    this too, but `ape run deploy` cannot deploy on it.)"""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(seconds):
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    thread = threading.Thread(target=tick, name="block-ticker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
