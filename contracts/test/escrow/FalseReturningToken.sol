// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FalseReturningToken
/// @notice Test-only token that, once switched to failing, answers `false` to transfers without
/// moving anything or reverting (as some early ERC-20s did).
contract FalseReturningToken is ERC20 {
    /// @notice Whether transfers now fail by returning false.
    bool public failing;

    constructor() ERC20("False Returning", "FALSE") {}

    /// @notice Mints `amount` to `to`.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Switches the failure mode.
    /// @param on Whether transfers return false.
    function setFailing(bool on) external {
        failing = on;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, value);
    }
}
