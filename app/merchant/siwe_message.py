"""EIP-4361 (Sign-In with Ethereum) messages: parsed by the ABNF of the EIP, written here (a
small grammar) rather than taken from the ``siwe`` package, which the service does not install.

    {domain} wants you to sign in with your Ethereum account:
    {address}

    {statement}

    URI: {uri}
    Version: 1
    Chain ID: {chain id}
    Nonce: {nonce}
    Issued At: {RFC 3339 date-time}
    Expiration Time: {RFC 3339 date-time}      (optional in the EIP; required here)
    Not Before: {RFC 3339 date-time}           (optional)
    Request ID: {text}                         (optional)
    Resources:                                 (optional)
    - {uri}

The statement line and the blank line after it are left out when there is no statement.
"""

from __future__ import annotations

import re
from datetime import datetime

from eth_utils.address import is_checksum_address
from pydantic import BaseModel, Field

from app.domain.errors import TrustMallError

PREAMBLE = " wants you to sign in with your Ethereum account:"
# The EIP's optional "scheme://" before the domain, and its domain (an RFC 3986 authority).
HEADER = re.compile(r"^(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://)?(?P<domain>[^\s/?#]+)$")
NONCE = re.compile(r"^[a-zA-Z0-9]{8,}$")
# RFC 3339 date-time, as the EIP requires (a zone is required: "Z" or an offset).
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
FIELDS = ("URI", "Version", "Chain ID", "Nonce", "Issued At")
OPTIONAL = ("Expiration Time", "Not Before", "Request ID")
MAX_MESSAGE_CHARS = 4_096


class SiweMessageInvalid(TrustMallError, ValueError):
    """The text is not an EIP-4361 message."""


class SiweMessage(BaseModel):
    """The fields of a Sign-In with Ethereum message."""

    scheme: str | None = None
    domain: str
    address: str
    statement: str | None = None
    uri: str
    version: str
    chain_id: int = Field(ge=1)
    nonce: str
    issued_at: datetime
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: list[str] = Field(default_factory=list)


def parse_siwe_message(text: str) -> SiweMessage:
    """The message's fields; ``SiweMessageInvalid`` saying what is wrong otherwise."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise SiweMessageInvalid(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    lines = text.split("\n")
    if len(lines) < 8 or not lines[0].endswith(PREAMBLE):
        raise SiweMessageInvalid(f"the first line must end with {PREAMBLE.strip()!r}")
    header = HEADER.match(lines[0].removesuffix(PREAMBLE))
    if header is None:
        raise SiweMessageInvalid("the first line does not start with a domain")
    account = lines[1]
    if not is_checksum_address(account):
        raise SiweMessageInvalid("the second line must be an EIP-55 checksummed address")
    if lines[2] != "":
        raise SiweMessageInvalid("the address must be followed by an empty line")
    statement: str | None = None
    rest = lines[3:]
    if rest[0] != "":
        statement, blank, *rest = rest
        if blank != "":
            raise SiweMessageInvalid("the statement must be one line followed by an empty line")
    else:
        rest = rest[1:]
    values, resources = _fields(rest)
    return SiweMessage(
        scheme=header.group("scheme"),
        domain=header.group("domain"),
        address=account,
        statement=statement,
        uri=values["URI"],
        version=values["Version"],
        chain_id=_chain_id(values["Chain ID"]),
        nonce=_nonce(values["Nonce"]),
        issued_at=_date_time("Issued At", values["Issued At"]),
        expiration_time=_optional_time("Expiration Time", values.get("Expiration Time")),
        not_before=_optional_time("Not Before", values.get("Not Before")),
        request_id=values.get("Request ID"),
        resources=resources,
    )


def _fields(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """``Name: value`` lines in the EIP's order, then the optional resources list."""
    values: dict[str, str] = {}
    order = [*FIELDS, *OPTIONAL]
    position = 0
    while lines and lines[0] != "Resources:":
        line = lines.pop(0)
        name, separator, value = line.partition(": ")
        if not separator or name not in order[position:]:
            raise SiweMessageInvalid(f"unexpected line {line[:60]!r}")
        if order.index(name) >= len(FIELDS) and any(f not in values for f in FIELDS):
            raise SiweMessageInvalid(f"{name} comes before a required field")
        position = order.index(name) + 1
        values[name] = value
    missing = [name for name in FIELDS if name not in values]
    if missing:
        raise SiweMessageInvalid(f"missing field(s): {', '.join(missing)}")
    resources: list[str] = []
    if lines:
        for line in lines[1:]:
            if not line.startswith("- ") or len(line) < 3:
                raise SiweMessageInvalid("each resource must be a line '- URI'")
            resources.append(line[2:])
    return values, resources


def _chain_id(value: str) -> int:
    if not value.isascii() or not value.isdigit() or value.startswith("0"):
        raise SiweMessageInvalid("Chain ID must be a positive decimal number")
    return int(value)


def _nonce(value: str) -> str:
    if not NONCE.match(value):
        raise SiweMessageInvalid("Nonce must be at least 8 letters or digits")
    return value


def _date_time(name: str, value: str) -> datetime:
    if not DATE_TIME.match(value):
        raise SiweMessageInvalid(f"{name} must be an RFC 3339 date-time with a time zone")
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise SiweMessageInvalid(f"{name} is not a valid date-time") from None


def _optional_time(name: str, value: str | None) -> datetime | None:
    return None if value is None else _date_time(name, value)


def format_siwe_message(message: SiweMessage) -> str:
    """The text of ``message``, as a wallet shows and signs it (the inverse of the parser)."""
    scheme = f"{message.scheme}://" if message.scheme else ""
    lines = [f"{scheme}{message.domain}{PREAMBLE}", message.address, ""]
    lines += [message.statement, ""] if message.statement is not None else [""]
    lines += [
        f"URI: {message.uri}",
        f"Version: {message.version}",
        f"Chain ID: {message.chain_id}",
        f"Nonce: {message.nonce}",
        f"Issued At: {_iso(message.issued_at)}",
    ]
    if message.expiration_time is not None:
        lines.append(f"Expiration Time: {_iso(message.expiration_time)}")
    if message.not_before is not None:
        lines.append(f"Not Before: {_iso(message.not_before)}")
    if message.request_id is not None:
        lines.append(f"Request ID: {message.request_id}")
    if message.resources:
        lines += ["Resources:", *(f"- {uri}" for uri in message.resources)]
    return "\n".join(lines)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
