"""`ape run demo report`: a shopper's counterfeit or problem report, the one step of the demo story
(tools/demo_story.py) no party's script sends; a row of :mod:`scripts._lib.calls`."""

from __future__ import annotations

import click

from scripts._lib.calls import Call, add_calls

CALLS = (
    Call("report", ("registry",), "fileReport", "anyone", "file a report against an item",
         ("itemId",), "the verifier decides: ape run ops confirm-report REPORT_ID --finding TEXT",
         options={"kind": "0 a counterfeit, 1 another problem."}),
)  # fmt: skip


cli = click.Group(help="The demo's own step: a shopper's report (then ape run ops confirm-report).")
add_calls(cli, CALLS, default_signer=4)  # the demo's shopper
