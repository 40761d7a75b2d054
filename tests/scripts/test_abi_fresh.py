"""abi/ is committed: it must match what the contracts compile to today."""

from __future__ import annotations

import json

import pytest
from ape import project

from app.domain.deployments import ROOT
from scripts._lib.abi import abi_dir, compiled_abis, stale_files
from scripts._lib.suite import DEPLOYABLE

COMMITTED = ROOT / "abi"
FIX = "regenerate with `python -m scripts._lib.abi` (or `ape run deploy`) and commit abi/"


def test_committed_abis_equal_the_compiled_contract_abis() -> None:
    for name in DEPLOYABLE:
        compiled = [
            entry.model_dump(mode="json", by_alias=True)
            for entry in project.get_contract(name).contract_type.abi
        ]
        committed = json.loads((COMMITTED / f"{name}.json").read_text(encoding="utf-8"))
        assert committed == compiled, f"abi/{name}.json is stale: {FIX}"


def test_committed_abi_files_are_byte_identical_to_generated_ones() -> None:
    assert stale_files(COMMITTED, compiled_abis()) == [], FIX


def test_abi_dir_defaults_to_the_committed_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTMALL_ABI_DIR", raising=False)
    assert abi_dir() == COMMITTED
