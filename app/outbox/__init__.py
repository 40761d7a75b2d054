"""The durable queue of accepted records and the relayer that puts them on chain exactly once."""
