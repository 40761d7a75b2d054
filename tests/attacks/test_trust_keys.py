"""Attacks 7 and 8 of the threat model in SECURITY.md (one key did too much; the lesser ones),
which succeeded against the contracts before the change (2be83e2, commit b6156b2): each test
asserts the safe outcome, naming the custom error where the contracts now refuse a step. The
API-specific steps are in tests/attacks/trust_steps.py. The two-step admin handover with its delay
is played here too, on every contract of the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import ape
import pytest

from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import LogisticsKind
from scripts._lib.credit import default_policy
from tests.attacks.conftest import (
    ATTESTER,
    CARRIER,
    COSIGNER,
    QUORUM,
    Actors,
    Suite,
    attest,
    error_data,
    logistics,
    refusal,
)
from tests.attacks.trust_steps import (
    ADMIN_ROLE,
    Credit,
    accept_settlement,
    advance,
    approve_line,
    confirm_receipt,
    credit_terms,
    deploy_credit,
    deploy_with_attesters,
    deposit,
    draw_to_order,
    fresh_account,
    grant_admin,
    offer_settlement,
    open_order,
    pause_escrow,
    report_delivered,
    ship_order,
    start_of_cap_window,
    status_of,
    unpause_escrow,
    withdraw_offer,
)
from tests.contracts.escrow.helpers import OrderStatus, Terms

ADMIN_DELAY = 2 * 86_400


@pytest.fixture
def credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    return deploy_credit(project_, suite, actors)


def _contracts(suite: Suite) -> tuple[Any, ...]:
    return (suite.registry, suite.escrow, suite.verifier, suite.vault, suite.lines)


# ================================================================== 7. keys


def test_attack7_pausing_the_escrow_stops_logistics_reports(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The admin pauses the escrow in an incident, and the oracle key keeps moving orders to
    Delivered (and so toward release): reports stop while the escrow is paused."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    pause_escrow(suite, actors)
    try:
        refused = refusal(lambda: report_delivered(suite, actors, terms))
    finally:
        unpause_escrow(suite, actors)

    assert refused == error_data(suite.escrow, "EnforcedPause")
    assert status_of(suite, terms) == OrderStatus.SHIPPED


def test_attack7_a_delivery_report_needs_the_carrier_assigned_to_the_order(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """No carrier was ever assigned to this order, yet the oracle key reports it Delivered (any
    carrier key of the service could deliver any order): the report is skipped, with the
    reason."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)

    rejected = report_delivered(suite, actors, terms)

    assert rejected == {
        terms.order_id: error_data(suite.escrow, "EscrowWrongCarrier", terms.order_id, CARRIER, 0)
    }
    assert status_of(suite, terms) == OrderStatus.FUNDED


def test_attack7_default_admin_cannot_be_handed_over_in_one_step(
    suite: Suite, actors: Actors
) -> None:
    """`grantRole(DEFAULT_ADMIN_ROLE, x)` then `renounceRole` handed a whole contract to x in two
    instant transactions (a typo or a stolen key was final): every direct grant is refused."""
    newcomer = actors.stranger.address
    refused = {}
    for contract in _contracts(suite):
        refused[contract.contract_type.name] = refusal(
            partial(grant_admin, contract, actors, newcomer)
        )
        assert not contract.hasRole(ADMIN_ROLE, newcomer)

    one_step = error_data(suite.registry, "AccessControlEnforcedDefaultAdminRules")
    assert refused == dict.fromkeys(refused, one_step)


