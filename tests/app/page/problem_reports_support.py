"""What the problem-report tests share: a service with a verifier's credentials, the form posted
as a browser or a program posts it, the verifiers' signed reads, a verifier whose grant the
test's index reads (a fresh account given VERIFIER_ROLE), and the registry's report filed with a
receipt's evidence hash."""

from __future__ import annotations

import time
from typing import Any

from eth_utils.crypto import keccak
from pydantic import SecretStr
from web3.types import TxReceipt

from app.domain.roles import VERIFIER_ROLE
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from app.settings import Settings, SourceCredentials, SourceKind
from harness.ape_run import ADMIN
from tests.app.conftest import VERIFIER, SourceSecrets
from tests.app.index.actors import Actor, Shop, SuiteDriver

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def with_verifier(settings: Settings, verifier_secrets: SourceSecrets) -> Settings:
    """A shop's settings (confirmations 0, as ``shop_settings``) with a verifier among the
    sources."""
    verifier = SourceCredentials(
        kind=SourceKind.VERIFIER,
        api_key=SecretStr(verifier_secrets.api_key),
        hmac_secret=SecretStr(verifier_secrets.hmac_secret),
    )
    return settings.model_copy(
        update={"confirmation_depth": 0, "sources": {**settings.sources, VERIFIER: verifier}}
    )


def post_report(
    shop: Shop,
    item_hex: str,
    *,
    reason: str = "counterfeit",
    details: str = "The logo is printed crooked",
    contact: str = "jane@example.com",
    photo: tuple[str, bytes, str] | None = None,
    headers: dict[str, str] | None = None,
    lang: str = "en",
) -> Any:
    # A browser sends an empty file part when no file was chosen.
    files = {"photo": photo or ("", b"", "application/octet-stream")}
    return shop.client.post(
        f"/verify/{item_hex}/problem-reports?lang={lang}",
        data={"reason": reason, "details": details, "contact": contact},
        files=files,
        headers=headers or {},
        follow_redirects=False,
    )


class Stamps:
    """Timestamps that never repeat: a signature is accepted once, and a GET's signature covers
    its timestamp and empty body alone."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last = max(int(time.time()), self.last + 1)
        return self.last


_STAMPS = Stamps()


def signed_get(shop: Shop, path: str, credentials: SourceSecrets) -> Any:
    """A GET as a source signs it: its key, and the signature of the empty body."""
    return shop.client.get(
        path,
        headers={
            API_KEY_HEADER: credentials.api_key,
            SIGNATURE_HEADER: signature_header(credentials.hmac_secret, b"", _STAMPS.next()),
        },
    )


def new_verifier(suite: SuiteDriver) -> Actor:
    """A fresh account the admin grants VERIFIER_ROLE (the test's index reads the grant: the
    admin's own was made at deployment, before the test's first block)."""
    verifier = suite.new_account()
    set_verifier(suite, verifier, granted=True)
    return verifier


def set_verifier(suite: SuiteDriver, account: Actor, *, granted: bool) -> TxReceipt:
    """The admin grants or revokes ``account``'s VERIFIER_ROLE."""
    change = suite.registry.functions.grantRole if granted else suite.registry.functions.revokeRole
    return suite.send(change(bytes.fromhex(VERIFIER_ROLE[2:]), account.address), ADMIN)


def file_onchain(
    suite: SuiteDriver, item_hex: str, kind: int, evidence_hash: str, *, by: Actor
) -> int:
    """``ape run ops file-report ITEM --kind K --evidence-hash H``, as ``by`` sends it (a
    verifier, or anyone: the registry takes reports from anyone)."""
    receipt = suite.send(
        suite.registry.functions.fileReport(
            bytes.fromhex(item_hex[2:]), kind, bytes.fromhex(evidence_hash[2:])
        ),
        by.address,
    )
    (event,) = suite.registry.events.ReportFiled().process_receipt(receipt)
    return int(event["args"]["reportId"])


def dismiss(suite: SuiteDriver, report_id: int) -> TxReceipt:
    return suite.send(
        suite.registry.functions.dismissReport(report_id, keccak(text="a genuine item")), ADMIN
    )
