"""Values and builders shared by the credit tests: policies, and EIP-712 attestations signed with
eth_account from test accounts' keys (never hashed by hand); the ABI's enums come from
app.domain.vocab (re-exported here)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field, replace
from typing import Any

from ape.exceptions import ContractLogicError, CustomError
from eth_abi import decode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.vocab import DenialReason, LineStatus, Standing

__all__ = [
    "ATTESTATION_TYPE",
    "BPS",
    "DAY",
    "DEFAULT_TIERS",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_DOMAIN_TYPE",
    "SECP256K1_N",
    "USD",
    "YEAR",
    "Attestation",
    "DenialReason",
    "Domain",
    "LineStatus",
    "Rules",
    "Signed",
    "Standing",
    "Tier",
    "identity_of",
    "interest",
    "malleate",
    "normalized",
    "reasons",
    "reverts",
]

USD = 10**6
DAY = 86_400
YEAR = 365 * DAY
BPS = 10_000

DOMAIN_NAME = "TrustMall Credit Attestations"
DOMAIN_VERSION = "1"
ATTESTATION_TYPE = [
    {"name": "borrower", "type": "address"},
    {"name": "identityHash", "type": "bytes32"},
    {"name": "band", "type": "uint8"},
    {"name": "modelId", "type": "bytes32"},
    {"name": "reportHash", "type": "bytes32"},
    {"name": "issuedAt", "type": "uint40"},
    {"name": "expiresAt", "type": "uint40"},
    {"name": "nonce", "type": "uint256"},
    {"name": "attesterSetVersion", "type": "uint64"},
]
EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def identity_of(legal_identifier: str) -> bytes:
    """The identity commitment of a borrower or a merchant's owner, under the dev key."""
    return identity_commitment(legal_identifier, DEV_IDENTITY_KEY)


def reasons(*items: DenialReason) -> int:
    """The `reasons` bitmap of CreditDenied."""
    return DenialReason.bitmap(*items)


@dataclass(frozen=True)
class Tier:
    """ICreditPolicies.Tier, in ABI order."""

    limit: int
    apr_bps: int
    term: int
    grace_period: int
    late_fee: int

    def as_abi(self) -> tuple[int, ...]:
        return astuple(self)


@dataclass(frozen=True)
class Rules:
    """ICreditPolicies.PolicyRules, in ABI order."""

    min_band: int = 1
    refresh_period: int = 30 * DAY
    default_after: int = 60 * DAY
    wallet_draws: bool = True
    cap_period: int = DAY
    period_cap: int = 50_000 * USD

    def as_abi(self) -> tuple[Any, ...]:
        return astuple(self)


# Band 0 exists but is below the minimum; bands 1-3 are approved; band 4 has no tier.
DEFAULT_TIERS = (
    Tier(100 * USD, 3_600, 30 * DAY, 5 * DAY, 10 * USD),
    Tier(500 * USD, 2_400, 30 * DAY, 5 * DAY, 15 * USD),
    Tier(2_000 * USD, 1_800, 30 * DAY, 5 * DAY, 25 * USD),
    Tier(5_000 * USD, 1_200, 30 * DAY, 5 * DAY, 25 * USD),
)


@dataclass(frozen=True)
class Attestation:
    """IAttestationVerifier.Attestation, in ABI order."""

    borrower: str
    identity_hash: bytes
    band: int
    model_id: bytes
    report_hash: bytes
    issued_at: int
    expires_at: int
    nonce: int
    attester_set_version: int

    def as_abi(self) -> tuple[Any, ...]:
        return astuple(self)

    def message(self) -> dict[str, Any]:
        return {
            "borrower": self.borrower,
            "identityHash": self.identity_hash,
            "band": self.band,
            "modelId": self.model_id,
            "reportHash": self.report_hash,
            "issuedAt": self.issued_at,
            "expiresAt": self.expires_at,
            "nonce": self.nonce,
            "attesterSetVersion": self.attester_set_version,
        }

    def but(self, **changes: Any) -> Attestation:
        return replace(self, **changes)


