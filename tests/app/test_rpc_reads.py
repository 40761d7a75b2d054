"""The request path's JSON-RPC read batches (``app.chain.rpc_reads``): answers in the batch's
order from the session's Anvil; and against nodes that misbehave as real ones do (played by a
small HTTP server: the node is outside our system), a connection the node closed while idle is
replaced, an HTTP error or a body that is not JSON is an error the service treats as the chain
being unavailable, and credentials in the URL are sent as HTTP basic auth."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.chain.rpc_reads import JsonRpcReads
from app.index.chain import RPC_ERRORS
from tests.app.conftest import Deployment


class Node(BaseHTTPRequestHandler):
    """Answers each batch with its calls' ids in reverse order, echoing the method; closes the
    connection after every answer when ``closes`` is set; answers ``status`` and ``body`` when
    set."""

    protocol_version = "HTTP/1.1"
    closes = False
    status = 200
    body: bytes | None = None
    seen: list[dict[str, str]]

    def do_POST(self) -> None:
        calls = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({**dict(self.headers), "path": self.path})
        answer = self.body
        if answer is None:
            answers = [{"jsonrpc": "2.0", "id": c["id"], "result": c["method"]} for c in calls]
            answer = json.dumps(answers[::-1]).encode()
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.wfile.flush()
        if self.closes:
            self.close_connection = True

    def log_message(self, *_args: Any) -> None:
        pass


def serving(**behaviour: Any) -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Behaving", (Node,), {**behaviour, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closing_node() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from serving(closes=True)


@pytest.fixture
def failing_node() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from serving(status=502, body=b"bad gateway")


@pytest.fixture
def garbling_node() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from serving(body=b"<html>maintenance</html>")


@pytest.fixture
def node() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from serving()


def test_a_batch_is_answered_in_its_order_by_the_node(deployment: Deployment) -> None:
    reads = JsonRpcReads(deployment.rpc_url)

    answers = reads.make_batch_request([("eth_chainId", []), ("eth_blockNumber", [])])

    assert [answer["id"] for answer in answers] == [0, 1]
    assert int(answers[0]["result"], 16) == 1337
    assert int(answers[1]["result"], 16) > 0


def test_a_connection_the_node_closed_while_idle_is_replaced(
    closing_node: tuple[str, list[dict[str, str]]],
) -> None:
    address, seen = closing_node
    reads = JsonRpcReads(f"http://{address}/rpc")

    answers = [reads.make_batch_request([("a", []), ("b", [])]) for _ in range(3)]

    assert [[answer["result"] for answer in batch] for batch in answers] == [["a", "b"]] * 3
    assert len(seen) == 3


@pytest.mark.parametrize("which", ["failing_node", "garbling_node"])
def test_a_node_answering_an_error_or_no_json_is_an_rpc_error(
    which: str, request: pytest.FixtureRequest
) -> None:
    address, _seen = request.getfixturevalue(which)
    reads = JsonRpcReads(f"http://{address}/")

    with pytest.raises(RPC_ERRORS):
        reads.make_batch_request([("eth_chainId", [])])


def test_credentials_in_the_url_go_as_basic_auth_and_never_in_the_path(
    node: tuple[str, list[dict[str, str]]],
) -> None:
    address, seen = node
    reads = JsonRpcReads(f"http://user:p%40ss@{address}/v2/key?x=1")

    reads.make_batch_request([("eth_chainId", [])])

    expected = "Basic " + base64.b64encode(b"user:p@ss").decode()
    assert seen[0]["Authorization"] == expected
    assert seen[0]["path"] == "/v2/key?x=1"
