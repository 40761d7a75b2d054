"""Gas benchmarks of TrustMall's contracts against their peers, measured on a real Anvil node.

Run with ``python -m bench`` (``make bench``). Each suite module exposes ``SECTION`` (its heading)
and ``run(ctx) -> list[Row]``; :mod:`bench.__main__` runs every suite listed in ``SUITES`` and
writes ``BENCHMARKS.md`` and ``bench/results.json`` through :mod:`bench.report`.
"""
