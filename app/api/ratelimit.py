"""Rate limits: a token bucket per key (an ingestion source, a client address), held by the app
(no module state).

A key limited to ``requests_per_minute`` = N may send N requests at once, then one more every
60/N seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Past this many keys, the buckets that have refilled are forgotten.
PRUNE_ABOVE = 10_000


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Takes a token: 0.0 if there was one, else the seconds until there will be one."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.per_second


class RateLimits:
    """The buckets of one app, by key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, source: str, requests_per_minute: int) -> float:
        """0.0 when ``source`` (a key) may go on, else how many seconds it should wait."""
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets.get(source)
            if bucket is None or bucket.capacity != requests_per_minute:
                bucket = TokenBucket(
                    capacity=float(requests_per_minute),
                    per_second=requests_per_minute / 60.0,
                    tokens=float(requests_per_minute),
                    updated=now,
                )
                self._buckets[source] = bucket
            return bucket.take(now)

    def __len__(self) -> int:
        """How many keys it holds a bucket for."""
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        """Forgets the buckets that have refilled: a key seen again starts with a full one, as it
        would have, so keys that come and go (client addresses) hold no memory for long."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * bucket.per_second >= bucket.capacity:
                del self._buckets[key]
