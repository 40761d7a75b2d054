// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title TrustMallForwarder
/// @notice The suite's ERC-2771 forwarder: relays a request signed (EIP-712) by its sender, who needs
/// no ETH; the product registry and the order escrow treat the call as the signer's own.
/// @dev OpenZeppelin's forwarder unchanged, named for the suite's EIP-712 domain ("TrustMall", "1").
/// It has no owner and no settings: each signer's sequential nonce makes a request run at most once,
/// its deadline bounds when, and its signed gas is forwarded in full or the relay reverts.
contract TrustMallForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("TrustMall") {}
}
