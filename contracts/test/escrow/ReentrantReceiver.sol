// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title ReentrantReceiver
/// @notice Test-only attacker account: acts as a buyer or merchant through `execute`, and when paid
/// ETH re-enters a chosen target with chosen calldata, keeping the outcome for the test to read.
contract ReentrantReceiver {
    /// @notice The contract re-entered on receiving ETH (none when zero).
    address public target;
    /// @notice The calldata sent to the target.
    bytes public payload;
    /// @notice How many re-entries were tried.
    uint256 public attempts;
    /// @notice Whether the last re-entry succeeded.
    bool public lastSucceeded;
    /// @notice What the last re-entry returned or reverted with.
    bytes public lastResult;

    /// @notice Arms the attack.
    /// @param target_ The contract to re-enter (zero disarms).
    /// @param payload_ The calldata.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    /// @notice Calls `to` with `data` and `msg.value`, bubbling up a revert.
    /// @param to The contract to call.
    /// @param data The calldata.
    /// @return result What the call returned.
    function execute(address to, bytes calldata data) external payable returns (bytes memory result) {
        return Address.functionCallWithValue(to, data, msg.value);
    }

    receive() external payable {
        address victim = target;
        if (victim != address(0)) {
            target = address(0); // once per arming
            ++attempts;
            (lastSucceeded, lastResult) = victim.call(payload);
        }
    }
}
