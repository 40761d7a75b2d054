// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title RevertingReceiver
/// @notice Test-only account that refuses every ETH payment; acts as a buyer or merchant through `execute`.
contract RevertingReceiver {
    /// @notice Thrown on every ETH payment.
    error RevertingReceiverRefused();

    /// @notice Calls `to` with `data` and `msg.value`, bubbling up a revert.
    /// @param to The contract to call.
    /// @param data The calldata.
    /// @return result What the call returned.
    function execute(address to, bytes calldata data) external payable returns (bytes memory result) {
        return Address.functionCallWithValue(to, data, msg.value);
    }

    receive() external payable {
        revert RevertingReceiverRefused();
    }
}
