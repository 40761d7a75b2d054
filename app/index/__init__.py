"""Follows the suite's events into the database: confirmation depth, reorg roll-back, resumable."""
