"""TrustMall: the oracle service and the domain helpers shared with scripts and tests."""

import os

# Keccak-256 is on every hot path: item ids, request and attestation signatures, Merkle proofs,
# transaction hashes, and the state tries of Ape's in-process EVM. eth-hash picks its backend at
# the first hash, from this variable if set, else pycryptodome first; safe-pysha3's is about five
# times faster a call (2 µs against 11 µs for 64 bytes). A deployment can still choose its own.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
