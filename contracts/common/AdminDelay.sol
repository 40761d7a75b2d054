// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev How long a handover of DEFAULT_ADMIN_ROLE waits between `beginDefaultAdminTransfer` and
/// `acceptDefaultAdminTransfer` (OpenZeppelin's AccessControlDefaultAdminRules), in every contract
/// of the suite. A stolen admin key must wait this long, in public, before it can take the role, and
/// the current admin can cancel meanwhile. The admin can change it, itself after a delay.
uint48 constant ADMIN_TRANSFER_DELAY = 2 days;
