"""The keeper: the escrow's permissionless moves (releases, refunds, default rulings), queued
exactly once through the outbox and sent with a key of its own."""
