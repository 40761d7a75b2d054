"""Aggregates for merchants and the platform, read from the index."""
