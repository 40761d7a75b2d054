"""Helpers for the toolchain tests: run the solc adapter and read the pins."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "tools" / "solc-adapter.cjs"
SPDX = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n"


def run_adapter(
    *arguments: str | Path, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`node tools/solc-adapter.cjs ARGS`, its stdout read through a pipe."""
    return subprocess.run(
        ["node", str(ADAPTER), *map(str, arguments)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
    )


def standard_input(
    sources: dict[str, dict[str, Any]], selection: Sequence[str] = ("abi", "evm.bytecode.object")
) -> str:
    """A standard-JSON compiler input over `sources` asking for `selection` of every contract."""
    return json.dumps(
        {
            "language": "Solidity",
            "sources": sources,
            "settings": {"outputSelection": {"*": {"*": list(selection)}}},
        }
    )


def compiled(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The adapter's standard-JSON output, after checking it ran and reported no error."""
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    assert errors == [], errors
    return output


def error_messages(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [e["formattedMessage"] for e in json.loads(result.stdout).get("errors", [])]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """A base directory with `src/Main.sol` importing `mylib/Lib.sol`, found in `lib/`."""
    (tmp_path / "base" / "src").mkdir(parents=True)
    (tmp_path / "lib" / "mylib").mkdir(parents=True)
    (tmp_path / "base" / "src" / "Main.sol").write_text(
        SPDX + 'import {Lib} from "mylib/Lib.sol";\n'
        "contract Main {\n"
        "    function one() external pure returns (uint256) { return Lib.one(); }\n"
        "}\n"
    )
    (tmp_path / "lib" / "mylib" / "Lib.sol").write_text(
        SPDX + "library Lib {\n"
        "    function one() internal pure returns (uint256) { return 1; }\n"
        "}\n"
    )
    return tmp_path
