"""What a relay cycle decides and reports: the plan for one candidate batch, the cycle's report,
and the refusals that hold a whole kind of record back."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from app.domain.errors import TrustMallError
from app.outbox.calls import RowView

# Refusals that say nothing about a record: the oracle lost its role, a contract is paused. The
# records wait (``hold_seconds``) instead of failing.
GLOBAL_REFUSALS = frozenset(
    {
        "AccessControlUnauthorizedAccount",
        "EnforcedPause",
        "EscrowEmptyBatch",
        "RegistryEmptyInput",
        "RegistryMerchantNotActive",
    }
)
WAITING_FOR_DEPTH = "waiting for an earlier send's depth"


class HeldBack(TrustMallError, RuntimeError):
    """A batch the contract refuses for a reason no record is to blame for."""


@dataclass
class CycleReport:
    """What one relay cycle did."""

    sent_transactions: int = 0
    sent_records: int = 0
    confirmed: int = 0
    requeued: int = 0
    failed: int = 0
    open_transactions: int = 0
    # Transactions the node refused for what they are, whose nonce a no-op took this cycle.
    cancelled_transactions: int = 0

    standing_by: bool = False  # another relayer holds the lease

    @property
    def more_work(self) -> bool:
        """Whether another cycle at once could do more (it sent, so more may be queued)."""
        return self.sent_transactions > 0

    @property
    def idle(self) -> bool:
        """Whether the cycle led and found nothing at all to do."""
        return not self.standing_by and not any(
            getattr(self, item.name) for item in fields(self) if item.name != "standing_by"
        )

    @classmethod
    def combined(cls, reports: list[CycleReport]) -> CycleReport:
        """The reports of one cycle of several senders as one: counts added; standing by only
        when every sender stood by."""
        total = cls(standing_by=bool(reports) and all(r.standing_by for r in reports))
        for report in reports:
            for item in fields(cls):
                if item.name != "standing_by":
                    added = getattr(total, item.name) + getattr(report, item.name)
                    setattr(total, item.name, added)
        return total


@dataclass
class Plan:
    """What to do with one candidate batch, decided before anything is written."""

    send: list[RowView] = field(default_factory=list)
    calldata: bytes = b""
    gas: int = 0
    confirmed: dict[int, tuple[str, int]] = field(default_factory=dict)
    deferred: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    next_event_id: int | None = None

    def settled_ids(self) -> set[int]:
        return set(self.confirmed) | set(self.deferred) | set(self.failed)
