// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockStable6
/// @notice Test-only stablecoin with 6 decimals (like USDC); anyone may mint.
contract MockStable6 is ERC20 {
    constructor() ERC20("Mock Stable", "mUSD") {}

    /// @notice Mints `amount` to `to`.
    /// @param to The recipient.
    /// @param amount The amount, in 6-decimal units.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
