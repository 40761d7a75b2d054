"""The committed ABIs in ``abi/<Contract>.json``: one per deployable contract, regenerated from
the compiled contract types (deterministic: sorted keys, two-space indent, trailing newline).

``ape run deploy`` rewrites them; without a chain::

    python -m scripts._lib.abi            # rewrite abi/ from the compiled contracts
    python -m scripts._lib.abi --check    # exit 1 and list the stale files

The directory is ``--abi-dir``, else ``$TRUSTMALL_ABI_DIR``, else ``abi/`` at the project root.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.domain.deployments import ROOT, json_text, write_text
from scripts._lib.suite import DEPLOYABLE

ABI_DIR_ENV = "TRUSTMALL_ABI_DIR"


def abi_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    if env := os.environ.get(ABI_DIR_ENV):
        return Path(env)
    return ROOT / "abi"


def abi_list(contract_type: Any) -> list[dict[str, Any]]:
    """A contract type's ABI as plain JSON data, in compiler order."""
    return [entry.model_dump(mode="json", by_alias=True) for entry in contract_type.abi]


def render_abi(contract_type: Any) -> str:
    """The exact text of ``abi/<Contract>.json`` for a compiled contract type."""
    return json_text(abi_list(contract_type))


def compiled_abis(names: tuple[str, ...] = DEPLOYABLE) -> dict[str, str]:
    """File name -> text for every deployable contract, from the project's compiled types."""
    from ape import project

    return {f"{name}.json": render_abi(project.get_contract(name).contract_type) for name in names}


def stale_files(directory: Path, expected: dict[str, str]) -> list[str]:
    """Names of ABI files that are missing, differ, or belong to no deployable contract."""
    stale = [
        name
        for name, text in sorted(expected.items())
        if not (directory / name).is_file()
        or (directory / name).read_text(encoding="utf-8") != text
    ]
    if directory.is_dir():
        stale += sorted(p.name for p in directory.glob("*.json") if p.name not in expected)
    return stale


def write_abis(directory: Path, expected: dict[str, str]) -> list[str]:
    """Brings ``directory`` up to date; returns the names of the files written or removed."""
    changed = stale_files(directory, expected)
    for name in changed:
        target = directory / name
        if name in expected:
            write_text(target, expected[name])
        else:
            target.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate or check abi/ from compiled contracts."
    )
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--abi-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    directory = abi_dir(args.abi_dir)
    expected = compiled_abis()
    if args.check:
        stale = stale_files(directory, expected)
        for name in stale:
            print(f"stale: {directory / name}", file=sys.stderr)
        return 1 if stale else 0
    for name in write_abis(directory, expected):
        print(f"updated {directory / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
