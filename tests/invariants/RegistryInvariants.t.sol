// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

import {InvariantTest} from "./Cheats.sol";
import {RegistryHandler} from "./RegistryHandler.sol";

/// @notice ProductRegistry's invariants under random merchants, oracles, reporters and time.
contract RegistryInvariants is InvariantTest {
    ProductRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        address admin = _actor(100);
        address verifier = _actor(101);
        address oracle = _actor(102);
        address[4] memory merchants = [_actor(110), _actor(111), _actor(112), _actor(113)];
        registry = new ProductRegistry(admin);
        vm.startPrank(admin);
        registry.grantRole(registry.VERIFIER_ROLE(), verifier);
        registry.grantRole(registry.ORACLE_ROLE(), oracle);
        vm.stopPrank();
        // Three merchants start approved; the fourth waits for a verifier.
        for (uint256 i; i < 3; ++i) {
            vm.prank(verifier);
            registry.approveMerchant(merchants[i], "merchant", keccak256(abi.encode(i)));
        }
        handler = new RegistryHandler(registry, verifier, oracle, merchants);

        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = handler.toggleMerchant.selector;
        selectors[1] = handler.registerItem.selector;
        selectors[2] = handler.registerBatch.selector;
        selectors[3] = handler.activateBatchItem.selector;
        selectors[4] = handler.recordCustody.selector;
        selectors[5] = handler.fileReport.selector;
        selectors[6] = handler.confirmReport.selector;
        selectors[7] = handler.dismissReport.selector;
        selectors[8] = handler.recallItem.selector;
        selectors[9] = handler.recallBatch.selector;
        selectors[10] = handler.warp.selector;
        // Custody is the busiest path in production; give it more entries in the draw.
        selectors[11] = handler.recordCustody.selector;
        selectors[12] = handler.registerItem.selector;
        _target(address(handler), selectors);
    }

    /// @notice An item's status only moves along None -> Active -> Flagged -> Recalled (steps may
    /// be skipped, never undone), and its merchant never changes once set.
    function invariant_statusMovesOnlyForward() public view {
        require(handler.illegalTransitions() == 0, "an item's status moved backwards");
        require(handler.merchantChanges() == 0, "an item changed merchant");
        uint256 n = handler.itemCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.itemAt(i).id;
            require(handler.statusOf(i) >= handler.lastStatus(id), "status behind the last one seen");
        }
    }

    /// @notice A recalled or flagged item never reads authentic, by id nor by batch proof.
    function invariant_recalledOrFlaggedNeverAuthentic() public view {
        uint256 n = handler.itemCount();
        for (uint256 i; i < n; ++i) {
            RegistryHandler.Tracked memory item = handler.itemAt(i);
            IProductRegistry.Verdict verdict = handler.verdictOf(i);
            IProductRegistry.Item memory record = registry.itemOf(item.id);
            bool activated = record.merchant != address(0);
            IProductRegistry.Verdict byId = registry.verify(item.id);
            if (handler.ghostRecalled(item.id)) {
                require(verdict == IProductRegistry.Verdict.Recalled, "recalled item not read recalled");
                if (activated) require(byId == IProductRegistry.Verdict.Recalled, "recalled item not recalled by id");
            }
            if (handler.ghostConfirmed(item.id)) {
                require(
                    verdict == IProductRegistry.Verdict.Flagged || verdict == IProductRegistry.Verdict.Recalled,
                    "item with a confirmed report not flagged"
                );
            }
            bool bad = handler.ghostRecalled(item.id) || handler.ghostConfirmed(item.id)
                || record.state != IProductRegistry.ItemState.Active;
            if (bad) {
                require(verdict != IProductRegistry.Verdict.Authentic, "recalled or flagged item reads authentic");
                require(byId != IProductRegistry.Verdict.Authentic, "recalled or flagged item authentic by id");
            }
        }
    }

    /// @notice No custody event id applies twice for one submitter; every id applied stays spent.
    function invariant_eventIdsApplyOnce() public view {
        require(handler.doubleApplied() == 0, "an event id applied twice");
        uint256 n = handler.appliedCount();
        for (uint256 i; i < n; ++i) {
            RegistryHandler.Applied memory applied = handler.appliedAt(i);
            require(registry.isEventRecorded(applied.submitter, applied.eventId), "applied event id not spent");
        }
    }
}
