"""The credit endpoints' request and answer bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.abi_types import Address
from app.domain.attestations import SCORE_MAX, SCORE_MIN, SignedAttestation

# An attestation is short-lived: the borrower submits it soon after the bureau reports.
DEFAULT_EXPIRES_IN_SECONDS = 7 * 24 * 3600
MAX_EXPIRES_IN_SECONDS = 90 * 24 * 3600


class CreditReportCreate(BaseModel):
    """A bureau's report on one borrower. ``report`` is the bureau's full report (any JSON
    object); it and ``score`` are kept encrypted and never leave the service except to this
    bureau."""

    model_config = ConfigDict(extra="forbid")

    borrower: Address
    score: Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]
    model: Annotated[str, Field(min_length=1, max_length=128)]
    report: dict[str, Any]
    # Unix seconds; default: the chain's latest block time.
    issued_at: Annotated[int | None, Field(ge=0, lt=2**40)] = None
    expires_in: Annotated[int, Field(gt=0, le=MAX_EXPIRES_IN_SECONDS)] = DEFAULT_EXPIRES_IN_SECONDS


class CreditReportAcceptedPublic(BaseModel):
    """The answer to a report: its id, the signed attestation, and the relay of the application
    (``CreditLines.applyForCredit(attestation, signatures)``) the service queued for the chain."""

    id: str
    borrower: str
    band: int
    signed_attestation: SignedAttestation
    relay_id: str = Field(description="Follow the application at GET /v1/relay/{relay_id}.")


class CreditReportPublic(CreditReportAcceptedPublic):
    """A stored report, decrypted, for the bureau that sent it."""

    source: str
    model: str
    score: int
    report: dict[str, Any]
    created_at: datetime
