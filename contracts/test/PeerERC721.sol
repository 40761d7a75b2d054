// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title PeerERC721
/// @notice Benchmark peer only (never deployed by scripts): a plain OpenZeppelin 5 ERC-721 whose
/// first mint to a new owner is the yardstick for registering one item.
contract PeerERC721 is ERC721 {
    constructor() ERC721("Peer", "PEER") {}

    /// @notice Mints token `id` to `to`, unchecked (no receiver callback), as `_mint` does.
    function mint(address to, uint256 id) external {
        _mint(to, id);
    }
}
