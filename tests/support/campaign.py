"""``harness.campaign`` under the name tests/invariants imports it by; delete this module once
that import names ``harness.campaign``."""

from harness.campaign import LONG, examples

__all__ = ["LONG", "examples"]
