"""Which of the registry's reports speak about an item to the public: those a verifier filed.

``fileReport`` is open to anyone, so a report filed by anyone else says nothing on the item's
page or in its public record (a rival could otherwise put "open reports" on any item for the price
of gas); verifiers still see every report on chain. The rule, once, as SQL for the index's reads;
``chain_facts`` applies the same rule to the logs when it reads the chain itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
)

from app.domain.roles import VERIFIER_ROLE
from app.index.models import ReportOutcomeRow, ReportRow, RoleRow
from app.index.sql import portable


def filed_by_verifier() -> ColumnElement[bool]:
    """The registry's report (``ReportRow``) was filed by an account holding VERIFIER_ROLE then:
    the latest grant or revocation of the role to its reporter strictly before the report is a
    grant. Constants are bound parameters (pages run this as portable SQL)."""
    before = or_(
        RoleRow.block_number < ReportRow.block_number,
        and_(
            RoleRow.block_number == ReportRow.block_number,
            RoleRow.log_index < ReportRow.log_index,
        ),
    )
    latest = (
        select(RoleRow.granted)
        .where(
            RoleRow.role == bindparam("verifier_role", VERIFIER_ROLE),
            RoleRow.account == ReportRow.reporter,
            before,
        )
        .order_by(RoleRow.block_number.desc(), RoleRow.log_index.desc())
        .limit(1)
        .scalar_subquery()
    )
    return latest == bindparam("granted", True, type_=Boolean)


def open_verifier_reports(item_column: str) -> tuple[str, dict[str, Any]]:
    """A scalar subquery counting the item's (``item_column`` of the enclosing query) open
    reports that a verifier filed, as portable SQL, and the constants it binds."""
    count = select(func.count()).where(
        ReportRow.item_id == literal_column(item_column),
        ~exists().where(ReportOutcomeRow.report_id == ReportRow.report_id),
        filed_by_verifier(),
    )
    sql, constants = portable(count)
    return f"({sql})", constants
