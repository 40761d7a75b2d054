"""TrustMall: the oracle service and the domain helpers shared with scripts and tests."""
