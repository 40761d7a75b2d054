// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test-only attacker token: during every transfer it calls a chosen target with chosen
/// calldata (re-entering the escrow), and keeps the outcome for the test to read.
contract ReentrantToken is ERC20 {
    /// @notice The contract re-entered on transfer (none when zero).
    address public target;
    /// @notice The calldata sent to the target.
    bytes public payload;
    /// @notice How many re-entries were tried.
    uint256 public attempts;
    /// @notice Whether the last re-entry succeeded.
    bool public lastSucceeded;
    /// @notice What the last re-entry returned or reverted with.
    bytes public lastResult;

    constructor() ERC20("Reentrant", "REE") {}

    /// @notice Mints `amount` to `to`.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the attack: the next transfers call `target_` with `payload_`.
    /// @param target_ The contract to re-enter (zero disarms).
    /// @param payload_ The calldata.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address victim = target;
        if (victim != address(0) && from != address(0) && to != address(0)) {
            target = address(0); // once per arming, so the re-entry does not recurse
            ++attempts;
            (lastSucceeded, lastResult) = victim.call(payload);
        }
    }
}
