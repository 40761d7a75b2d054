"""What an attestation needs from the chain: the verifier (its quorum, attesters and set version),
the active policy's tier count, the time, and the verifier's spent nonces; and the nonce counter
that hands out nonces in sequence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from web3.contract import Contract
from web3.exceptions import Web3Exception

from app.api.errors import ApiError
from app.chain.contracts import DeploymentMissing, SuiteCache
from app.credit.models import AttestationNonceCounter
from app.domain.attestations import SCORE_BAND_FLOORS, Domain
from app.services import AppServices

log = structlog.get_logger(__name__)

VERIFIER = "AttestationVerifier"
LINES = "CreditLines"
MAX_NONCE_SKIPS = 10_000
# ICreditPolicies.Tier is (limit, aprBps, term, gracePeriod, lateFee).
TIER_TERM_INDEX = 2
T = TypeVar("T")


@dataclass(frozen=True)
class ChainView:
    """The verifier and policy as one report (or one cosignature) reads them."""

    chain_id: int
    verifier: str
    set_version: int
    quorum: int
    now: int
    # The active policy's tier count (``None``: no policy published yet, no cap).
    tiers: int | None
    _verifier: Contract

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, verifying_contract=self.verifier)

    def nonce_used(self, nonce: int) -> bool:
        """Whether the verifier has spent a nonce (another database, a bureau's own attestation)."""
        return bool(_read(lambda: self._verifier.functions.isNonceUsed(nonce).call()))

    def is_attester(self, account: str) -> bool:
        """Whether the verifier counts ``account``'s signatures."""
        return bool(_read(lambda: self._verifier.functions.isAttester(account).call()))


def read_chain(services: AppServices) -> ChainView:
    """The chain as a report needs it; 409 ``credit_not_deployed`` or 503 ``chain_unavailable``."""
    settings = services.settings

    def read() -> ChainView:
        suite = services.state(SuiteCache).get(
            settings.rpc_url, settings.deployments_dir, settings.abi_dir, settings.chain_id
        )
        if VERIFIER not in suite.contracts:
            raise ApiError(
                409,
                "credit_not_deployed",
                f"the deployment on chain {suite.chain_id} has no credit contracts",
            )
        verifier = suite[VERIFIER]
        return ChainView(
            chain_id=suite.chain_id,
            verifier=str(verifier.address),
            set_version=int(verifier.functions.attesterSetVersion().call()),
            quorum=int(verifier.functions.quorum().call()),
            now=int(suite.web3.eth.get_block("latest")["timestamp"]),
            tiers=_policy_tiers(suite.contracts.get(LINES)),
            _verifier=verifier,
        )

    try:
        return _read(read)
    except DeploymentMissing as error:
        raise ApiError(409, "credit_not_deployed", str(error)) from None
    except ApiError:
        # The node away, or a deployment without credit: look again next time.
        services.state(SuiteCache).forget()
        raise


def _read(call: Callable[[], T]) -> T:
    try:
        return call()
    except (OSError, Web3Exception) as error:
        log.warning("credit_chain_unavailable", error=type(error).__name__)
        raise ApiError(
            503, "chain_unavailable", "the chain cannot be read", headers={"Retry-After": "5"}
        ) from None


def _policy_tiers(lines: Contract | None) -> int | None:
    """How many tiers the active policy has, as the scripts count them: published tiers have a
    term, the first band without one ends them (bands past the score table are never given)."""
    if lines is None:
        return None
    version = int(lines.functions.currentPolicyVersion().call())
    if version == 0:
        return None
    tiers = 0
    for band in range(len(SCORE_BAND_FLOORS)):
        tier: Any = lines.functions.policyTier(version, band).call()
        if int(tier[TIER_TERM_INDEX]) == 0:
            break
        tiers += 1
    return tiers or None


def next_nonce(session: Session, chain: ChainView) -> int:
    """The verifier's next unspent nonce, in sequence (sequential nonces share the verifier's
    bitmap words: cheaper to spend). Nonces the chain shows spent — by a service on another
    database, or a bureau signing itself — are skipped."""
    for _ in range(MAX_NONCE_SKIPS):
        nonce = _take_nonce(session, chain.verifier)
        if not chain.nonce_used(nonce):
            return nonce
    raise ApiError(503, "nonces_exhausted", f"{MAX_NONCE_SKIPS} nonces in a row are spent")


def _take_nonce(session: Session, verifier: str) -> int:
    """The counter's next nonce, taken atomically (an UPDATE ... RETURNING holds the row)."""
    taken = session.execute(
        update(AttestationNonceCounter)
        .where(AttestationNonceCounter.verifier == verifier)
        .values(next_nonce=AttestationNonceCounter.next_nonce + 1)
        .returning(AttestationNonceCounter.next_nonce)
    ).scalar_one_or_none()
    if taken is not None:
        return int(taken) - 1
    # The first nonce for this verifier: a concurrent first insert fails the transaction, which
    # the caller retries.
    session.execute(insert(AttestationNonceCounter).values(verifier=verifier, next_nonce=1))
    return 0
