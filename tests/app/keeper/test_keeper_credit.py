"""The keeper's credit duties on Anvil: the refund of a cancelled credit-paid order settled onto
the borrower's line, once; a line past its due time accrued by the keeper at the late-fee stage
(past the grace: late fee charged) and at the default stage (past the default period: defaulted),
each once, and nothing before; a line repaid in full is no candidate, whatever its old due time."""

from __future__ import annotations

import pytest

from app.domain.vocab import LineStatus
from app.keeper.credit_duties import credit_duties
from app.settings import KeeperDuty
from tests.app.index.actors import SuiteDriver
from tests.app.keeper.conftest import DAY, ServiceFactory
from tests.app.keeper.credit import USD, Credit

pytestmark = pytest.mark.anvil

# Band 1 of the default policy: term 30 days, grace 5, default 60 days after the due time.
TERM, GRACE, DEFAULT_AFTER = 30 * DAY, 5 * DAY, 60 * DAY


def _jump(driver: SuiteDriver, seconds: int) -> None:
    driver.rpc("evm_increaseTime", seconds)
    driver.mine()


@pytest.fixture(scope="module")
def credit(driver: SuiteDriver) -> Credit:
    found = Credit(driver)
    found.fund_pool()
    return found


def test_the_refund_of_a_cancelled_credit_order_is_settled_onto_the_line_once(
    keeper_service: ServiceFactory, driver: SuiteDriver, credit: Credit, start_block: int
) -> None:
    merchant, borrower = driver.new_merchant(), driver.new_account()
    service = keeper_service()
    credit.open_line(borrower)
    order = credit.order(borrower, merchant, 100 * USD)
    assert credit.line(borrower)[6] == 100 * USD  # principal
    assert service.keep().queued == []

    driver.cancel(merchant, order)  # the escrow credits CreditLines, the payer
    assert service.keep().queued == [f"settle_refund:{order.hex}:1"]
    service.relay_in_one_block()
    [settled] = credit.events("CreditRefundSettled", start_block, orderId=order.order_id)
    assert settled.args.refund == 100 * USD and settled.args.borrower == borrower.address
    # The refund repays the line: interest first, so the seconds of interest between the draw and
    # the settlement may leave a few base units of principal.
    assert credit.line(borrower)[6] <= 100
    assert credit.lines.functions.refundOf(order.terms).call() == 0

    for _ in range(2):
        assert service.keep().queued == []
        service.relay_in_one_block()
    assert len(credit.events("CreditRefundSettled", start_block, orderId=order.order_id)) == 1
    [done] = service.client.get("/v1/keeper").json()["done"]
    assert (done["duty"], done["order_id"], done["function"]) == (
        "settle_refund",
        order.hex,
        "settleRefund",
    )
    assert done["tx_hash"] == settled.transactionHash.to_0x_hex()


def test_a_line_past_due_is_accrued_at_the_late_fee_and_at_the_default_stage_once_each(
    keeper_service: ServiceFactory, driver: SuiteDriver, credit: Credit, start_block: int
) -> None:
    merchant, borrower = driver.new_merchant(), driver.new_account()
    # Accruals alone: the order's own deadlines (its refund past ship-by) are not this test's.
    service = keeper_service(keeper_duties={KeeperDuty.ACCRUE})
    credit.open_line(borrower)
    credit.order(borrower, merchant, 50 * USD)
    due_at = int(credit.line(borrower)[9])
    accrue = f"accrue:{borrower.address}:{due_at}"

    # Past due, inside the grace: accruing would charge nothing, so nothing is queued.
    _jump(driver, TERM + GRACE - DAY)
    assert service.keep().queued == []
    # Past the grace: the late fee.
    _jump(driver, 2 * DAY)
    assert service.keep().queued == [f"{accrue}:late_fee"]
    service.relay_in_one_block()
    [fee] = credit.events("CreditLateFeeCharged", start_block, borrower=borrower.address)
    assert fee.args.dueAt == due_at and fee.args.fee == 15 * USD
    assert credit.events("CreditLineDefaulted", start_block, borrower=borrower.address) == []
    for _ in range(2):
        assert service.keep().queued == []
        service.relay_in_one_block()

    # Past the default period: the default.
    _jump(driver, DEFAULT_AFTER - GRACE - 2 * DAY)
    assert service.keep().queued == []  # its default period runs from the due time
    _jump(driver, 2 * DAY)
    assert service.keep().queued == [f"{accrue}:default"]
    service.relay_in_one_block()
    [defaulted] = credit.events("CreditLineDefaulted", start_block, borrower=borrower.address)
    assert LineStatus(credit.line(borrower)[0]) is LineStatus.DEFAULTED
    for _ in range(2):
        assert service.keep().queued == []
        service.relay_in_one_block()
    assert len(credit.events("CreditLateFeeCharged", start_block, borrower=borrower.address)) == 1

    answer = service.client.get("/v1/keeper").json()
    done = sorted((d["stage"], d["borrower"], d["function"]) for d in answer["done"])
    assert done == [
        ("default", borrower.address, "accrue"),
        ("late_fee", borrower.address, "accrue"),
    ]
    assert defaulted.transactionHash.to_0x_hex() in {d["tx_hash"] for d in answer["done"]}
    metrics = service.client.get("/metrics").text
    assert 'trustmall_keeper_duties{state="confirmed"} 2.0' in metrics


def test_a_line_repaid_in_full_is_no_accrual_candidate_and_a_partly_repaid_one_still_is(
    keeper_service: ServiceFactory, driver: SuiteDriver, credit: Credit
) -> None:
    """Every past borrower would otherwise be read from the chain each cycle, for good."""
    merchant, paid, owing = driver.new_merchant(), driver.new_account(), driver.new_account()
    service = keeper_service(keeper_duties={KeeperDuty.ACCRUE})
    for borrower in (paid, owing):
        credit.open_line(borrower)
        credit.order(borrower, merchant, 50 * USD)
    credit.repay(paid, 51 * USD)  # the principal and its seconds of interest
    credit.repay(owing, 10 * USD)
    credit.order(paid, merchant, 20 * USD)
    credit.repay(paid, 21 * USD)  # a second cycle, also paid off
    assert credit.line(paid)[6] == 0 and credit.line(owing)[6] > 0  # principal
    service.index()
    with service.services.database.sessions() as session:
        candidates = {d.subject for d in credit_duties(session, {KeeperDuty.ACCRUE})}
    assert owing.address in candidates
    assert paid.address not in candidates
