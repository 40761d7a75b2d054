"""Only what tests/invariants still imports by this name; the shared tools are in ``harness``."""
