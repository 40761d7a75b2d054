"""Accepting a merchant's signed request: what the service checks before it promises to relay it.

The forwarder and the target contract decide on chain; the service only refuses early what they
would refuse, in their words, and what it will not pay for:

* what it relays: the chain it was signed for, a relayed function of ProductRegistry or
  OrderEscrow, no value, at most ``merchant_request_max_gas``, a deadline not passed;
* whose it is: the EIP-712 signature recovers ``from`` (the domain binds chain and forwarder);
  the registry says ``from`` is an active merchant;
* once: a request seen before is ``request_replayed``; its nonce must be the signer's next after
  the forwarder's and those queued here;
* what it may cost: per merchant and UTC day, requests and signed gas; all merchants' gas;
* that it would succeed: the call, simulated as the forwarder makes it, on the pending state. Its
  refusal is the target's own custom error (``contract_refused``).

An accepted request is an outbox record (``app.outbox.kinds.forwarded``) and a
``MerchantRequestRow``, written together: ``202 Accepted`` means it is durable.

The chain is read once a request: standing, forwarder nonce and simulation in one JSON-RPC batch
(``app.chain.forwarded.read_for_request``); the answers are judged in the order above.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.contract import Contract

from app.api.errors import ApiError
from app.chain.contracts import Suite
from app.chain.forwarded import forwarder_nonces, read_for_request
from app.chain.reverts import RevertDecoder, explain
from app.db.rows import insert_unless_present
from app.domain.abi_types import from_hex
from app.domain.forward_requests import (
    FORWARDER,
    Domain,
    ForwardRequest,
    is_canonical_call,
    recover,
    relayed_selectors,
    request_id,
)
from app.domain.vocab import MerchantStatus
from app.index.chain import RPC_ERRORS, ChainAccess, ChainUnavailable
from app.merchant.request_models import ALL_SIGNERS, MerchantRequestRow, RequestUsage
from app.merchant.request_schemas import SignedRequestCreate
from app.merchant.siwe import refuse_unless_active
from app.outbox.kinds.forwarded import REQUEST_SOURCE, request_event_id, request_payload
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.settings import Settings

# A request must leave the relay this long before its deadline.
MIN_DEADLINE_SECONDS = 60
LIVE = (RelayStatus.QUEUED, RelayStatus.SUBMITTED)

# The statements run for every request, built once: building one costs more than running it.
_ACCEPTED_BEFORE = select(MerchantRequestRow.id).where(
    MerchantRequestRow.digest == bindparam("digest")
)
_QUEUED = (
    select(func.max(MerchantRequestRow.nonce), func.count())
    .join(OutboxRecord, OutboxRecord.id == MerchantRequestRow.outbox_id)
    .where(MerchantRequestRow.signer == bindparam("signer"), OutboxRecord.status.in_(LIVE))
)
_COUNT_SERVICE = (
    update(RequestUsage)
    .where(
        RequestUsage.day == bindparam("usage_day"),
        RequestUsage.signer == bindparam("usage_signer"),
        RequestUsage.gas + bindparam("added") <= bindparam("max_gas"),
    )
    .values(requests=RequestUsage.requests + 1, gas=RequestUsage.gas + bindparam("added"))
)
# The signer's requests of one nonce that failed without using it (a used nonce is the
# forwarder's). Only failed ones: two requests of one nonce accepted at once then count alike and
# collide on the outbox key, so one of them is refused.
_TRIED = (
    select(func.count())
    .select_from(MerchantRequestRow)
    .join(OutboxRecord, OutboxRecord.id == MerchantRequestRow.outbox_id)
    .where(
        MerchantRequestRow.signer == bindparam("signer"),
        MerchantRequestRow.nonce == bindparam("nonce"),
        OutboxRecord.status == RelayStatus.FAILED,
    )
)
_KEEP_RECORD = insert(OutboxRecord).returning(OutboxRecord.id)
_KEEP_ROW = insert(MerchantRequestRow)
_COUNT_MERCHANT = _COUNT_SERVICE.where(RequestUsage.requests < bindparam("max_requests"))


@dataclass(frozen=True)
class Targets:
    """One deployment's forwarder, its domain, and the functions it relays for merchants."""

    forwarder: Contract
    registry: str
    domain: Domain
    functions: dict[tuple[str, bytes], str]
    decoder: RevertDecoder

    @classmethod
    def of(cls, suite: Suite) -> Targets:
        forwarder = suite[FORWARDER]
        named: dict[str, tuple[str, list[dict[str, Any]]]] = {
            name: (str(suite.contracts[name].address), [dict(e) for e in suite.contracts[name].abi])
            for name in ("ProductRegistry", "OrderEscrow")
            if name in suite.contracts
        }
        abis = [abi for _address, abi in named.values()] + [[dict(e) for e in forwarder.abi]]
        domain = Domain(suite.chain_id, str(forwarder.address))
        registry = str(suite.registry.address)
        return cls(forwarder, registry, domain, relayed_selectors(named), RevertDecoder(abis))


