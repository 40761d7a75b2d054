// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

import {HookToken, ITransferHooks} from "./HookToken.sol";

/// @title HookAttacker
/// @notice Test-only attacker account for tokens with transfer hooks (HookToken): acts as a buyer,
/// merchant or borrower through `execute`, and from inside the token's hook (its tokens leaving or
/// arriving) re-enters a chosen target with chosen calldata, keeping the outcome for the test.
contract HookAttacker is ITransferHooks {
    /// @notice The contract re-entered from a hook (none when zero).
    address public target;
    /// @notice The calldata sent to the target.
    bytes public payload;
    /// @notice How many re-entries were tried.
    uint256 public attempts;
    /// @notice Whether the last re-entry succeeded.
    bool public lastSucceeded;
    /// @notice What the last re-entry returned or reverted with.
    bytes public lastResult;

    /// @notice Registers this account's hooks with the token.
    /// @param token The hook token.
    function listen(HookToken token) external {
        token.registerHooks();
    }

    /// @notice Arms the attack: the next hook call re-enters `target_` with `payload_`, once.
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

    /// @inheritdoc ITransferHooks
    function tokensToSend(address, address, uint256) external {
        _reenter();
    }

    /// @inheritdoc ITransferHooks
    function tokensReceived(address, address, uint256) external {
        _reenter();
    }

    function _reenter() private {
        address victim = target;
        if (victim == address(0)) return;
        target = address(0); // once per arming
        ++attempts;
        (lastSucceeded, lastResult) = victim.call(payload);
    }
}
