// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Escrow} from "@openzeppelin/contracts-v4/utils/escrow/Escrow.sol";
import {RefundEscrow} from "@openzeppelin/contracts-v4/utils/escrow/RefundEscrow.sol";

/// @title PeerEscrowV4
/// @notice Benchmark peer only (never deployed by scripts): OpenZeppelin 4.9's `Escrow` as
/// published (owner deposits for a payee, owner withdraws a payee's whole credit to it), the
/// yardstick for opening and paying an order and for withdrawing a credit.
contract PeerEscrowV4 is Escrow {}

/// @title PeerRefundEscrowV4
/// @notice Benchmark peer only (never deployed by scripts): OpenZeppelin 4.9's `RefundEscrow` as
/// published (deposits per refundee for one beneficiary; closed, the beneficiary takes everything).
contract PeerRefundEscrowV4 is RefundEscrow {
    /// @param beneficiary_ Who receives the deposits once the escrow is closed.
    constructor(address payable beneficiary_) RefundEscrow(beneficiary_) {}
}
