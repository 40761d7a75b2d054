// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title DevStablecoin
/// @notice A devnet faucet token standing in for a dollar stablecoin (6 decimals, like USDC) on
/// local chains, so the credit pool and stablecoin orders can be shown without a real one.
/// It is worth nothing: holders of MINTER_ROLE mint it at will.
/// @dev `ape run deploy --dev-stablecoin` deploys it on local networks only and refuses on any
/// other; there, pass a real stablecoin with `--stablecoin ADDRESS`. Plain OpenZeppelin ERC-20
/// with EIP-2612 permits; no pausing, blocklists or fees.
contract DevStablecoin is ERC20, ERC20Permit, AccessControl {
    /// @notice May mint tokens (the devnet's faucet).
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @param admin Holder of DEFAULT_ADMIN_ROLE and MINTER_ROLE.
    constructor(address admin) ERC20("TrustMall Dev Dollar", "dUSD") ERC20Permit("TrustMall Dev Dollar") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints `amount` to `to`. MINTER_ROLE only.
    /// @param to The recipient.
    /// @param amount The amount, in 6-decimal units.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Six decimals, like USDC.
    /// @return 6
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
