"""Every operation of the service's OpenAPI document, fuzzed by schemathesis: no answer is a 5xx,
every answer matches the document (status code, content type, body schema), and the document
states the formats the service enforces: data outside a documented schema is refused
(``negative_data_rejection``), and data within it is never refused as malformed
(``well_formed_is_not_refused_as_malformed``: a 422 of the generic ``validation_failed`` or of a
parameter's own code). Values whose format carries a rule no pattern states (an address's EIP-55
checksum, a GTIN's check digit) are generated from their documented ``format``, as a client
would write them.

The app runs in process (its lifespan entered: database schema made) against the session's Anvil
with the suite deployed. Requests to the carriers' and bureaus' endpoints carry the test source's
API key and a ``TrustMall-Signature`` computed over the exact bytes sent (the generated body,
serialized here and passed as the request's body), so the authenticated paths are exercised past
their authentication; the rate limit is raised out of the way (it has its own test).

The merchant API's operations carry a live session of a fresh merchant (signed in with its own
key), except signing out, which would end it for the operations after it.

Examples per operation: ``TRUSTMALL_API_FUZZ_EXAMPLES`` (3 in ``make test``, a smoke;
``make verify`` runs more through ``verify/apifuzz.py``, which also reads the tallies this module
writes to ``TRUSTMALL_API_FUZZ_REPORT``). Schemathesis's phases: ``TRUSTMALL_API_FUZZ_PHASES``
(``make test``: examples and fuzzing; ``make verify`` adds the coverage phase, every boundary and
negative value the document allows, some fifty requests an operation). To reproduce one
operation's failure: ``TRUSTMALL_API_FUZZ_ONLY`` (a regex of labels, "POST /v1/metadata")."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from eth_utils.address import to_checksum_address
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.domain.abi_types import ADDRESS_FORMAT
from app.domain.ids import GTIN_FORMAT, GTIN_LENGTHS
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from app.ingest.schemas import IDEMPOTENCY_KEY_PATTERN
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import SourceSecrets
from tests.app.index.actors import SuiteDriver
from tests.app.merchant.support import sign_in

EXAMPLES = int(os.environ.get("TRUSTMALL_API_FUZZ_EXAMPLES", "3"))
PHASES = set(os.environ.get("TRUSTMALL_API_FUZZ_PHASES", "examples,fuzzing").split(","))
REPORT = os.environ.get("TRUSTMALL_API_FUZZ_REPORT")
# Only the operations whose label ("POST /v1/metadata") matches this regex: to reproduce one.
ONLY = os.environ.get("TRUSTMALL_API_FUZZ_ONLY")
# The codes of a refusal as malformed: the generic one, and path and query parameters' own.
MALFORMED = {
    "validation_failed",
    "invalid_json",
    "invalid_item_id",
    "invalid_order_id",
    "invalid_root",
    "invalid_address",
}
# Rules no JSON Schema states: when an event happened, against the clock; an event id once in a
# request (uniqueness of one property across an array's objects).
BEYOND_SCHEMA = {"occurred_in_future", "occurred_out_of_range", "duplicate_event_id"}
# Operations a data source calls, and which source signs for them.
SIGNED = {"/v1/logistics/events": "carrier", "/v1/credit/reports": "bureau"}
SIGNED_PREFIXES = {"/v1/credit/reports/": "bureau"}
# Operations a signed-in merchant calls (all but signing in and out).
MERCHANT_PREFIX = "/v1/merchant/"
SESSION_FREE = {"/v1/merchant/siwe/nonce", "/v1/merchant/siwe/session"}
IDEMPOTENCY_KEY = "Idempotency-Key"

TALLY: Counter[str] = Counter()
STATUSES: Counter[str] = Counter()


def _check_digit(digits: str) -> str:
    """GS1's check digit of a GTIN's other digits (GS1 General Specifications 7.9.1)."""
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits.zfill(13)))
    return str((10 - weighted % 10) % 10)


def _address(raw: bytes, case: int) -> str:
    text = raw.hex()
    return (to_checksum_address(raw), "0x" + text, "0x" + text.upper())[case]


schemathesis.openapi.format(
    GTIN_FORMAT,
    st.sampled_from(GTIN_LENGTHS)
    .flatmap(lambda length: st.text("0123456789", min_size=length - 1, max_size=length - 1))
    .map(lambda digits: digits + _check_digit(digits)),
)
schemathesis.openapi.format(
    ADDRESS_FORMAT,
    st.builds(_address, st.binary(min_size=20, max_size=20), st.integers(0, 2)),
)


def _sent_as_generated(case: Any) -> bool:
    """Whether the path values the service read are the ones generated: schemathesis decodes a
    value's ``%xx`` before encoding it, so a GS1 serial holding "%" (set 82 has it) may reach
    the service as another value, outside the documented pattern."""
    for parameter in case.operation.definition.raw.get("parameters", []):
        value = (case.path_parameters or {}).get(parameter["name"])
        pattern = parameter["schema"].get("pattern")
        if parameter["in"] == "path" and pattern and not re.search(pattern, unquote(value)):
            return False
    return True


@schemathesis.check
def well_formed_is_not_refused_as_malformed(
    ctx: CheckContext, response: Any, case: Any
) -> bool | None:
    """Data within the document's schemas may be refused for what only the service knows (the
    chain, a signature, the clock), never as malformed: that would be a schema looser than the
    service's rule."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 422 or not _sent_as_generated(case):
        return None
    if "json" not in response.headers.get("content-type", [""])[0]:
        raise AssertionError("a page refused well-formed data as malformed (422)")
    error = response.json()["error"]
    details = error["details"] if isinstance(error["details"], list) else []
    beyond = details and all(detail["code"] in BEYOND_SCHEMA for detail in details)
    if error["code"] in MALFORMED and not beyond:
        raise AssertionError(
            f"well-formed data refused as malformed ({error['code']}): the documented schema is "
            f"looser than the service's rule: {details or error['message']}"
        )
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    well_formed_is_not_refused_as_malformed,
]