@dataclass
class RequestTargets:
    """This app's ``Targets``, made once per deployment it talks to."""

    found: tuple[int, Targets] | None = None

    def of(self, suite: Suite) -> Targets:
        if self.found is None or self.found[0] != id(suite):
            self.found = (id(suite), Targets.of(suite))
        return self.found[1]


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def seconds_to_next_day(now: float) -> int:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - moment).total_seconds()) + 1)


def forward_request(body: SignedRequestCreate) -> ForwardRequest:
    return ForwardRequest(
        sender=body.sender,
        to=body.to,
        value=int(body.value),
        gas=int(body.gas),
        nonce=int(body.nonce),
        deadline=body.deadline,
        data=from_hex(body.data),
    )


def accept(
    session: Session,
    chain: ChainAccess,
    targets: RequestTargets,
    settings: Settings,
    body: SignedRequestCreate,
) -> tuple[MerchantRequestRow, OutboxRecord]:
    """Checks ``body`` as the module says and keeps it (the request's row and its outbox record);
    raises ``ApiError`` with the refusal."""
    now = time.time()
    suite = deployed_suite(chain)
    if body.chain_id != suite.chain_id:
        raise ApiError(
            422,
            "wrong_chain",
            f"signed for chain {body.chain_id}; this service relays on chain {suite.chain_id}",
        )
    found = targets.of(suite)
    request, signature = forward_request(body), from_hex(body.signature)
    function_signature = _relayed_function(found, request)
    function = function_signature.split("(")[0]
    _check_terms(request, settings, now)
    _check_calldata(function_signature, request)
    digest = request.digest(found.domain)
    if recover(digest, signature) != request.sender:
        raise ApiError(
            422,
            "signature_invalid",
            "the signature does not recover `from` over this request and the forwarder's domain "
            "(GET /v1/merchant/requests/signing), or is one the forwarder refuses (v must be 27 "
            "or 28, s in the lower half of the curve's order)",
        )
    known = session.scalar(_ACCEPTED_BEFORE, {"digest": "0x" + digest.hex()})
    if known is not None:
        raise ApiError(
            409, "request_replayed", "this signed request was accepted before", {"id": known}
        )
    reads = _rpc(
        lambda: read_for_request(chain.reads, found.registry, found.domain.forwarder, request)
    )
    _check_deadline(request, reads.block_time)  # the chain's clock may run ahead of ours
    refuse_unless_active(request.sender, MerchantStatus(reads.standing))
    _check_nonce(session, request, reads.nonce)
    charge_quotas(session, settings, request, now)
    refusal = reads.refusal
    if refusal is not None:
        revert = found.decoder.decode(refusal) if refusal else None
        why = explain(revert) if revert else "the call reverts without a reason (too little gas?)"
        details = {"error": revert.name, "args": _plain(dict(revert.args))} if revert else None
        raise ApiError(422, "contract_refused", why, details)
    return _keep(session, request, signature, digest, function, now)


def next_nonce(
    session: Session, chain: ChainAccess, forwarder: Contract, signer: str
) -> tuple[int, int, int]:
    """(the nonce the signer's next request takes, the forwarder's nonce, requests queued)."""
    nonces = _rpc(lambda: forwarder_nonces(chain.reads, str(forwarder.address), [signer]))
    on_chain = nonces[signer]
    expected, queued = _after_queued(session, signer, on_chain)
    return expected, on_chain, queued


def _after_queued(session: Session, signer: str, on_chain: int) -> tuple[int, int]:
    """(the signer's next nonce after the forwarder's ``on_chain`` and the requests accepted here
    and not yet on chain, how many of those there are)."""
    highest, queued = session.execute(_QUEUED, {"signer": signer}).one()
    return max(on_chain, -1 if highest is None else int(highest) + 1), int(queued)


def deployed_suite(chain: ChainAccess) -> Suite:
    try:
        suite = chain.suite()
    except ChainUnavailable:
        raise ApiError(503, "chain_unavailable", "the chain cannot be read now") from None
    if FORWARDER not in suite.contracts:
        raise ApiError(503, "relay_unavailable", f"no {FORWARDER} in this deployment")
    return suite


def _relayed_function(found: Targets, request: ForwardRequest) -> str:
    """The relayed function's signature (``name(types)``) that the request calls."""
    signature = found.functions.get((request.to, request.data[:4]))
    if signature is None:
        relayed = sorted({s.split("(")[0] for s in found.functions.values()})
        raise ApiError(
            422,
            "function_not_relayed",
            "the service relays only a merchant's own registry and shipping calls",
            {"relayed": relayed},
        )
    return signature


def _check_calldata(function_signature: str, request: ForwardRequest) -> None:
    if not is_canonical_call(function_signature, request.data):
        raise ApiError(
            422,
            "calldata_not_canonical",
            "the calldata must be the function's selector and the standard ABI encoding of its "
            "arguments, and nothing more: the relayer would pay for bytes the call ignores",
        )


def _check_terms(request: ForwardRequest, settings: Settings, now: float) -> None:
    if request.value != 0:
        raise ApiError(422, "value_not_allowed", "a relayed request carries no value")
    if request.gas > settings.merchant_request_max_gas:
        raise ApiError(
            422, "gas_too_high", f"at most {settings.merchant_request_max_gas} gas a request"
        )
    _check_deadline(request, now)


