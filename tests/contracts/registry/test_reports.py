"""Reports: anyone files, a verifier confirms (the item is flagged) or dismisses."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.registry.helpers import (
    ZERO32,
    ZERO_ADDRESS,
    ItemState,
    ReportKind,
    ReportStatus,
    Verdict,
    h,
)


@pytest.mark.parametrize("kind", list(ReportKind))
def test_file_report_stores_open_report_and_emits_event(
    registry: Any, shopper: Any, register_item: Any, kind: ReportKind
) -> None:
    item_id = register_item()

    tx = registry.fileReport(item_id, kind, h("evidence"), sender=shopper)

    assert tx.events == [
        registry.ReportFiled(
            reportId=1, itemId=item_id, reporter=shopper, kind=kind, evidenceHash=h("evidence")
        )
    ]
    report = registry.reportOf(1)
    assert report.itemId == item_id
    assert report.reporter == shopper.address
    assert report.filedAt == tx.timestamp
    assert report.kind == kind
    assert report.status == ReportStatus.OPEN
    assert report.evidenceHash == h("evidence")
    assert registry.reportCount() == 1


def test_report_ids_run_from_one_in_filing_order(
    registry: Any, shopper: Any, merchant: Any, register_item: Any, file_report: Any
) -> None:
    item_id = register_item()

    ids = [file_report(item_id), file_report(item_id, sender=merchant), file_report(item_id)]

    assert ids == [1, 2, 3]
    assert registry.reportCount() == 3
    assert registry.reportOf(2).reporter == merchant.address


def test_file_report_accepts_an_unregistered_id_and_leaves_it_unknown(
    registry: Any, file_report: Any
) -> None:
    report_id = file_report(h("some batch item"))

    assert registry.reportOf(report_id).status == ReportStatus.OPEN
    assert registry.verify(h("some batch item")) == Verdict.UNKNOWN


def test_file_report_reverts_for_zero_item_id(registry: Any, shopper: Any) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.fileReport(ZERO32, ReportKind.COUNTERFEIT, h("evidence"), sender=shopper)


def test_file_report_reverts_for_zero_evidence_hash(
    registry: Any, shopper: Any, register_item: Any
) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.fileReport(register_item(), ReportKind.PROBLEM, ZERO32, sender=shopper)


def test_report_of_unknown_id_is_empty(registry: Any) -> None:
    report = registry.reportOf(99)

    assert report.status == ReportStatus.NONE
    assert report.reporter == ZERO_ADDRESS
    assert report.itemId == ZERO32


def test_confirm_report_flags_item_and_emits_events(
    registry: Any, verifier: Any, register_item: Any, file_report: Any
) -> None:
    item_id = register_item()
    report_id = file_report(item_id)
    updated_at = registry.itemOf(item_id).updatedAt

    tx = registry.confirmReport(report_id, h("finding"), sender=verifier)

    assert tx.events == [
        registry.ReportConfirmed(
            reportId=report_id, itemId=item_id, findingHash=h("finding"), verifier=verifier
        ),
        registry.ItemFlagged(itemId=item_id, reportId=report_id),
    ]
    assert registry.reportOf(report_id).status == ReportStatus.CONFIRMED
    item = registry.itemOf(item_id)
    assert item.state == ItemState.FLAGGED
    assert item.updatedAt == updated_at
    assert registry.verify(item_id) == Verdict.FLAGGED


def test_second_confirmed_report_does_not_flag_again(
    registry: Any, verifier: Any, register_item: Any, file_report: Any, confirmed_flag: Any
) -> None:
    item_id = register_item()
    confirmed_flag(item_id)
    report_id = file_report(item_id, kind=ReportKind.PROBLEM)

    tx = registry.confirmReport(report_id, h("finding 2"), sender=verifier)

    assert tx.events == [
        registry.ReportConfirmed(
            reportId=report_id, itemId=item_id, findingHash=h("finding 2"), verifier=verifier
        )
    ]
    assert registry.verify(item_id) == Verdict.FLAGGED


def test_confirm_report_on_recalled_item_keeps_it_recalled(
    registry: Any, verifier: Any, merchant: Any, register_item: Any, file_report: Any
) -> None:
    item_id = register_item()
    report_id = file_report(item_id)
    registry.recallItem(item_id, h("recall"), sender=merchant)

    tx = registry.confirmReport(report_id, h("finding"), sender=verifier)

    assert tx.events == [
        registry.ReportConfirmed(
            reportId=report_id, itemId=item_id, findingHash=h("finding"), verifier=verifier
        )
    ]
    assert registry.itemOf(item_id).state == ItemState.RECALLED
    assert registry.verify(item_id) == Verdict.RECALLED


def test_confirm_report_on_unactivated_batch_item_flags_it(
    registry: Any, register_batch: Any, confirmed_flag: Any
) -> None:
    batch = register_batch(3)
    leaf = batch.leaf(1)

    confirmed_flag(leaf.item_id)

    item = registry.itemOf(leaf.item_id)
    assert item.merchant == ZERO_ADDRESS
    assert item.state == ItemState.FLAGGED
    assert registry.verify(leaf.item_id) == Verdict.FLAGGED
    assert (
        registry.verifyBatchItem(
            batch.root, batch.key(1).as_abi(), leaf.metadata_hash, batch.proof(1)
        )
        == Verdict.FLAGGED
    )


def test_dismiss_report_closes_it_and_leaves_item_authentic(
    registry: Any, verifier: Any, register_item: Any, file_report: Any
) -> None:
    item_id = register_item()
    report_id = file_report(item_id)

    tx = registry.dismissReport(report_id, h("no finding"), sender=verifier)

    assert tx.events == [
        registry.ReportDismissed(
            reportId=report_id, itemId=item_id, findingHash=h("no finding"), verifier=verifier
        )
    ]
    assert registry.reportOf(report_id).status == ReportStatus.DISMISSED
    assert registry.itemOf(item_id).state == ItemState.ACTIVE
    assert registry.verify(item_id) == Verdict.AUTHENTIC


@pytest.mark.parametrize("report_id", [0, 2, 99])
@pytest.mark.parametrize("action", ["confirmReport", "dismissReport"])
def test_closing_reverts_for_unknown_report(
    registry: Any, verifier: Any, register_item: Any, file_report: Any, report_id: int, action: str
) -> None:
    file_report(register_item())

    with ape.reverts(registry.RegistryReportUnknown, reportId=report_id):
        getattr(registry, action)(report_id, h("finding"), sender=verifier)


@pytest.mark.parametrize(
    ("first", "closed_status"),
    [("confirmReport", ReportStatus.CONFIRMED), ("dismissReport", ReportStatus.DISMISSED)],
)
@pytest.mark.parametrize("second", ["confirmReport", "dismissReport"])
def test_closing_reverts_for_closed_report(
    registry: Any,
    verifier: Any,
    register_item: Any,
    file_report: Any,
    first: str,
    closed_status: ReportStatus,
    second: str,
) -> None:
    report_id = file_report(register_item())
    getattr(registry, first)(report_id, h("finding"), sender=verifier)

    with ape.reverts(registry.RegistryReportClosed, reportId=report_id, status=closed_status):
        getattr(registry, second)(report_id, h("finding"), sender=verifier)
