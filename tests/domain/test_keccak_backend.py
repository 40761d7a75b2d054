"""The keccak backend every process of ours hashes with: safe-pysha3's, chosen by `app`."""

from __future__ import annotations

import subprocess
import sys

from eth_hash.auto import keccak

EMPTY_KECCAK = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
PYSHA3 = "eth_hash.backends.pysha3"


def test_the_test_process_hashes_with_pysha3_after_ape_has_made_its_accounts(
    accounts: object,
) -> None:
    assert keccak(b"").hex() == EMPTY_KECCAK
    assert keccak.hasher.__module__ == PYSHA3


def test_a_service_process_hashes_with_pysha3_unless_its_deployment_chose_another() -> None:
    probe = (
        "import app.main; from eth_hash.auto import keccak; keccak(b''); "
        "print(keccak.hasher.__module__)"
    )
    chosen = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert chosen == PYSHA3
    kept = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "ETH_HASH_BACKEND": "pycryptodome"},
    ).stdout.strip()
    assert kept == "eth_hash.backends.pycryptodome"
