"""What the tests, the benchmarks (``bench``), the reliability campaigns (``verify``) and the demo
share: chain nodes on free ports (``nodes``), the ``ape run`` driver and the test accounts
(``ape_run``), the service as a child process (``service``), the suite deployed with items and a
carrier's service (``suite``), fault injection (``faults``), campaign sizes (``campaign``), the
headless browser (``browser``) and permit signatures (``permits``).

It sits below all of them and imports none of them, so none has to import another for a tool.
"""
