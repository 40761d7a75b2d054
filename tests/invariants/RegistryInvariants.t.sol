// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";
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
        // The merchants sign forwarded requests, so each is the address of a key.
        uint256[4] memory merchantKeys = [uint256(0xA110), 0xA111, 0xA112, 0xA113];
        address[4] memory merchants;
        for (uint256 i; i < 4; ++i) {
            merchants[i] = vm.addr(merchantKeys[i]);
        }
        TrustMallForwarder forwarder = new TrustMallForwarder();
        registry = new ProductRegistry(admin, address(forwarder));
        vm.startPrank(admin);
        registry.grantRole(registry.VERIFIER_ROLE(), verifier);
        registry.grantRole(registry.ORACLE_ROLE(), oracle);
        vm.stopPrank();
        handler = new RegistryHandler(registry, admin, verifier, oracle, merchants, forwarder, merchantKeys);
        // Three merchants start approved, the first two with a GS1 prefix each (the handler's ghost
        // learns them through its own grant); the fourth waits for a verifier.
        for (uint256 i; i < 3; ++i) {
            vm.prank(verifier);
            registry.approveMerchant(merchants[i], "merchant", keccak256(abi.encode("identity", merchants[i])));
        }
        handler.grantPrefix(0, 0);
        handler.grantPrefix(3, 1);

        bytes4[] memory selectors = new bytes4[](22);
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
        selectors[11] = handler.grantPrefix.selector;
        selectors[12] = handler.revokePrefix.selector;
        selectors[13] = handler.reassignItem.selector;
        selectors[14] = handler.registerItems.selector;
        selectors[15] = handler.pauseProbe.selector;
        // Custody and registrations are the busiest paths in production; more entries in the draw.
        selectors[16] = handler.recordCustody.selector;
        selectors[17] = handler.registerItem.selector;
        selectors[18] = handler.registerItem.selector;
        selectors[19] = handler.forwardRegistration.selector;
        selectors[20] = handler.spoofSender.selector;
        selectors[21] = handler.activateBatchItems.selector;
        _target(address(handler), selectors);
    }

    /// @notice An item's status only moves along None -> Active -> Flagged -> Recalled (steps may
    /// be skipped, never undone), and its merchant never changes once set; a verifier's reassignment
    /// or revocation is the one sanctioned exception (the handler re-bases on it).
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

    /// @notice Nobody claims an id that is not theirs: a registration or activation yields the id the
    /// key derives under the registering (or batch) merchant, a GTIN only under a company prefix the
    /// verifier granted that merchant, no two merchants hold overlapping prefixes, a batch never
    /// activates a rival's id, the custody oracle never records a sale, nothing is written while paused,
    /// and every tracked item with a record is the merchant the handler expects. Through the forwarder
    /// a signed request does exactly what its signer's own call would (the item then the signer's);
    /// one signed by another key, or run before, is neither valid nor run; and a caller that is no
    /// forwarder cannot name another caller by appending an address.
    function invariant_onlyOwnersClaimItems() public view {
        require(handler.forwardedNotAsSigner() == 0, "a signed request did other than its signer's own call");
        require(handler.forgedForwarded() == 0, "a request signed by another key went through the forwarder");
        require(handler.replayedForwarded() == 0, "a forwarded request went through twice");
        require(handler.spoofedSenders() == 0, "an appended address was read as the caller of a direct call");
        require(handler.idNotDerived() == 0, "an id other than the key's own derivation was registered");
        require(handler.gs1WithoutPrefix() == 0, "a GTIN was registered without a prefix of it");
        require(handler.overlappingGrants() == 0, "two merchants hold overlapping GS1 prefixes");
        require(handler.foreignActivations() == 0, "a batch activated another merchant's id");
        require(handler.oracleSales() == 0, "the custody oracle recorded a sale");
        require(handler.pausedWrites() == 0, "a registration or custody event went through a pause");
        uint256 n = handler.itemCount();
        for (uint256 i; i < n; ++i) {
            RegistryHandler.Tracked memory item = handler.itemAt(i);
            address merchant = registry.itemOf(item.id).merchant;
            if (merchant != address(0)) require(merchant == item.merchant, "item held by an unexpected merchant");
        }
    }
}
