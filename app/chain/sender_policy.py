"""How patient a transaction sender is, and how much it pays (``app.chain.sender``)."""

from __future__ import annotations

from dataclasses import dataclass

GWEI = 10**9


@dataclass(frozen=True)
class SenderPolicy:
    """How patient the sender is, and how much it pays."""

    confirmation_depth: int = 2
    # A transaction the node's pool no longer holds and that has no receipt is sent again once
    # its last broadcast is this old.
    resend_after_seconds: float = 2.0
    # A transaction still waiting in the pool this long after its newest attempt was signed gets
    # a new attempt with higher fees (same nonce, same calldata).
    bump_after_seconds: float = 30.0
    fee_bump_percent: int = 15
    # A transaction holding the account's next nonce whose newest attempt, signed this long ago,
    # the node refused for what it is when last sent gets a no-op attempt that spends its nonce.
    cancel_refused_after_seconds: float = 60.0
    gas_margin_percent: int = 20
    priority_fee: int = 1 * GWEI
    max_fee_per_gas: int | None = None
