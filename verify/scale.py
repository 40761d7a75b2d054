"""How big the campaigns run: in full (`make verify`), or as a smoke (`python -m verify --smoke`:
every campaign end to end in minutes, CI's check that none of them has rotted between full runs).
``--smoke`` sets ``VERIFY_SCALE=smoke`` before the campaigns are imported, and each reads its
sizes through ``pick``."""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

SMOKE = os.environ.get("VERIFY_SCALE") == "smoke"


def pick(full: T, smoke: T) -> T:
    """``full`` for `make verify`, ``smoke`` for `python -m verify --smoke`."""
    return smoke if SMOKE else full
