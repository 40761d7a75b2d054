"""The revert data of a web3 call error, in the shape each node gives it: Anvil's error data is
the hex string, Hardhat's an object holding it (web3 keeps that object as the error's data)."""

from __future__ import annotations

from web3.exceptions import ContractLogicError

from app.chain.reverts import revert_data

DATA = "0x703abd09" + "00" * 31 + "01"
MESSAGE = "execution reverted: Error: VM Exception while processing transaction"


def test_revert_data_of_anvils_error_is_its_hex_data() -> None:
    assert revert_data(ContractLogicError(MESSAGE, data=DATA)) == bytes.fromhex(DATA[2:])


def test_revert_data_of_hardhats_error_is_the_hex_data_inside_its_object() -> None:
    error = ContractLogicError(MESSAGE, data={"message": MESSAGE, "data": DATA})

    assert revert_data(error) == bytes.fromhex(DATA[2:])


def test_revert_data_of_an_error_without_data_is_empty_and_of_another_error_none() -> None:
    assert revert_data(ContractLogicError(MESSAGE, data={"message": MESSAGE})) == b""
    assert revert_data(ValueError("not a revert")) is None
