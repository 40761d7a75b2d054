"""The committed ABIs, ``abi/<Contract>.json`` (sorted keys, two-space indent, trailing newline),
one per deployable contract: written by ``ape run deploy``, or without a chain by ``python -m
scripts._lib.abi``, which with ``--check`` lists stale files (exit 1): docs/scripts.md#output."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.domain.deployments import ROOT, json_text, write_text
from scripts._lib.suite import DEPLOYABLE


def abi_dir(explicit: Path | None = None) -> Path:
    return explicit or Path(os.environ.get("TRUSTMALL_ABI_DIR") or ROOT / "abi")


def abi_list(contract_type: Any) -> list[dict[str, Any]]:
    """A contract type's ABI as plain JSON data, in compiler order."""
    return [entry.model_dump(mode="json", by_alias=True) for entry in contract_type.abi]


def compiled_abis(names: tuple[str, ...] = DEPLOYABLE) -> dict[str, str]:
    """File name -> text for every deployable contract, from the project's compiled types."""
    from ape import project

    return {f"{n}.json": json_text(abi_list(project.get_contract(n).contract_type)) for n in names}


def stale_files(directory: Path, expected: dict[str, str]) -> list[str]:
    """Names of ABI files that are missing, differ, or belong to no deployable contract."""
    found = {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.json") if p.is_file()}
    return sorted(name for name in {*expected, *found} if expected.get(name) != found.get(name))


def write_abis(directory: Path, expected: dict[str, str]) -> list[str]:
    """Brings ``directory`` up to date; returns the names of the files written or removed."""
    for name in (changed := stale_files(directory, expected)):
        if name in expected:
            write_text(directory / name, expected[name])
        else:
            (directory / name).unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate or check abi/ from the contracts.")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--abi-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    directory, expected = abi_dir(args.abi_dir), compiled_abis()
    names = stale_files(directory, expected) if args.check else write_abis(directory, expected)
    for name in names:  # stale files are the error of a check
        out = sys.stderr if args.check else sys.stdout
        print(f"{'stale' if args.check else 'updated'}: {directory / name}", file=out)
    return 1 if args.check and names else 0


if __name__ == "__main__":
    sys.exit(main())
