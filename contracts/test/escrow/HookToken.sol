// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ITransferHooks
/// @notice Test-only: the hooks HookToken calls, after ERC-777's IERC777Sender and IERC777Recipient.
interface ITransferHooks {
    /// @notice Called on a hooked sender before its tokens move.
    /// @param from The sender.
    /// @param to The recipient.
    /// @param amount The amount.
    function tokensToSend(address from, address to, uint256 amount) external;

    /// @notice Called on a hooked recipient after tokens arrived.
    /// @param from The sender.
    /// @param to The recipient.
    /// @param amount The amount.
    function tokensReceived(address from, address to, uint256 amount) external;
}

/// @title HookToken
/// @notice Test-only ERC-20 with ERC-777-style transfer hooks: an account that registered (as with
/// ERC-1820's registry) is called before its tokens leave and after tokens reach it, so it can run
/// code in the middle of any contract's transfer. Anyone may mint.
contract HookToken is ERC20 {
    /// @notice Whether an account asked to be called on its transfers.
    mapping(address account => bool hooked) public hooked;

    constructor() ERC20("Hook Token", "HOOK") {}

    /// @notice Mints `amount` to `to`.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The caller asks to be called on its transfers (ERC-1820's setInterfaceImplementer).
    function registerHooks() external {
        hooked[msg.sender] = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (hooked[from]) ITransferHooks(from).tokensToSend(from, to, value);
        super._update(from, to, value);
        if (hooked[to]) ITransferHooks(to).tokensReceived(from, to, value);
    }
}
