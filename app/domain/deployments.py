"""The deployment record, ``deployments/<chain-id>.json``, written by ``ape run deploy`` only.

Schema (version 1; keys sorted, two-space indent, trailing newline)::

    {
      "schema_version": 1,
      "chain_id": 1337,
      "network": "ethereum:local:foundry",       # Ape network choice used for the last change
      "deployer": "0x...",                       # account that made the last change
      "timestamp": "2025-01-01T00:00:00Z",       # UTC time of the last change
      "contracts": {
        "ProductRegistry": {
          "address": "0x...",
          "tx_hash": "0x...",                    # the deploy transaction
          "block_number": 1,
          "deployed_at": "2025-01-01T00:00:00Z", # that block's time
          "deployer": "0x...",
          "constructor_args": ["0x..."],
          "compiler": {"name": "solidity", "version": "0.8.37+commit.f401782d",
                       "settings": {"evmVersion": "cancun", "optimizer": {...}}},
          "bytecode_hash": "0x...",              # keccak256 of the compiled creation code
          "code_hash": "0x...",                  # keccak256 of the runtime code at address
          "roles": {"DEFAULT_ADMIN_ROLE": ["0x..."], "VERIFIER_ROLE": [...], "ORACLE_ROLE": [...]},
          "settings": {}                         # admin settings as the chain holds them
        },
        "OrderEscrow": {
          ...                                    # as above, and
          "constructor_args": ["0x<admin>", "0x<ProductRegistry>", "0x<fee recipient>"],
          "roles": {"DEFAULT_ADMIN_ROLE": [...], "ARBITER_ROLE": [...], "ORACLE_ROLE": [...]},
          "settings": {"feeBps": 100, "feeRecipient": "0x...",
                       "disputeWindowBounds": [86400, 2592000],   # seconds: min, max
                       "arbitrationPeriod": 1209600,              # seconds
                       "allowedTokens": ["0x..."]}                # ERC-20 allow-list
        }
      }
    }

``settings`` was added within schema version 1: records written before it read as ``{}``.

The directory is ``--deployments-dir``, else ``$TRUSTMALL_DEPLOYMENTS_DIR``, else ``deployments/``
at the project root. Pure Python (no Ape): scripts write it, and the service and the demo read it.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS_DIR_ENV = "TRUSTMALL_DEPLOYMENTS_DIR"
SCHEMA_VERSION = 1


class CompilerInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    settings: dict[str, Any]


class ContractDeployment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    tx_hash: str
    block_number: int
    deployed_at: str
    deployer: str
    constructor_args: list[Any]
    compiler: CompilerInfo
    bytecode_hash: str
    code_hash: str
    roles: dict[str, list[str]]
    settings: dict[str, Any] = Field(default_factory=dict)


class DeploymentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    chain_id: int
    network: str
    deployer: str
    timestamp: str
    contracts: dict[str, ContractDeployment]


def deployments_dir(explicit: Path | None = None) -> Path:
    """Where deployment records live: the option, else the environment, else ``deployments/``."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(DEPLOYMENTS_DIR_ENV):
        return Path(env)
    return ROOT / "deployments"


def record_path(directory: Path, chain_id: int) -> Path:
    return directory / f"{chain_id}.json"


def load_record(directory: Path, chain_id: int) -> DeploymentRecord | None:
    """The record for a chain, or None when there is none."""
    path = record_path(directory, chain_id)
    if not path.is_file():
        return None
    return DeploymentRecord.model_validate_json(path.read_text(encoding="utf-8"))


def save_record(directory: Path, record: DeploymentRecord) -> Path:
    path = record_path(directory, record.chain_id)
    write_json(path, record.model_dump(mode="json"))
    return path


def contract_address(directory: Path, chain_id: int, name: str) -> str | None:
    """The recorded address of a contract on a chain, if any."""
    record = load_record(directory, chain_id)
    if record is None or name not in record.contracts:
        return None
    return record.contracts[name].address


def utc_now() -> str:
    return utc_text(datetime.now(UTC))


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def json_text(data: Any) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(path: Path, data: Any) -> None:
    """Writes JSON atomically (temporary file, then rename), deterministic formatting."""
    write_text(path, json_text(data))


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
