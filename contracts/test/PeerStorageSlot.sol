// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PeerStorageSlot
/// @notice Benchmark peer only (never deployed by scripts): the cost of writing one new storage
/// slot, the floor under any record kept per item.
contract PeerStorageSlot {
    mapping(uint256 key => uint256 value) public values;

    /// @notice Writes `v` under `k`.
    function set(uint256 k, uint256 v) external {
        values[k] = v;
    }
}
