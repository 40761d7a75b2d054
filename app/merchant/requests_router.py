"""``/v1/merchant/requests``: merchants' EIP-712 signed requests, relayed through the forwarder.

No session is needed to post or read one: the signature is the merchant's authority, checked here
and on chain. Taking one back before it is sent needs the signer's session."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep, SessionDep, SettingsDep
from app.api.errors import ApiError
from app.api.params import MerchantAddress
from app.domain.forward_requests import PRIMARY_TYPE, RELAYED_FUNCTIONS, TYPES, RequestId
from app.index.runtime import IndexDep
from app.merchant.auth import MerchantDep, errors
from app.merchant.request_models import MerchantRequestRow
from app.merchant.request_schemas import (
    RequestNoncePublic,
    RequestsWithdrawnPublic,
    SignedRequestCreate,
    SignedRequestPublic,
    SigningPublic,
)
from app.merchant.request_withdrawal import withdraw
from app.merchant.requests import RequestTargets, accept, deployed_suite, next_nonce
from app.outbox.models import OutboxRecord

router = APIRouter(prefix="/v1/merchant/requests", tags=["merchant"])


@router.get("/signing", response_model=SigningPublic, responses=errors(503))
def get_signing(index: IndexDep, services: ServicesDep, settings: SettingsDep) -> SigningPublic:
    """The EIP-712 domain and types a request is signed with, and the relayed contracts and
    functions: a request's ``data`` is one of these functions' calldata on its contract."""
    suite = deployed_suite(index.chain)
    targets = services.state(RequestTargets).of(suite)
    return SigningPublic(
        chain_id=suite.chain_id,
        domain=targets.domain.as_dict(),
        types=TYPES,
        primary_type=PRIMARY_TYPE,
        contracts={n: str(suite.contracts[n].address) for n in RELAYED_FUNCTIONS},
        functions={name: list(functions) for name, functions in RELAYED_FUNCTIONS.items()},
        max_gas=settings.merchant_request_max_gas,
    )


@router.get("/nonce/{signer}", response_model=RequestNoncePublic, responses=errors(422, 503))
def get_nonce(
    signer: MerchantAddress, session: SessionDep, index: IndexDep, services: ServicesDep
) -> RequestNoncePublic:
    """The nonce the signer's next request must carry: the forwarder's, after the requests of the
    signer accepted here and not yet on chain."""
    suite = deployed_suite(index.chain)
    address = suite.web3.to_checksum_address(signer)
    forwarder = services.state(RequestTargets).of(suite).forwarder
    nonce, on_chain, queued = next_nonce(session, index.chain, forwarder, address)
    return RequestNoncePublic(
        signer=address, nonce=str(nonce), on_chain=str(on_chain), queued=queued
    )


@router.post(
    "",
    status_code=202,
    response_model=SignedRequestPublic,
    responses=errors(403, 409, 422, 429, 503),
)
async def post_request(
    body: SignedRequestCreate,
    response: Response,
    settings: SettingsDep,
    index: IndexDep,
    services: ServicesDep,
) -> SignedRequestPublic:
    """Accepts a signed request for relay (``202``: kept durably, queued). Refusals, each with its
    code: ``wrong_chain``, ``function_not_relayed``, ``value_not_allowed``, ``gas_too_high``,
    ``request_expired``, ``calldata_not_canonical``, ``signature_invalid``, ``contract_refused``
    (the target's own error, simulated) (422); ``not_an_active_merchant`` (403);
    ``request_replayed``, ``nonce_used``, ``nonce_mismatch`` (409); ``request_quota_exceeded``,
    ``gas_quota_exceeded``, ``gas_budget_exhausted`` (429, Retry-After: the next UTC day)."""

    # The whole acceptance (its session, reads and writes) in one trip to a worker thread: a sync
    # endpoint with a session dependency goes back and forth between the event loop and the
    # threads to open the session, run, close it and validate the answer, which measured a fifth
    # of the time per request under concurrent load (bench/signed_requests.py).
    def accept_and_show() -> SignedRequestPublic:
        with services.database.sessions() as session:
            row, record = accept(
                session, index.chain, services.state(RequestTargets), settings, body
            )
            return _public(row, record)

    public = await run_in_threadpool(accept_and_show)
    response.headers["Location"] = f"/v1/merchant/requests/{public.id}"
    return public


@router.get("/{request_id}", response_model=SignedRequestPublic, responses=errors(404, 422))
def get_request(request_id: RequestId, session: SessionDep) -> SignedRequestPublic:
    """A request's way to the chain: ``queued``, ``submitted``, ``confirmed`` (its transaction
    and block), or ``failed`` with the reason."""
    row = session.get(MerchantRequestRow, request_id)
    if row is None:
        raise ApiError(404, "request_not_found", f"no request {request_id}")
    return _public(row, session.get_one(OutboxRecord, row.outbox_id))


@router.delete(
    "/{request_id}",
    response_model=RequestsWithdrawnPublic,
    responses=errors(401, 403, 404, 409, 422),
)
def withdraw_request(
    request_id: RequestId, merchant: MerchantDep, services: ServicesDep
) -> RequestsWithdrawnPublic:
    """Takes back a request not yet sent, with its signer's queued requests of later nonces
    (which could not run without it): each ``failed``, "withdrawn by its signer", and its nonce
    the signer's next again. The service never sends them; their signatures stay valid until
    their nonces are spent, which the signer's next request for the nonce does. Refusals:
    ``request_not_found`` (404), ``not_your_request`` (403: the session's merchant did not sign
    it), ``request_not_queued`` (409: sent or settled already, or being sent now),
    ``request_already_broadcast`` (409: queued again after a transaction that carried it
    reverted, so its signature is public)."""
    with services.database.transaction() as session:
        withdrawn = withdraw(session, merchant, request_id)
    return RequestsWithdrawnPublic(withdrawn=withdrawn)


def _public(row: MerchantRequestRow, record: OutboxRecord) -> SignedRequestPublic:
    return SignedRequestPublic(
        id=row.id,
        status=record.status,  # type: ignore[arg-type]
        signer=row.signer,
        nonce=str(row.nonce),
        target=row.target,
        function=row.function,
        gas=str(row.gas),
        deadline=row.deadline,
        reason=record.failure_reason,
        tx_hash=record.tx_hash,
        block_number=record.block_number,
    )
