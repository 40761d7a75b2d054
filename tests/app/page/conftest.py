"""Fixtures: the suite driven with web3, fresh actors, and a service whose indexer starts at the
test's first block (see tests/app/index/actors.py)."""

from tests.app.index.actors import (  # noqa: F401
    buyer,
    merchant,
    shop,
    shop_settings,
    shopper,
    start_block,
    suite,
)
