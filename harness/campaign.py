"""How long the randomized tests run: a short pass in `make test`, a campaign in `make test-long`.

`make test` must stay within six minutes on a 2-core machine with set-up included, so the
property and state-machine tests run a few examples there; `TRUSTMALL_TEST_CAMPAIGN=long` (what
`make test-long` sets) runs many more.
"""

from __future__ import annotations

import os

LONG = os.environ.get("TRUSTMALL_TEST_CAMPAIGN", "short") == "long"


def examples(short: int, long: int) -> int:
    """The number of examples (or steps) for this campaign."""
    return long if LONG else short
