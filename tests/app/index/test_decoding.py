"""The indexer's event decoder gives exactly what web3's ``process_log`` gives, for every event of
every committed ABI, with random values of every argument type."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from app.index.decoding import EventDecoder, abi_type

ABI_DIR = Path(__file__).resolve().parents[3] / "abi"
ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
EVENTS = [
    (path.stem, event)
    for path in sorted(ABI_DIR.glob("*.json"))
    for event in json.loads(path.read_text())
    if event.get("type") == "event"
]


def _value(entry: dict[str, Any], chooser: random.Random) -> Any:
    kind = str(entry["type"])
    if kind.endswith("]"):
        element = {**entry, "type": kind[: kind.rindex("[")]}
        return [_value(element, chooser) for _ in range(chooser.randint(0, 3))]
    if kind == "tuple":
        return tuple(_value(component, chooser) for component in entry["components"])
    if kind == "address":
        return "0x" + chooser.randbytes(20).hex()
    if kind == "bool":
        return chooser.random() < 0.5
    if kind == "string":
        return "".join(chooser.choice("abcxyz €") for _ in range(chooser.randint(0, 40)))
    if kind == "bytes":
        return chooser.randbytes(chooser.randint(0, 70))
    if kind.startswith("bytes"):
        return chooser.randbytes(int(kind[5:]))
    if kind.startswith("uint"):
        return chooser.getrandbits(int(kind[4:]))
    bits = int(kind[3:])
    return chooser.getrandbits(bits) - 2 ** (bits - 1)


def _topic(entry: dict[str, Any], value: Any) -> bytes:
    kind = abi_type(entry)
    if kind in {"string", "bytes"} or kind.endswith("]") or kind.startswith("("):
        return keccak(encode([kind], [value]))  # dynamic indexed arguments: only their hash
    return encode([kind], [value])


@pytest.mark.parametrize(("contract", "event"), EVENTS, ids=[f"{c}.{e['name']}" for c, e in EVENTS])
def test_decoder_matches_web3_for_every_event(contract: str, event: dict[str, Any]) -> None:
    chooser = random.Random(f"{contract}.{event['name']}")
    decoder = EventDecoder(event)
    web3_event = Web3().eth.contract(address=ADDRESS, abi=[event]).events[event["name"]]()
    assert decoder.topic == "0x" + bytes(HexBytes(web3_event.topic)).hex()
    for _ in range(5):
        values = {i["name"]: _value(i, chooser) for i in event["inputs"]}
        indexed = [i for i in event["inputs"] if i["indexed"]]
        data = [i for i in event["inputs"] if not i["indexed"]]
        log = {
            "address": ADDRESS,
            "topics": [HexBytes(decoder.topic)]
            + [HexBytes(_topic(i, values[i["name"]])) for i in indexed],
            "data": HexBytes(
                encode([abi_type(i) for i in data], [values[i["name"]] for i in data])
            ),
            "blockNumber": 1,
            "blockHash": HexBytes(b"\x01" * 32),
            "transactionHash": HexBytes(b"\x02" * 32),
            "transactionIndex": 0,
            "logIndex": 0,
            "removed": False,
        }
        expected = dict(web3_event.process_log(log)["args"])
        assert decoder.decode(log["topics"], log["data"]) == expected
