"""The suite's AccessControl roles: each role's id is keccak256 of its name
(``VERIFIER_ROLE = keccak256("VERIFIER_ROLE")``), the default admin's is zero."""

from __future__ import annotations

from eth_utils.crypto import keccak

ROLE_NAMES = {keccak(text=name): name for name in (
    "VERIFIER_ROLE", "ORACLE_ROLE", "ESCROW_ROLE", "ARBITER_ROLE", "FUNDER_ROLE",
    "CONSUMER_ROLE", "LINE_ROLE", "POLICY_ROLE", "RISK_ROLE", "MINTER_ROLE",
)} | {bytes(32): "DEFAULT_ADMIN_ROLE"}  # fmt: skip

# The registry's verifiers (approve merchants, confirm and dismiss reports); as the index stores
# it (lowercase 0x hex).
VERIFIER_ROLE = "0x" + keccak(text="VERIFIER_ROLE").hex()
