"""The credit endpoints' request and answer bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.domain.abi_types import Address, Format, Signature
from app.domain.attestations import (
    MODEL_NAME_MAX_LENGTH,
    MODEL_NAME_PATTERN,
    SCORE_MAX,
    SCORE_MIN,
    SignedAttestation,
    model_id_of,
)
from app.domain.identity import IDENTIFIER_PATTERN, normalize_identifier
from app.outbox.schemas import RelayId

# An attestation is short-lived: the borrower submits it soon after the bureau reports.
DEFAULT_EXPIRES_IN_SECONDS = 7 * 24 * 3600
MAX_EXPIRES_IN_SECONDS = 90 * 24 * 3600
MAX_IDENTIFIER_LENGTH = 128


# A report's id: a UUID as the service writes one (a random one, lowercase).
REPORT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ReportId = Annotated[str, StringConstraints(pattern=REPORT_ID_PATTERN), Format("uuid")]


def new_report_id() -> str:
    return str(uuid.uuid4())


def _identifier(value: str) -> str:
    normalize_identifier(value)  # refuses an identifier that is only spaces, dots and dashes
    return value


def _model_named(model: str) -> str:
    model_id_of(model)
    return model


class CreditReportCreate(BaseModel):
    """A bureau's report on one borrower. ``report`` is the bureau's full report (any JSON
    object); it, ``score`` and ``identity`` are kept encrypted and never leave the service except
    to this bureau. ``identity`` is the borrower's legal identifier (a national id or a company
    registration number): the attestation carries only its keyed commitment, so that one legal
    person holds one credit line and credit never pays a shop the borrower owns."""

    model_config = ConfigDict(extra="forbid")

    borrower: Address
    identity: Annotated[
        str,
        Field(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=IDENTIFIER_PATTERN),
        AfterValidator(_identifier),
    ]
    score: Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]
    # A name, or a 0x bytes32 id, as model_id_of reads it (a malformed id is refused here).
    model: Annotated[
        str,
        Field(min_length=1, max_length=MODEL_NAME_MAX_LENGTH, pattern=MODEL_NAME_PATTERN),
        AfterValidator(_model_named),
    ]
    report: dict[str, Any]
    # Unix seconds; default: the chain's latest block time.
    issued_at: Annotated[int | None, Field(ge=0, lt=2**40)] = None
    expires_in: Annotated[int, Field(gt=0, le=MAX_EXPIRES_IN_SECONDS)] = DEFAULT_EXPIRES_IN_SECONDS


class CreditSignatureCreate(BaseModel):
    """An attester's EIP-712 signature of a report's attestation (``to_sign`` of the report)."""

    model_config = ConfigDict(extra="forbid")

    signature: Signature


class CreditReportAcceptedPublic(BaseModel):
    """A report's attestation and where its application stands.

    ``queued``: the signatures meet the verifier's quorum and the application
    (``CreditLines.applyForCredit(attestation, signatures)``) is queued for the chain; follow it at
    ``GET /v1/relay/{relay_id}``. ``awaiting_signatures``: the service's own attester keys do not
    meet the quorum; attesters sign ``to_sign`` (EIP-712 typed data, ``eth_signTypedData_v4``) and
    the bureau posts each signature to ``POST /v1/credit/reports/{id}/signatures``."""

    id: ReportId
    borrower: str
    band: int
    status: Literal["queued", "awaiting_signatures"]
    quorum: int = Field(description="Signatures the verifier wants")
    signers: list[str] = Field(description="Attesters that signed, ascending")
    signed_attestation: SignedAttestation = Field(
        description="The attestation and the signatures gathered so far, ascending by signer"
    )
    to_sign: dict[str, Any] | None = Field(
        default=None, description="The EIP-712 typed data attesters sign, while awaited"
    )
    relay_id: RelayId | None = Field(
        default=None, description="Follow the application at GET /v1/relay/{relay_id}."
    )


class CreditReportPublic(CreditReportAcceptedPublic):
    """A stored report, decrypted, for the bureau that sent it."""

    source: str
    identity: str | None
    model: str
    score: int
    report: dict[str, Any]
    created_at: datetime