def test_attack7_new_credit_per_period_is_capped(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Many approved borrowers (stolen attester keys can approve any number) draw their full
    limits in one period, to lend out the whole pool at once: new credit per window is capped
    by the policy (50,000 a day by default), whatever the pool holds."""
    policy = default_policy(6)
    cap, limit = policy.periodCap, policy.tiers[3].limit
    pool = 2 * cap
    deposit(credit, actors, fresh_account(actors), pool)
    window = start_of_cap_window(credit, provider)
    drawn, refused = 0, None
    for _ in range(pool // limit):
        borrower = fresh_account(actors)
        approve_line(suite, credit, provider, borrower, band=3)
        terms = credit_terms(suite, terms_for, credit, borrower, actors.merchant, limit)
        refused = refusal(partial(draw_to_order, credit, terms, borrower))
        if refused is not None:
            break
        drawn += limit

    assert drawn == cap < pool, f"{drawn} of new credit drawn in one period"
    assert refused == error_data(
        credit.lines, "CreditPeriodCapReached", cap, limit, cap, window + policy.capPeriod
    )


def test_attack7_a_fresh_deployment_with_two_attesters_needs_two_signatures(
    provider: Any, actors: Actors, tmp_path: Path
) -> None:
    """`ape run deploy --dev-stablecoin --attester A --attester B` (no --quorum) made a verifier
    whose quorum was 1: either bureau's key alone approved any credit line. The deployer's
    default quorum is 2."""
    bureaus = tuple(ape.accounts.test_accounts.generate_test_account().address for _ in range(2))

    verifier = deploy_with_attesters(provider, actors, tmp_path, bureaus)

    assert verifier is not None
    assert int(verifier.quorum()) == 2
    assert all(verifier.isAttester(bureau) for bureau in bureaus)


def test_attack7_one_attester_key_alone_cannot_approve_a_credit_line(
    suite: Suite, actors: Actors, credit: Credit, provider: Any
) -> None:
    """A thief of one attester key (the service's, or the bureau's) signs an attestation for a
    borrower of its own: the verifier's quorum is 2."""
    borrower = fresh_account(actors)
    assert int(suite.verifier.quorum()) == QUORUM == 2
    for key in (ATTESTER, COSIGNER):
        attestation, signatures = attest(suite, provider, borrower.address, signers=(key,))

        refused = refusal(
            lambda a=attestation, s=signatures: credit.lines.applyForCredit(a, s, sender=borrower)
        )

        assert refused == error_data(suite.verifier, "AttestationQuorumNotMet", 1, QUORUM)
    assert credit.lines.lineOf(borrower.address).status == 0


def test_attack7_a_stolen_logistics_oracle_key_cannot_report_on_an_order_of_another_carrier(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """A carrier's credentials (or the oracle key relaying them under that carrier's number)
    report delivered, picked up or broken an order the merchant handed to another carrier: each
    report is skipped with EscrowWrongCarrier, and the order is untouched."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    other = CARRIER + 1
    updates = [logistics(terms.order_id, kind, other) for kind in LogisticsKind]

    receipt = suite.escrow.reportLogistics(updates, sender=actors.logistics)

    wrong = error_data(suite.escrow, "EscrowWrongCarrier", terms.order_id, other, CARRIER)
    rejected = receipt.events.filter(suite.escrow.LogisticsUpdateRejected)
    assert [(int(e.kind), int(e.carrier), bytes(e.reason)) for e in rejected] == [
        (int(kind), other, wrong) for kind in LogisticsKind
    ]
    order = suite.escrow.orderOf(terms.order_id)
    assert (order.status, order.deliveredItems) == (OrderStatus.SHIPPED, 0)


def test_admin_handover_needs_two_steps_and_the_delay(
    project_: Any, actors: Actors, provider: Any
) -> None:
    """On every contract of the suite the admin role moves only in two steps: the admin begins
    the handover, the newcomer's acceptance is refused until the 2-day delay has passed, then it
    is accepted and the old admin holds nothing."""
    admin, newcomer = actors.admin, actors.stranger
    registry = project_.ProductRegistry.deploy(admin.address, ZERO_ADDRESS, sender=admin)
    escrow = project_.OrderEscrow.deploy(admin.address, registry, admin.address, sender=admin)
    verifier = project_.AttestationVerifier.deploy(
        admin.address, [ATTESTER.address], 1, sender=admin
    )
    token = project_.DevStablecoin.deploy(admin.address, sender=admin)
    vault = project_.CreditVault.deploy(token, admin.address, sender=admin)
    lines = project_.CreditLines.deploy(admin.address, verifier, vault, escrow, sender=admin)
    contracts = (registry, escrow, verifier, vault, lines)
    schedules = []
    for contract in contracts:
        assert int(contract.defaultAdminDelay()) == ADMIN_DELAY
        receipt = contract.beginDefaultAdminTransfer(newcomer.address, sender=admin)
        [started] = receipt.events.filter(contract.DefaultAdminTransferScheduled)
        schedules.append(int(started.acceptSchedule))

    too_early = [
        refusal(lambda c=c: c.acceptDefaultAdminTransfer(sender=newcomer)) for c in contracts
    ]
    advance(provider, ADMIN_DELAY + 1)  # the schedule must have passed, not be now
    for contract in contracts:
        contract.acceptDefaultAdminTransfer(sender=newcomer)

    assert too_early == [
        error_data(c, "AccessControlEnforcedDefaultAdminDelay", s)
        for c, s in zip(contracts, schedules, strict=True)
    ]
    assert [str(c.defaultAdmin()) for c in contracts] == [newcomer.address] * len(contracts)
    assert not any(c.hasRole(ADMIN_ROLE, admin.address) for c in contracts)


# ================================================================== 8. lesser


def test_attack8_one_stale_logistics_update_does_not_void_the_rest_of_the_batch(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The oracle reports three deliveries; one order was already confirmed by its buyer, so its
    report is stale: it alone is skipped (with the reason), the two good reports are applied."""
    orders = [terms_for() for _ in range(3)]
    for terms in orders:
        open_order(suite, terms, actors.buyer)
        ship_order(suite, terms, actors.merchant)
    first, stale, last = orders
    confirm_receipt(suite, stale, actors.buyer)

    rejected = report_delivered(suite, actors, first, stale, last)

    assert rejected == {
        stale.order_id: error_data(
            suite.escrow, "EscrowInvalidStatus", stale.order_id, OrderStatus.RELEASED
        )
    }
    statuses = [status_of(suite, t) for t in (first, last)]
    assert statuses == [OrderStatus.DELIVERED] * 2, f"the good reports were lost: {statuses}"


def test_attack8_a_settlement_offer_can_be_withdrawn(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """A merchant's settlement offer stood forever (the buyer could accept it whenever it suited
    it): the merchant withdraws it, and the buyer's acceptance is refused."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    offer_settlement(suite, terms, 5_000, actors.merchant)

    withdrawn = withdraw_offer(suite, terms, actors.merchant)
    refused = refusal(lambda: accept_settlement(suite, terms, 5_000, actors.buyer))

    assert withdrawn
    assert refused == error_data(suite.escrow, "EscrowNoMatchingOffer", terms.order_id, 5_000)
    assert status_of(suite, terms) == OrderStatus.SHIPPED


def test_attack8_a_settlement_offer_expires(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms], provider: Any
) -> None:
    """An offer the merchant forgot about is accepted a month later: offers carry an expiry."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    offer_settlement(suite, terms, 5_000, actors.merchant)
    expires_at = int(suite.escrow.offerOf(terms.order_id).expiresAt)
    advance(provider, 30 * 86_400)

    refused = refusal(lambda: accept_settlement(suite, terms, 5_000, actors.buyer))

    assert refused == error_data(suite.escrow, "EscrowOfferExpired", terms.order_id, expires_at)


def test_attack8_a_refused_delivery_report_changes_nothing(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The carrier reports delivered an item the order does not have, before any pickup report:
    the report is refused, and refused means skipped. It used to record the pickup anyway (the
    order went Shipped, so a wallet order never shipped could no longer be refunded after its
    deliver-by, and was released to the merchant instead)."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    suite.escrow.assignCarrier(terms.as_abi(), CARRIER, sender=actors.merchant)
    bad = logistics(terms.order_id, LogisticsKind.DELIVERED, items=0b10)

    receipt = suite.escrow.reportLogistics([bad], sender=actors.logistics)

    [rejected] = receipt.events.filter(suite.escrow.LogisticsUpdateRejected)
    assert bytes(rejected.reason) == error_data(
        suite.escrow, "EscrowInvalidItems", terms.order_id, 0b10
    )
    assert receipt.events.filter(suite.escrow.OrderShipped) == []
    order = suite.escrow.orderOf(terms.order_id)
    assert (order.status, order.deliveredItems) == (OrderStatus.FUNDED, 0)
