"""Fixtures for the forwarder tests: the suite's ERC-2771 forwarder in front of the registry and an
escrow built on it, a relayer that pays for others' requests, a merchant with no ETH at all, and a
signer of forward requests for any test account (Ape test accounts carry their private keys).

The registry (`registry`, tests/contracts/conftest.py) trusts the session's `forwarder`; the
escrow fixtures are the escrow package's own, reused so the forwarded orders are the same orders
the escrow's tests open directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest

from tests.contracts.escrow import conftest as escrow_package
from tests.contracts.escrow.conftest import Asset
from tests.contracts.forwarder.calls import refusal_as_direct, refusal_as_forwarded
from tests.contracts.forwarder.forward_requests import (
    DEFAULT_GAS,
    Domain,
    ForwardRequest,
    SignedRequest,
)
from tests.contracts.registry.helpers import ItemKey, h

ETHER = 10**18
HOUR = 3_600
SELFDESTRUCT_WARNING = "SELFDESTRUCT opcode present in computation"

RequestSigner = Callable[..., SignedRequest]

# The escrow package's fixtures, registered here too: the forwarded calls meet exactly the escrow
# those tests exercise, not a second set-up of it.
arbiter = escrow_package.arbiter
buyer = escrow_package.buyer
escrow = escrow_package.escrow
fee_recipient = escrow_package.fee_recipient
funder = escrow_package.funder
make_terms = escrow_package.make_terms
open_order = escrow_package.open_order
stable = escrow_package.stable


def pytest_configure(config: pytest.Config) -> None:
    # py-evm warns whenever SELFDESTRUCT runs, and eth-tester runs `simulable_forwarder`'s again
    # each time a snapshot is restored: the warning says nothing about the code under test.
    config.addinivalue_line("filterwarnings", f"ignore:{SELFDESTRUCT_WARNING}:DeprecationWarning")


@pytest.fixture
def asset(stable: Any, chain: Any) -> Asset:
    """Orders are paid in the stablecoin: a forwarded `open` then moves the buyer's tokens, never
    the relayer's ETH (a request's value is the relayer's own money)."""
    return Asset("stable6", str(stable.address), 250 * 10**6, stable, chain)


@pytest.fixture(scope="session")
def relayer(accounts: Any, admin: Any) -> Any:
    """Sends others' signed requests and pays their gas; holds no role and is no merchant."""
    account = accounts.generate_test_account()
    admin.transfer(account, 100 * ETHER)
    return account


@pytest.fixture(scope="session")
def walletless_merchant(accounts: Any, registry: Any, verifier: Any) -> Any:
    """An approved merchant whose address never held ETH: it can only act by signing."""
    account = accounts.generate_test_account()
    registry.approveMerchant(account, "Walletless Shop", h("walletless identity"), sender=verifier)
    return account


@pytest.fixture(scope="session")
def simulable_forwarder(forwarder: Any, admin: Any, chain: Any) -> Any:
    """The forwarder, given 1 ETH so that the in-process EVM accepts an `eth_call` from its
    address (it refuses a caller that cannot cover the call's gas; a real node does not). The
    forwarder never reads its own balance. It has no `receive`, so the ether comes from a
    contract that self-destructs to it in its constructor: PUSH20 forwarder, SELFDESTRUCT."""
    code = "0x73" + str(forwarder.address)[2:].lower() + "ff"
    web3 = chain.provider.web3
    sent = web3.eth.send_transaction({"from": admin.address, "data": code, "value": ETHER})
    web3.eth.wait_for_transaction_receipt(sent)
    assert chain.get_balance(forwarder.address) == ETHER
    return forwarder


@pytest.fixture
def sign(forwarder: Any, chain: Any) -> RequestSigner:
    """Builds and signs a forward request from `signer` (an Ape test account) to `target` with
    `data`: by default the signer's next nonce, an hour to run, DEFAULT_GAS, no value, the
    forwarder's own domain. `nonce_ahead` signs for a later nonce (requests queued in order)."""

    def make(
        signer: Any,
        target: Any,
        data: bytes,
        *,
        nonce_ahead: int = 0,
        deadline: int | None = None,
        gas: int = DEFAULT_GAS,
        value: int = 0,
        domain: Domain | None = None,
    ) -> SignedRequest:
        request = ForwardRequest(
            sender=str(signer.address),
            to=str(getattr(target, "address", target)),
            data=bytes(data),
            nonce=int(forwarder.nonces(signer)) + nonce_ahead,
            deadline=chain.pending_timestamp + HOUR if deadline is None else deadline,
            gas=gas,
            value=value,
        )
        return request.signed(signer.private_key, domain or Domain.of(forwarder))

    return make


def item_inputs(keys: list[ItemKey]) -> list[tuple[Any, ...]]:
    """IProductRegistry.ItemInput tuples of `keys`, each with metadata of its own."""
    return [(key.as_abi(), h(f"metadata {key.serial}"), f"ipfs://{key.serial}") for key in keys]


@pytest.fixture
def expect_refused_alike(
    simulable_forwarder: Any, relayer: Any, chain: Any
) -> Callable[[SignedRequest, bytes], None]:
    """Asserts that the target refuses `signed`'s call with `expected` when the forwarder makes
    it, and when the signer makes it directly (a funded signer); that the forwarder's `execute`
    then reverts (with `FailedCall`: OpenZeppelin's forwarder drops the target's reason); and that
    the signer's nonce is unspent, so nothing of the request happened."""
    forwarder = simulable_forwarder

    def check(signed: SignedRequest, expected: bytes) -> None:
        assert refusal_as_forwarded(chain, forwarder, signed) == expected
        if chain.get_balance(signed.request.sender) > 0:
            assert refusal_as_direct(chain, signed) == expected
        nonce = int(forwarder.nonces(signed.request.sender))
        with ape.reverts(forwarder.FailedCall):
            forwarder.execute(signed.as_abi(), sender=relayer)
        assert forwarder.nonces(signed.request.sender) == nonce

    return check
