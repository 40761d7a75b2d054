// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The few forge cheatcodes the invariant suites use, declared here because npm's
/// forge-std is broken; forge answers them at its fixed cheatcode address.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function deal(address account, uint256 newBalance) external;
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address);
    function label(address account, string calldata newLabel) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToStateAndDelete(uint256 snapshotId) external returns (bool success);
}

/// @notice Shared by handlers and invariant tests: the cheatcode handle and input bounding.
abstract contract Cheats {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Maps any fuzzed word into [min, max] without rejecting it, so no call is wasted.
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + x % (max - min + 1);
    }

    /// @dev Moves the clock to `time` if that is ahead; never back (a deadline already past stays past).
    function _warpTo(uint256 time) internal {
        if (time > block.timestamp) vm.warp(time);
    }

    function _actor(uint256 index) internal pure returns (address) {
        return address(uint160(0xA000 + index));
    }
}

/// @notice What forge reads from an invariant test contract to choose what it fuzzes: the ABI of
/// forge-std's StdInvariant getters, declared here without forge-std. Each suite targets only its
/// handler's chosen selectors, so the system under test is driven only through real actors.
abstract contract InvariantTest is Cheats {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targets;
    FuzzSelector[] private _selectors;

    function _target(address handler, bytes4[] memory selectors) internal {
        _targets.push(handler);
        _selectors.push(FuzzSelector({addr: handler, selectors: selectors}));
    }

    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _selectors;
    }
}