@dataclass(frozen=True)
class Domain:
    """The verifier's EIP-712 domain."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def typed_data(self, attestation: Attestation) -> dict[str, Any]:
        return {
            "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "CreditAttestation": ATTESTATION_TYPE},
            "primaryType": "CreditAttestation",
            "domain": {
                "name": self.name,
                "version": self.version,
                "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract,
            },
            "message": attestation.message(),
        }

    def digest(self, attestation: Attestation) -> bytes:
        """The EIP-712 digest, by eth_account (hash of 0x1901 || domainSeparator || structHash)."""
        signable = encode_typed_data(full_message=self.typed_data(attestation))
        return keccak(b"\x19" + signable.version + signable.header + signable.body)

    def sign(self, attestation: Attestation, key: str | bytes) -> bytes:
        signable = encode_typed_data(full_message=self.typed_data(attestation))
        return bytes(Account.sign_message(signable, key).signature)


@dataclass
class Signed:
    """An attestation with its signatures (ascending by signer unless built otherwise)."""

    attestation: Attestation
    signatures: list[bytes] = field(default_factory=list)

    @property
    def args(self) -> tuple[tuple[Any, ...], list[bytes]]:
        return self.attestation.as_abi(), self.signatures


def normalized(value: Any) -> Any:
    """An ABI value as comparable plain data: sequences as tuples, bytes as bytes, addresses
    lower-cased (Ape decodes structs in events as lists with lower-case addresses)."""
    if isinstance(value, list | tuple):
        return tuple(normalized(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    return value


def _revert_data(error: ContractLogicError) -> bytes:
    """The raw revert data of an error Ape could not decode (shown as hex or as a bytes repr)."""
    message = str(error.revert_message or error.message or "")
    if message.startswith("0x"):
        return bytes.fromhex(message[2:])
    if message.startswith(("b'", 'b"')):
        return bytes(ast.literal_eval(message))
    raise AssertionError(f"reverted without custom error data: {error!r}")


@contextmanager
def reverts(error: type[CustomError], **inputs: Any) -> Iterator[None]:
    """Asserts the block reverts with `error` (a contract's error class) and these arguments.

    Unlike `ape.reverts`, this also holds for an error raised by a callee (the registry under the
    escrow under the lines, the vault or the verifier under the lines): Ape leaves those undecoded
    and `ape.reverts` then accepts any revert at all. Here the selector and every named argument of
    the raw revert data are checked.
    """
    abi = error.abi  # type: ignore[attr-defined]
    try:
        yield
    except ContractLogicError as raised:
        if isinstance(raised, CustomError):
            name, actual = raised.abi.name, dict(raised.inputs)
        else:
            data = _revert_data(raised)
            selector = keccak(text=abi.selector)[:4]
            if data[:4] != selector:
                message = f"expected {abi.name}, got revert data 0x{data.hex()}"
                raise AssertionError(message) from None
            values = decode([i.canonical_type for i in abi.inputs], data[4:])
            name, actual = abi.name, {i.name: v for i, v in zip(abi.inputs, values, strict=True)}
        assert name == abi.name, f"expected {abi.name}, got {name}"
        for key, expected in inputs.items():
            assert key in actual, f"{abi.name} has no argument {key!r}"
            assert normalized(actual[key]) == normalized(expected), (
                f"{abi.name}.{key}: expected {expected!r}, got {actual[key]!r}"
            )
    else:
        raise AssertionError(f"did not revert (expected {abi.name})")


def malleate(signature: bytes) -> bytes:
    """The other valid-looking (high-s) form of a signature: (r, n - s, v flipped)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def interest(principal: int, apr_bps: int, seconds: int) -> int:
    """Interest as the contract accrues it in one step: mulDiv rounded up."""
    numerator = principal * apr_bps * seconds
    denominator = BPS * YEAR
    return -(-numerator // denominator)
