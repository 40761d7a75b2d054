"""The service's settings, from the environment (prefix ``TRUSTMALL_``) and an optional ``.env``.

Secrets are ``SecretStr`` and never logged. The environment is ``production`` unless set: outside
development the service refuses to start with a default secret, and in production with a raw
private key (local set-ups say ``TRUSTMALL_ENVIRONMENT=development``, as ``.env.example`` does).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.abi_types import Address
from app.domain.identity import DEV_IDENTITY_KEY, parse_identity_key
from app.domain.networks import AccountKind, network_profile

ROOT = Path(__file__).resolve().parent.parent
# A marker for local set-ups; refused outside development.
DEVELOPMENT_SECRET = "development-only-secret"
# The escrow's carrier ids are uint16; 0 means "no carrier".
MAX_CARRIER_ID = 2**16 - 1


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class KeeperDuty(StrEnum):
    """What the keeper does when a deadline passed or the registry recalled goods
    (``app.keeper``): each is one OrderEscrow or CreditLines call anyone may make, which the
    contract alone judges."""

    REFUND = "refund"  # cancel: funded past ship-by (deliver-by once a carrier has it)
    RELEASE = "release"  # release: delivered (or shipped) past the dispute window
    DEFAULT_RULING = "default_ruling"  # resolveExpiredDispute: past the arbitration deadline
    REFUND_RECALLED = "refund_recalled"  # refundRecalled: open items the registry reads recalled
    # CreditLines (relay kind keeper_credit_duty): the refund of a credit-paid order applied to
    # its line; a line past due plus grace (late fee) or the default period (default) accrued.
    SETTLE_REFUND = "settle_refund"  # settleRefund
    ACCRUE = "accrue"  # accrue


class SourceKind(StrEnum):
    CARRIER = "carrier"
    BUREAU = "bureau"
    # The platform's verifiers, reading shoppers' problem reports (app.ops.problem_reports_api).
    VERIFIER = "verifier"


class SourceCredentials(BaseModel):
    """One data source (a carrier or a credit bureau): its API key and webhook-signing secret;
    a carrier also its id on chain (``carrier_id``: the escrow's orders name the carrier that may
    report on them, and the service puts this id in each of the carrier's order reports) and the
    merchants whose items it moves before a sale (``merchants``: their warehouses' moves). A
    carrier writes custody events only for those merchants' items and for the items of open orders
    assigned to it (``app.ingest.custody_scope``)."""

    kind: SourceKind
    api_key: SecretStr
    hmac_secret: SecretStr
    requests_per_minute: Annotated[int, Field(gt=0)] = 600
    carrier_id: Annotated[int, Field(ge=1, le=MAX_CARRIER_ID)] | None = None
    merchants: frozenset[Address] = frozenset()

    @model_validator(mode="after")
    def _carrier_id_for_carriers_only(self) -> Self:
        if self.kind is SourceKind.CARRIER and self.carrier_id is None:
            raise ValueError(f"a carrier needs its carrier_id (1..{MAX_CARRIER_ID})")
        if self.kind is not SourceKind.CARRIER and self.carrier_id is not None:
            raise ValueError(f"carrier_id is for carriers, not a {self.kind}")
        if self.kind is not SourceKind.CARRIER and self.merchants:
            raise ValueError(f"merchants are for carriers, not a {self.kind}")
        return self


class Settings(BaseSettings):
    """Everything the service needs to run; one instance per app, passed explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="TRUSTMALL_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    # Production unless told otherwise: a forgotten setting must not switch the secret checks off.
    environment: Environment = Environment.PRODUCTION
    rpc_url: str = "http://127.0.0.1:8545"
    # The chain the service serves: its network's rules apply (app.domain.networks): on a public
    # one keystores only, its confirmation depth at least, its fees unless set below. Unset, the
    # service refuses a node that serves a public chain (app.chain.contracts.load_suite).
    chain_id: Annotated[int, Field(gt=0)] | None = None
    deployments_dir: Path = ROOT / "deployments"
    abi_dir: Path = ROOT / "abi"
    # Swagger UI's script and style for /docs (npm's swagger-ui-dist, installed by `make setup`).
    swagger_ui_dir: Path = ROOT / "node_modules" / "swagger-ui-dist"
    # SQLite (the embedded default) or PostgreSQL: postgresql+psycopg://user:pass@host/db.
    database_url: str = f"sqlite:///{ROOT / 'var' / 'trustmall.db'}"
    # PostgreSQL's connection pool, per process (app.db.session.PoolSettings).
    database_pool_size: int = Field(default=10, ge=1)
    database_pool_overflow: int = Field(default=10, ge=0)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    public_base_url: str = "http://127.0.0.1:8000"

    # The custody oracle's signing key (the registry's ORACLE_ROLE; it also sends credit
    # applications): an encrypted keystore file and its passphrase, or (development only) a raw
    # key. Merchants' and users' keys never reach the service. Every key is decrypted once, when
    # the app is made (app.chain.keys.ServiceKeys).
    oracle_keystore: Path | None = None
    oracle_keystore_passphrase: SecretStr | None = None
    oracle_private_key: SecretStr | None = None
    # The logistics oracle's key (the escrow's ORACLE_ROLE: carriers' order reports), a key of its
    # own so that neither oracle can act on the other contract; same rules.
    logistics_oracle_keystore: Path | None = None
    logistics_oracle_keystore_passphrase: SecretStr | None = None
    logistics_oracle_private_key: SecretStr | None = None
    # The key that signs credit attestations (EIP-712), same rules.
    attester_keystore: Path | None = None
    attester_keystore_passphrase: SecretStr | None = None
    attester_private_key: SecretStr | None = None
    # The keeper's key (app.keeper: the permissionless moves anyone may make: releases, refunds
    # and default rulings once their deadline passed; and merchants' signed requests, relayed
    # through the forwarder). No role: a key of its own, so that its nonces never meet an
    # oracle's; same rules. Unset: the keeper and the relay of signed requests are off.
    keeper_keystore: Path | None = None
    keeper_keystore_passphrase: SecretStr | None = None
    keeper_private_key: SecretStr | None = None

    # Fernet key (urlsafe base64, 32 bytes) encrypting credit reports at rest.
    report_encryption_key: SecretStr | None = None
    # The platform's identity key (hex, at least 16 bytes): credit attestations carry the
    # borrower's identity commitment under it (app.domain.identity), the same commitment verifiers
    # give merchants' owners. Unset in development: the public DEV_IDENTITY_KEY, which is refused
    # in any other environment.
    identity_key: SecretStr | None = None
    # Fernet key (urlsafe base64, 32 bytes) encrypting merchants' webhook signing secrets at rest
    # (the service must read them back to sign each delivery). Unset: no webhook endpoints.
    webhook_encryption_key: SecretStr | None = None

    sources: dict[str, SourceCredentials] = Field(default_factory=dict)
    signature_tolerance_seconds: Annotated[int, Field(gt=0)] = 300
    max_body_bytes: Annotated[int, Field(gt=0)] = 1_000_000

    confirmation_depth: Annotated[int, Field(ge=0)] = 2
    relay_batch_size: Annotated[int, Field(gt=0)] = 500
    relay_max_in_flight: Annotated[int, Field(gt=0)] = 4
    # How long a relayer's hold on its key lasts unrenewed (it renews once a third has run): a
    # service killed without letting go is replaced by another once it runs out.
    relay_lease_seconds: Annotated[float, Field(gt=0)] = 15.0
    relay_poll_seconds: Annotated[float, Field(gt=0)] = 0.2
    # An idle relayer only asks the database for work each poll, and runs a whole cycle (checking
    # that the chain still has what it confirmed) this often.
    relay_idle_check_seconds: Annotated[float, Field(gt=0)] = 2.0
    # A batch the chain refused for a reason that may pass (a paused contract, a missing role)
    # is tried again after this long.
    relay_retry_after_seconds: Annotated[float, Field(ge=0)] = 5.0
    # A sent transaction the node's pool no longer holds, and that has no receipt, is sent again
    # once its last broadcast is this old (a restarted node forgets its pool).
    relay_resend_after_seconds: Annotated[float, Field(ge=0)] = 2.0
    # A transaction still waiting this long after it was signed is signed again with fees raised
    # by relay_fee_bump_percent (same nonce and calldata), never above relay_max_fee_gwei.
    relay_fee_bump_after_seconds: Annotated[float, Field(ge=0)] = 30.0
    relay_fee_bump_percent: Annotated[int, Field(ge=10, le=1_000)] = 15
    # A transaction holding the key's next nonce that the node refused for what it is (gas over
    # the block's, bytes over the pool's) when last sent, this long after it was signed, gives its
    # nonce to a no-op of the key's own; its records go again.
    relay_cancel_refused_after_seconds: Annotated[float, Field(ge=0)] = 60.0
    relay_priority_fee_gwei: Annotated[float, Field(ge=0)] = 1.0
    relay_max_fee_gwei: Annotated[float, Field(gt=0)] | None = None
    # The keeper: which duties it does (all unless told), how long past a deadline (by the
    # chain's latest block time) it waits before simulating a duty, the most gas one of its
    # transactions may take (a duty estimated above it is not queued: it says so; releases sent
    # together in one releaseDue are split to stay under it: 2,000,000 is about 110 SKU orders),
    # and how often it looks. Its transactions' fees follow the relay's (relay_max_fee_gwei caps
    # them).
    keeper_duties: set[KeeperDuty] = Field(default_factory=lambda: set(KeeperDuty))
    keeper_grace_seconds: Annotated[int, Field(ge=0)] = 0
    keeper_max_gas: Annotated[int, Field(gt=21_000)] = 2_000_000
    keeper_interval_seconds: Annotated[float, Field(gt=0)] = 15.0
    index_poll_seconds: Annotated[float, Field(gt=0)] = 0.5
    # One process indexes at a time per database (the lease's holder); another takes over
    # within this many seconds of the holder's death.
    index_lease_seconds: Annotated[float, Field(gt=0)] = 15.0
    max_index_lag_blocks: Annotated[int, Field(ge=0)] = 20
    # How stale /v1/stats and the dashboard may be: a process looks at the index's stats version
    # and the relay's lag at most this often, and answers from its rendered copies in between.
    stats_refresh_seconds: Annotated[float, Field(ge=0)] = 1.0
    # Hosts ("host" or "host:port") whose http(s) metadata URIs the service fetches to check them
    # against their on-chain hashes; any other URI is reported "unchecked" and never fetched.
    metadata_fetch_hosts: list[str] = Field(default_factory=list)
    # Product passports and pictures anyone may publish (POST /v1/metadata, /v1/media): how many
    # each client address may publish a minute, and the largest picture kept.
    publish_per_minute: Annotated[int, Field(gt=0)] = 30
    max_media_bytes: Annotated[int, Field(gt=0, le=8_388_608)] = 1_048_576
    # Merchants' Sign-In with Ethereum (app.merchant): how long a sign-in nonce stays usable, how
    # many nonces one client address may ask for a minute (each is a database row until it is used
    # or expires), the longest a session lasts (a message's own expiration time may end it sooner).
    siwe_nonce_seconds: Annotated[int, Field(gt=0, le=3_600)] = 600
    siwe_nonces_per_minute: Annotated[int, Field(gt=0)] = 60
    merchant_session_seconds: Annotated[int, Field(gt=0)] = 86_400
    # Webhooks back: a delivery is retried with exponential backoff (webhook_first_retry_seconds,
    # doubling, at most webhook_max_retry_seconds apart) for webhook_retry_window_seconds after
    # its event, then marked failed; each attempt waits webhook_timeout_seconds for an answer.
    webhook_first_retry_seconds: Annotated[float, Field(gt=0)] = 60.0
    webhook_max_retry_seconds: Annotated[float, Field(gt=0)] = 6 * 3_600.0
    webhook_retry_window_seconds: Annotated[float, Field(gt=0)] = 3 * 86_400.0
    webhook_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    webhook_poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    # Merchants' signed requests (app.merchant.requests), relayed with the keeper's key: per
    # merchant and UTC day, at most merchant_requests_per_day requests and
    # merchant_request_gas_per_day gas (what the relayer pays: each request's signed gas and its
    # calldata's); all merchants together at most request_gas_budget_per_day; one request at most
    # merchant_request_max_gas.
    merchant_requests_per_day: Annotated[int, Field(gt=0)] = 10_000
    merchant_request_gas_per_day: Annotated[int, Field(gt=0)] = 500_000_000
    request_gas_budget_per_day: Annotated[int, Field(gt=0)] = 5_000_000_000
    merchant_request_max_gas: Annotated[int, Field(gt=21_000)] = 15_000_000
    # Shoppers' problem reports (app.shop.problem_report_router): a photo's largest size, the
    # largest body read (a larger one is refused unread), reports a minute from one client address.
    problem_report_photo_max_bytes: Annotated[int, Field(gt=0)] = 4_000_000
    problem_report_body_max_bytes: Annotated[int, Field(gt=0)] = 16_000_000
    problem_reports_per_minute: Annotated[int, Field(gt=0)] = 5
    run_background_tasks: bool = True

    @model_validator(mode="after")
    def _network_rules(self) -> Self:
        if self.chain_id is None:
            return self
        profile = network_profile(self.chain_id)
        for name, value in self._raw_keys():
            if value is not None:
                setting = f"TRUSTMALL_{name.upper()}"
                profile.check_signer(AccountKind.RAW_KEY, setting)
        given = self.model_fields_set
        if "confirmation_depth" in given:
            profile.check_depth(self.confirmation_depth)
        else:
            self.confirmation_depth = profile.confirmation_depth
        if "relay_max_fee_gwei" not in given and profile.max_fee_gwei is not None:
            self.relay_max_fee_gwei = float(profile.max_fee_gwei)
        if "relay_priority_fee_gwei" not in given and profile.priority_fee_gwei is not None:
            self.relay_priority_fee_gwei = float(profile.priority_fee_gwei)
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> Self:
        if self.environment is Environment.DEVELOPMENT:
            return self
        secrets: list[tuple[str, SecretStr | None]] = [
            ("report_encryption_key", self.report_encryption_key),
            ("webhook_encryption_key", self.webhook_encryption_key),
            *self._raw_keys(),
        ]
        for name, source in self.sources.items():
            secrets += [
                (f"sources.{name}.api_key", source.api_key),
                (f"sources.{name}.hmac_secret", source.hmac_secret),
            ]
        weak = [name for name, value in secrets if value and _is_default(value)]
        if weak:
            raise ValueError(f"default secrets refused in {self.environment}: {', '.join(weak)}")
        raw = [name for name, value in self._raw_keys() if value is not None]
        if self.environment is Environment.PRODUCTION and raw:
            raise ValueError(
                f"raw private keys are for development ({', '.join(raw)}); "
                "use an encrypted keystore"
            )
        return self

    @model_validator(mode="after")
    def _one_source_per_carrier_id(self) -> Self:
        seen: dict[int, str] = {}
        for name, source in self.sources.items():
            if source.carrier_id is None:
                continue
            if source.carrier_id in seen:
                raise ValueError(
                    f"sources {seen[source.carrier_id]} and {name} have the same carrier_id "
                    f"{source.carrier_id}"
                )
            seen[source.carrier_id] = name
        return self

    def _raw_keys(self) -> list[tuple[str, SecretStr | None]]:
        return [
            ("oracle_private_key", self.oracle_private_key),
            ("logistics_oracle_private_key", self.logistics_oracle_private_key),
            ("attester_private_key", self.attester_private_key),
            ("keeper_private_key", self.keeper_private_key),
        ]

    @model_validator(mode="after")
    def _identity_key_usable(self) -> Self:
        if self.identity_key is None:
            return self
        key = parse_identity_key(self.identity_key.get_secret_value())
        if key == DEV_IDENTITY_KEY and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(f"the development identity key is refused in {self.environment}")
        return self


def _is_default(value: SecretStr) -> bool:
    return value.get_secret_value() in {"", DEVELOPMENT_SECRET, "changeme"}
