"""Gas benchmarks of TrustMall's contracts against their peers, measured on a real Anvil node.

Run with ``python -m bench`` (``make bench``). Each suite module exposes ``SECTION`` (its heading),
``run(ctx) -> list[Row]`` and, when it stopped measuring a row of the baseline, ``RETIRED`` (key ->
why); :mod:`bench.__main__` runs every suite listed in ``SUITES`` (the gas suites on a node that
keeps opcode traces, for :mod:`bench.gas_profile`'s breakdowns) and writes ``BENCHMARKS.md`` and
``bench/results.json`` through :mod:`bench.report`, each row beside its figure in the baseline
(:mod:`bench.baseline`).
"""