def _check_deadline(request: ForwardRequest, now: float) -> None:
    """The forwarder refuses a request past its deadline by the block's time: refuse one that
    would be, unsent, before the relay could send it."""
    if request.deadline < now + MIN_DEADLINE_SECONDS:
        raise ApiError(
            422,
            "request_expired",
            f"the deadline must be at least {MIN_DEADLINE_SECONDS} s away to be relayed",
        )


def _check_nonce(session: Session, request: ForwardRequest, on_chain: int) -> None:
    expected, _queued = _after_queued(session, request.sender, on_chain)
    if request.nonce < on_chain:
        raise ApiError(409, "nonce_used", f"the forwarder has used nonce {request.nonce}")
    if request.nonce != expected:
        raise ApiError(
            409,
            "nonce_mismatch",
            f"the signer's next nonce is {expected}",
            {"expected": str(expected)},
        )


def charge_quotas(
    session: Session, settings: Settings, request: ForwardRequest, now: float
) -> None:
    """Counts the request against the signer's quotas and the service's budget for the UTC day,
    or refuses it when one would be exceeded (rolled back with the rest if it is refused later).
    A request's gas is what the relayer pays for it: its signed gas and its calldata's."""
    day, gas = utc_day(now), request.charged_gas
    retry = {"Retry-After": str(seconds_to_next_day(now))}
    merchant = {
        "usage_day": day,
        "usage_signer": request.sender,
        "added": gas,
        "max_requests": settings.merchant_requests_per_day,
        "max_gas": settings.merchant_request_gas_per_day,
    }
    if not _count(session, _COUNT_MERCHANT, merchant):
        usage = session.get_one(RequestUsage, (day, request.sender))
        if usage.requests >= settings.merchant_requests_per_day:
            limit = settings.merchant_requests_per_day
            raise ApiError(429, "request_quota_exceeded", f"{limit} requests a day", headers=retry)
        limit = settings.merchant_request_gas_per_day
        raise ApiError(429, "gas_quota_exceeded", f"{limit} gas a day", headers=retry)
    service = {
        "usage_day": day,
        "usage_signer": ALL_SIGNERS,
        "added": gas,
        "max_gas": settings.request_gas_budget_per_day,
    }
    if not _count(session, _COUNT_SERVICE, service):
        raise ApiError(
            429, "gas_budget_exhausted", "the service's gas for today is spent", headers=retry
        )


def _count(session: Session, counting: Update, usage: dict[str, Any]) -> bool:
    """Adds a request to a signer's usage of a day if it stays within its limits; the day's row
    is made when there is none yet (then counted again: made by this transaction or another)."""
    if _counted(session, counting, usage):
        return True
    row = {"day": usage["usage_day"], "signer": usage["usage_signer"]}
    insert_unless_present(session, RequestUsage, row)
    return _counted(session, counting, usage)


def _counted(session: Session, counting: Update, usage: dict[str, Any]) -> bool:
    counted = session.execute(counting, usage, execution_options={"synchronize_session": False})
    return bool(counted.rowcount)  # type: ignore[attr-defined]


def _keep(
    session: Session,
    request: ForwardRequest,
    signature: bytes,
    digest: bytes,
    function: str,
    now: float,
) -> tuple[MerchantRequestRow, OutboxRecord]:
    """Writes the request's outbox record and row and commits: what is kept, as kept."""
    tried = session.execute(_TRIED, {"signer": request.sender, "nonce": request.nonce})
    record: dict[str, Any] = {
        "relay_id": request_id(digest)[4:],
        "source": REQUEST_SOURCE,
        "source_event_id": request_event_id(request.sender, request.nonce, tried.scalar_one()),
        "kind": RelayKind.MERCHANT_REQUEST,
        "subject": request.sender,
        "action": function[:32],
        "occurred_at": int(now),
        "payload": request_payload(request, signature),
        "details": {"function": function},
        "content_hash": digest.hex(),
        "status": RelayStatus.QUEUED,
    }
    row: dict[str, Any] = {
        "id": request_id(digest),
        "digest": "0x" + digest.hex(),
        "signer": request.sender,
        "nonce": request.nonce,
        "target": request.to,
        "function": function,
        "gas": request.gas,
        "deadline": request.deadline,
        "day": utc_day(now),
        "accepted_at": now,
    }
    try:
        # Core statements on the session's connection: the ORM's unit of work costs more here
        # than the writes themselves.
        connection = session.connection()
        record["id"] = row["outbox_id"] = connection.execute(_KEEP_RECORD, record).scalar_one()
        connection.execute(_KEEP_ROW, row)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ApiError(
            409, "nonce_mismatch", f"another request of the signer took nonce {request.nonce}"
        ) from None
    return MerchantRequestRow(**row), OutboxRecord(**record)


def _rpc(call: Any) -> Any:
    try:
        return call()
    except RPC_ERRORS:
        raise ApiError(503, "chain_unavailable", "the chain cannot be read now") from None


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | bool | None) else str(value)
