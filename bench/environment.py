"""Where and with what a benchmark ran: the machine and every tool's version, read, not typed."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


SPEED_LOOP = 2_000_000
SPEED_TEXT = f"{SPEED_LOOP:,} additions in a Python loop, best of 3"


def machine(speed: str | None = None) -> dict[str, str]:
    """The machine's description; ``speed`` as measured by the caller, or measured now."""
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "cpu": model,
        "cores": str(os.cpu_count() or 0),
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB" if mem_kib else "unknown",
        "os": f"{_os_name()}; {platform.system()} {platform.release()} {platform.machine()}",
        "speed": speed or f"{SPEED_TEXT}: {python_speed()}",
    }


def python_speed() -> str:
    """A fixed pure-Python loop's time, best of three. The machine's speed varies from day to day
    (a VM's share of its host), so the rows of two runs compare only beside this figure."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(SPEED_LOOP):
            total += number
        best = min(best, time.perf_counter() - started)
    return f"{best * 1000:.0f} ms"


def versions(project: Any) -> dict[str, str]:
    """Tool versions; solc and its settings are those that compiled ProductRegistry."""
    found = {
        "python": platform.python_version(),
        "eth-ape": version("eth-ape"),
        "ape-solidity": version("ape-solidity"),
        "web3": version("web3"),
        "anvil": first_line([str(Path(sys.prefix) / "bin" / "anvil"), "--version"]).removeprefix(
            "anvil Version: "
        ),
        "node": first_line(["node", "--version"]),
        "@openzeppelin/contracts": _npm_version("@openzeppelin/contracts"),
    }
    for compiler in project.manifest.compilers or []:
        if "ProductRegistry" in (compiler.contractTypes or []):
            settings = compiler.settings or {}
            optimizer = settings.get("optimizer", {})
            found["solc"] = compiler.version
            found["solc settings"] = f"evm {settings.get('evmVersion', 'default')}, optimizer " + (
                f"{optimizer.get('runs')} runs" if optimizer.get("enabled") else "off"
            )
    return dict(sorted(found.items()))


def _npm_version(package: str) -> str:
    manifest = ROOT / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else "missing"


def first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        return f"unavailable ({error})"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def _os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return platform.system()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
