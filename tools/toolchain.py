"""Installs the project's toolchain into its virtual environment, from what npm brought in.

* ``solc``: py-solc-x looks for compilers named ``solc-v<version>`` in ``$SOLCX_BINARY_PATH``
  (default ``~/.solcx``). Where the native binary cannot be downloaded, we put there a small
  launcher for ``tools/solc-adapter.cjs``, which serves the npm ``solc`` package of exactly the
  pinned version. A ``.pth`` file points ``SOLCX_BINARY_PATH`` at the venv's own folder for every
  interpreter of this venv, so plain ``ape compile`` finds it and nothing outside the clone moves.
* ``anvil`` and ``forge``: the platform binaries of ``@foundry-rs/anvil`` and ``@foundry-rs/forge``,
  linked into the venv's ``bin/`` so that ape-foundry and the invariant campaigns find them on PATH
  (a node wrapper would outlive a killed Anvil).

Run by ``make setup``; idempotent. ``check`` exits non-zero if anything is missing or stale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
ADAPTER = ROOT / "tools" / "solc-adapter.cjs"
SOLCX_DIR = VENV / "solcx"
PTH_FILE = "trustmall_solcx.pth"


class ToolchainError(RuntimeError):
    """The toolchain cannot be installed as asked."""


def pinned_solc_version() -> str:
    """The solc version pinned in package.json (the one npm installed)."""
    package = json.loads((ROOT / "package.json").read_text())
    return str(package["dependencies"]["solc"])


def installed_solcjs_version() -> str:
    """The version of the solc package actually in node_modules."""
    package_json = ROOT / "node_modules" / "solc" / "package.json"
    if not package_json.exists():
        raise ToolchainError("node_modules/solc is missing: run `npm ci` (make setup does)")
    return str(json.loads(package_json.read_text())["version"])


def solc_launcher_text() -> str:
    node = os.environ.get("NODE", "node")
    return f'#!/bin/sh\nexec {node} "{ADAPTER}" "$@"\n'


def site_packages() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"])


def install_solc_adapter() -> Path:
    """Writes ``solc-v<pinned>`` into the venv's solcx folder and the .pth that points at it."""
    version = pinned_solc_version()
    found = installed_solcjs_version()
    if found != version:
        raise ToolchainError(f"package.json pins solc {version} but node_modules has {found}")
    SOLCX_DIR.mkdir(parents=True, exist_ok=True)
    launcher = SOLCX_DIR / f"solc-v{version}"
    _write_if_changed(launcher, solc_launcher_text())
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    for stale in SOLCX_DIR.glob("solc-v*"):
        if stale != launcher:
            stale.unlink()
    _write_if_changed(site_packages() / PTH_FILE, pth_text())
    return launcher


def pth_text() -> str:
    """Start-up lines for every interpreter of the venv (a ``.pth`` runs lines that import).

    The second line matters only for a clone inside the temporary directory (CI's, say): Ape takes
    such a project for one it already isolated, compiles it in place and unpacks dependencies into
    ``contracts/.cache``, where its 500-file scan of ``contracts/`` then misses our own sources.
    Pointing TMPDIR at a folder outside both the clone (Ape copies the project into its temporary
    folder) and the temporary directory makes Ape isolate it as usual. The folder's path has no
    dot-named part: Ape skips sources under such paths (it takes them for its own caches).
    """
    private_tmp = Path("/var/tmp") / f"trustmall-{os.getuid()}"
    return (
        f"import os; os.environ.setdefault('SOLCX_BINARY_PATH', {str(SOLCX_DIR)!r})\n"
        "import os, tempfile; "
        f"{str(ROOT)!r}.startswith(os.path.realpath(tempfile.gettempdir()) + os.sep) "
        f"and (os.makedirs({str(private_tmp)!r}, exist_ok=True), "
        f"os.environ.__setitem__('TMPDIR', {str(private_tmp)!r}), "
        "setattr(tempfile, 'tempdir', None))\n"
    )


FOUNDRY_TOOLS = ("anvil", "forge")


def foundry_binary(tool: str) -> Path:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform)
    if arch is None or system is None:
        raise ToolchainError(f"no {tool} package for {sys.platform}/{machine}")
    binary = ROOT / "node_modules" / "@foundry-rs" / f"{tool}-{system}-{arch}" / "bin" / tool
    if not binary.exists():
        raise ToolchainError(f"{binary} is missing: run `npm ci` (make setup does)")
    return binary


def install_foundry_tool(tool: str) -> Path:
    link = VENV / "bin" / tool
    target = foundry_binary(tool)
    if link.is_symlink() or link.exists():
        if link.resolve() == target.resolve():
            return link
        link.unlink()
    link.symlink_to(target)
    return link


def check() -> list[str]:
    """Returns what is missing or stale; empty when the toolchain is whole."""
    problems: list[str] = []
    version = pinned_solc_version()
    launcher = SOLCX_DIR / f"solc-v{version}"
    if not launcher.exists() or launcher.read_text() != solc_launcher_text():
        problems.append(f"solc launcher {launcher} missing or stale")
    else:
        out = subprocess.run([str(launcher), "--version"], capture_output=True, text=True)
        if f"Version: {version}+" not in out.stdout:
            problems.append(f"solc launcher answers {out.stdout!r}, expected {version}")
    if os.environ.get("SOLCX_BINARY_PATH") != str(SOLCX_DIR):
        problems.append("SOLCX_BINARY_PATH is not the venv's solcx folder (.pth missing?)")
    pth = site_packages() / PTH_FILE
    if not pth.exists() or pth.read_text() != pth_text():
        problems.append(f"{pth} missing or stale")
    if str(ROOT).startswith(os.path.realpath(tempfile.gettempdir()) + os.sep):
        problems.append(f"the temporary directory {tempfile.gettempdir()} holds the project")
    for tool in FOUNDRY_TOOLS:
        if not (VENV / "bin" / tool).exists():
            problems.append(f"{VENV / 'bin' / tool} missing")
    return problems


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "check"])
    args = parser.parse_args()
    if Path(sys.base_prefix) == VENV:
        sys.stderr.write("toolchain: run me with the project's venv python\n")
        return 2
    try:
        if args.command == "install":
            # Left by an Ape that compiled this clone in place (see pth_text); Ape remakes it.
            shutil.rmtree(ROOT / "contracts" / ".cache", ignore_errors=True)
            install_solc_adapter()
            for tool in FOUNDRY_TOOLS:
                install_foundry_tool(tool)
            return 0
        problems = check()
    except ToolchainError as error:
        sys.stderr.write(f"toolchain: {error}\n")
        return 1
    for problem in problems:
        sys.stderr.write(f"toolchain: {problem}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