@pytest.fixture
def fuzz_app(settings: Settings) -> Iterator[Any]:
    """The test's app (own database), its lifespan entered, the rate limits out of the way: a
    429 answers before the body is read, and would leave it unfuzzed (their own tests hold them)."""
    sources = {
        name: source.model_copy(update={"requests_per_minute": 10**9})
        for name, source in settings.sources.items()
    }
    unlimited = {
        "sources": sources,
        "publish_per_minute": 10**9,
        "problem_reports_per_minute": 10**9,
    }
    with TestClient(create_app(settings.model_copy(update=unlimited))) as client:
        # One index cycle, as the indexer worker would have run: /readyz answers ready.
        client.app.state.index.indexer.run_once()  # type: ignore[attr-defined]
        yield client.app


@pytest.fixture
def merchant_session(fuzz_app: Any, suite: SuiteDriver) -> dict[str, str]:
    """The Authorization header of a fresh merchant's session on the test's app."""
    return sign_in(TestClient(fuzz_app), suite.new_merchant("Fuzzed Goods"))


@pytest.fixture
def api_schema(fuzz_app: Any) -> Any:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    for phase in ("examples", "coverage", "fuzzing"):
        loaded.config.phases.get_by_name(name=phase).enabled = phase in PHASES
    # A body over its size limit is refused 413 before it is read: a refusal like the others.
    rejection = loaded.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")
if ONLY:
    schema = schema.include(name_regex=ONLY)


class Signer:
    """Signs each request's exact body; never the same timestamp twice for the same body (a
    signature is accepted once, and hypothesis repeats bodies). A well-formed Idempotency-Key
    gets a suffix of its own: hypothesis repeats keys too, and a key used with another body is
    answered 409 before the body is read (a malformed one is sent as generated)."""

    def __init__(self, secrets: dict[str, SourceSecrets]) -> None:
        self.secrets = secrets
        self.last: dict[tuple[str, bytes], int] = {}
        self.keys = itertools.count()

    def kwargs(self, case: Any, merchant_session: dict[str, str]) -> dict[str, Any]:
        if case.path.startswith(MERCHANT_PREFIX) and case.path not in SESSION_FREE:
            # The generated bearer token becomes a live session's; a case without one (a negative
            # case leaving it out) goes without.
            return {"headers": merchant_session} if "Authorization" in (case.headers or {}) else {}
        source = SIGNED.get(case.path) or next(
            (name for prefix, name in SIGNED_PREFIXES.items() if case.path.startswith(prefix)),
            None,
        )
        if source is None:
            return {}
        body = _body_bytes(case)
        key = (source, hashlib.sha256(body).digest())
        timestamp = max(int(time.time()), self.last.get(key, 0) + 1)
        self.last[key] = timestamp
        secrets = self.secrets[source]
        headers = {
            API_KEY_HEADER: secrets.api_key,
            SIGNATURE_HEADER: signature_header(secrets.hmac_secret, body, timestamp),
        }
        idempotency_key = (case.headers or {}).get(IDEMPOTENCY_KEY)
        if isinstance(idempotency_key, str) and re.search(IDEMPOTENCY_KEY_PATTERN, idempotency_key):
            headers[IDEMPOTENCY_KEY] = f"{idempotency_key[:240]}#{next(self.keys)}"
        if isinstance(case.body, NotSet):
            return {"headers": headers}
        content_type = case.media_type or "application/json"
        return {"headers": {**headers, "Content-Type": content_type}, "data": body}


def _body_bytes(case: Any) -> bytes:
    """The bytes sent for a generated body: JSON for a JSON media type, else as generated."""
    body = case.body
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and "json" not in (case.media_type or "json"):
        return body.encode()
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def signer(carrier_secrets: SourceSecrets, bureau_secrets: SourceSecrets) -> Signer:
    return Signer({"carrier": carrier_secrets, "bureau": bureau_secrets})


@pytest.fixture(scope="module", autouse=True)
def _write_report() -> Iterator[None]:
    yield
    if REPORT:
        Path(REPORT).write_text(
            json.dumps(
                {
                    "examples": dict(TALLY),
                    "statuses": dict(STATUSES),
                    "checks": [check.__name__ for check in CHECKS],
                },
                indent=2,
            )
        )


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=REPORT is None,
)
def test_operation_answers_within_its_schema_and_never_5xx(
    case: Any, signer: Signer, merchant_session: dict[str, str]
) -> None:
    response = case.call(**signer.kwargs(case, merchant_session))
    label = case.operation.label  # negative cases may use another method on the same path
    TALLY[label] += 1
    STATUSES[f"{label} {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS)


def test_schema_violating_data_refused_413_for_its_size_counts_as_refused(
    api_schema: Any, fuzz_app: Any
) -> None:
    """A generated schema-violating body can outgrow a body limit, which answers 413 before it
    reads the body: the fuzzer's rejection check takes that as the refusal it is."""
    operation = api_schema["/v1/metadata"]["POST"]
    for phase in ("examples", "coverage", "fuzzing"):
        checks = api_schema.config.checks_config_for(operation=operation, phase=phase)
        assert "413" in checks.negative_data_rejection.expected_statuses
    material = {"name": "clay", "percent": {"not": "a number" * 5_000}}
    document = {"schema": "trustmall.passport/1", "name": "Mug", "materials": [material]}
    assert TestClient(fuzz_app).post("/v1/metadata", json=document).status_code == 413
