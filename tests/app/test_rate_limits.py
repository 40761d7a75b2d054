"""The token buckets of the API (ingestion sources, sign-in nonces per client address)."""

from __future__ import annotations

from app.api.ratelimit import PRUNE_ABOVE, RateLimits


def test_n_a_minute_go_at_once_then_one_every_60_over_n_seconds() -> None:
    now = [0.0]
    limits = RateLimits(clock=lambda: now[0])

    assert [limits.take("carrier", 2) for _ in range(3)] == [0.0, 0.0, 30.0]
    now[0] = 30.0
    assert limits.take("carrier", 2) == 0.0


def test_refilled_buckets_are_forgotten_past_the_key_limit_a_limited_one_is_kept() -> None:
    now = [0.0]
    limits = RateLimits(clock=lambda: now[0])
    while limits.take("hot", 60) == 0.0:
        pass
    for n in range(PRUNE_ABOVE):  # addresses that come once and go
        limits.take(f"10.0.{n // 256}.{n % 256}", 60)
    now[0] = 1.0  # each of them has refilled since; "hot" has one token back of its 60

    assert limits.take("one more", 60) == 0.0

    assert len(limits) == 2  # "hot" and "one more": the refilled ones are gone
    assert [limits.take("hot", 60) for _ in range(2)] == [0.0, 1.0]
