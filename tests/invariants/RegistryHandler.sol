// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

import {RegistryBooks} from "./RegistryBooks.sol";
import {RegistryForwarding} from "./RegistryForwarding.sol";

/// @notice Drives the product registry as its real actors would: a verifier (merchants, GS1 prefixes,
/// reports, reassignments), a custody oracle, four merchants (one not yet approved) registering SKU
/// and GS1 items and Merkle batches (directly, and through the suite's forwarder as the merchant API
/// relays them), shoppers filing reports, an admin pausing, time moving on.
/// Ghost state is the handler's own record of what succeeded, kept apart from the registry's.
contract RegistryHandler is RegistryForwarding {
    using Strings for uint256;

    constructor(
        ProductRegistry registry_,
        address admin_,
        address verifier_,
        address oracle_,
        address[4] memory merchants_,
        TrustMallForwarder forwarder_,
        uint256[4] memory merchantKeys_
    ) RegistryBooks(registry_, admin_, verifier_, oracle_, merchants_) RegistryForwarding(forwarder_, merchantKeys_) {}

    // ------------------------------------------------------------------ merchants and prefixes

    /// @dev The verifier's next move for a merchant: approve a newcomer, suspend an active one,
    /// reinstate a suspended one.
    function toggleMerchant(uint256 merchantSeed) external {
        address merchant = merchants[merchantSeed % 4];
        IProductRegistry.MerchantStatus status = registry.merchantOf(merchant).status;
        vm.prank(verifier);
        if (status == IProductRegistry.MerchantStatus.None) {
            registry.approveMerchant(merchant, "merchant", keccak256(abi.encode("identity", merchant)));
        } else if (status == IProductRegistry.MerchantStatus.Active) {
            registry.suspendMerchant(merchant, keccak256("suspended"));
        } else {
            registry.reinstateMerchant(merchant);
        }
        _sweep();
    }

    /// @dev The verifier licenses a GS1 company prefix to a merchant. Some prefixes of the list lie
    /// inside others: the registry must never let two merchants hold overlapping ranges.
    function grantPrefix(uint256 prefixSeed, uint256 merchantSeed) external {
        string memory prefix = _prefix(prefixSeed);
        address merchant = merchants[merchantSeed % 4];
        vm.prank(verifier);
        registry.grantGs1Prefix(prefix, merchant);
        for (uint256 i; i < PREFIX_COUNT; ++i) {
            string memory other = _prefix(i);
            if (keccak256(bytes(other)) == keccak256(bytes(prefix))) continue;
            address holder = ghostPrefixHolder[keccak256(bytes(other))];
            if (
                holder != address(0) && holder != merchant && (_startsWith(prefix, other) || _startsWith(other, prefix))
            ) {
                ++overlappingGrants;
            }
        }
        ghostPrefixHolder[keccak256(bytes(prefix))] = merchant;
        _sweep();
    }

    function revokePrefix(uint256 prefixSeed) external {
        string memory prefix = _prefix(prefixSeed);
        vm.prank(verifier);
        registry.revokeGs1Prefix(prefix);
        delete ghostPrefixHolder[keccak256(bytes(prefix))];
        _sweep();
    }

    /// @dev The verifier moves an item to another merchant or (one time in three) revokes its record.
    /// These are the only sanctioned moves of an item's merchant and status: the sweep re-bases on them.
    function reassignItem(uint256 itemSeed, uint256 toSeed) external {
        if (_items.length == 0) return;
        uint256 index = itemSeed % _items.length;
        Tracked storage item = _items[index];
        address to = toSeed % 3 == 0 ? address(0) : merchants[toSeed % 4];
        vm.prank(verifier);
        registry.reassignItem(item.id, to, keccak256("finding"));
        bytes32 id = item.id;
        if (to == address(0)) {
            ++revocations;
            // The record is gone: the verdict falls back to the batch (if any), else Unknown.
            ghostRecalled[id] = item.batch != 0 && _batchRecalled[item.batch];
            _ownRecall[id] = false;
            ghostConfirmed[id] = false;
        } else {
            ++reassignments;
            // The id leaves its batch (the old merchant's commitment); its own state stays.
            item.batch = 0;
            item.merchant = to;
            ghostRecalled[id] = _ownRecall[id];
        }
        lastStatus[id] = statusOf(index);
        firstMerchant[id] = to;
        _sweep();
    }

    // ------------------------------------------------------------------ items

    /// @dev A SKU item (its id derived from the caller), or one time in three a GTIN, which only the
    /// holder of one of its company prefixes may register.
    function registerItem(uint256 merchantSeed, uint256 keySeed) external {
        address merchant = merchants[merchantSeed % 4];
        IProductRegistry.ItemKey memory key = keySeed % 3 == 0 ? _gs1Key(keySeed) : _skuKey(keySeed);
        bytes32 expected = _expectedId(merchant, key);
        bytes32 metadataHash = keccak256(abi.encode("meta", expected));
        vm.prank(merchant);
        bytes32 id = registry.registerItem(key, metadataHash, "ipfs://item");
        _claimed(merchant, key, id, expected);
        _track(id, metadataHash, merchant, 0, 0, key);
        _sweep();
    }

    /// @dev Two items in one call; one call in eight names the same key twice and must fail whole.
    function registerItems(uint256 merchantSeed, uint256 keySeed) external {
        address merchant = merchants[merchantSeed % 4];
        IProductRegistry.ItemInput[] memory inputs = new IProductRegistry.ItemInput[](2);
        for (uint256 i; i < 2; ++i) {
            uint256 seed = keySeed % 8 == 0 ? keySeed : keySeed + 3 * i + 1;
            IProductRegistry.ItemKey memory key = seed % 3 == 0 ? _gs1Key(seed) : _skuKey(seed);
            inputs[i] = IProductRegistry.ItemInput(key, keccak256(abi.encode("meta", seed)), "ipfs://item");
        }
        vm.prank(merchant);
        registry.registerItems(inputs);
        for (uint256 i; i < 2; ++i) {
            bytes32 expected = _expectedId(merchant, inputs[i].key);
            if (registry.itemOf(expected).merchant != merchant) ++idNotDerived;
            _claimed(merchant, inputs[i].key, expected, expected);
            _track(expected, inputs[i].metadataHash, merchant, 0, 0, inputs[i].key);
        }
        _sweep();
    }

    /// @dev A batch of four SKU items; one batch in four slips a rival's id in as its last leaf.
    function registerBatch(uint256 merchantSeed, uint256 salt) external {
        address merchant = merchants[merchantSeed % 4];
        Batch memory batch;
        batch.merchant = merchant;
        batch.foreignLeaf = salt % 4 == 0;
        IProductRegistry.ItemKey[4] memory keys;
        bytes32[4] memory ids;
        bytes32[4] memory metas;
        for (uint256 i; i < 4; ++i) {
            keys[i] = IProductRegistry.ItemKey(
                IProductRegistry.IdScheme.Sku, string.concat("BATCH-", (salt % 64).toString()), i.toString()
            );
            address owner = batch.foreignLeaf && i == 3 ? merchants[(merchantSeed + 1) % 4] : merchant;
            ids[i] = keccak256(abi.encode(owner, keys[i].code, keys[i].serial));
            metas[i] = keccak256(abi.encode("meta", ids[i]));
            batch.leaves[i] = registry.batchLeaf(ids[i], metas[i]);
        }
        batch.root = _pair(_pair(batch.leaves[0], batch.leaves[1]), _pair(batch.leaves[2], batch.leaves[3]));
        vm.prank(merchant);
        registry.registerBatch(batch.root, 4, keccak256(abi.encode("manifest", batch.root)), "ipfs://batch");
        _batches.push(batch);
        for (uint256 i; i < (batch.foreignLeaf ? 3 : 4); ++i) {
            _track(ids[i], metas[i], merchant, _batches.length, uint8(i), keys[i]);
        }
        _sweep();
    }

    /// @dev Anyone may activate with a proof; one call in four tries a proof for the wrong slot, and
    /// a batch with a rival's leaf is sometimes asked to activate it (the id derived here is never it).
    function activateBatchItem(uint256 itemSeed, uint256 senderSeed, bool wrongProof) external {
        (bool found, uint256 index) = _pickBatchItem(itemSeed);
        if (!found) return;
        Tracked memory item = _items[index];
        Batch storage batch = _batches[item.batch - 1];
        bool foreign = batch.foreignLeaf && senderSeed % 3 == 0;
        uint8 slot = foreign ? 3 : wrongProof && senderSeed % 4 == 0 ? (item.slot + 1) % 4 : item.slot;
        IProductRegistry.ItemKey memory key =
            foreign ? IProductRegistry.ItemKey(item.key.scheme, item.key.code, "3") : item.key;
        bytes32 metadataHash = foreign ? keccak256(abi.encode("meta", batch.leaves[3])) : item.metadataHash;
        bytes32[] memory proof = _proof(batch, slot);
        vm.prank(_actor(senderSeed % 8));
        bytes32 id = registry.activateBatchItem(batch.root, key, metadataHash, proof);
        if (foreign) ++foreignActivations;
        if (id != _expectedId(batch.merchant, key)) ++idNotDerived;
        if (registry.itemOf(id).merchant != batch.merchant) ++foreignActivations;
        if (_batchRecalled[item.batch]) _ownRecall[id] = true;
        _sweep();
    }

    /// @dev Two items of one batch in one call, as the merchant's manifest goes in chunks: an item already
    /// activated from this batch is skipped (the second is the first again when the batch has no other
    /// tracked item); one call in four carries a proof for the wrong slot, which refuses the whole call.
    function activateBatchItems(uint256 itemSeed, uint256 otherSeed, uint256 senderSeed) external {
        (bool found, uint256 first) = _pickBatchItem(itemSeed);
        if (!found) return;
        uint256 batchNumber = _items[first].batch;
        Batch storage batch = _batches[batchNumber - 1];
        uint256[2] memory picked = [first, _sameBatchItem(batchNumber, otherSeed, first)];
        IProductRegistry.BatchItemProof[] memory proofs = new IProductRegistry.BatchItemProof[](2);
        for (uint256 k; k < 2; ++k) {
            Tracked memory item = _items[picked[k]];
            uint8 slot = senderSeed % 4 == 0 && k == 1 ? (item.slot + 1) % 4 : item.slot;
            proofs[k] = IProductRegistry.BatchItemProof(item.key, item.metadataHash, _proof(batch, slot));
        }
        vm.prank(_actor(senderSeed % 8));
        registry.activateBatchItems(batch.root, proofs);
        for (uint256 k; k < 2; ++k) {
            Tracked memory item = _items[picked[k]];
            if (item.id != _expectedId(batch.merchant, item.key)) ++idNotDerived;
            if (registry.itemOf(item.id).merchant != batch.merchant) ++foreignActivations;
            if (_batchRecalled[batchNumber]) _ownRecall[item.id] = true;
        }
        _sweep();
    }

    // ------------------------------------------------------------------ custody

    /// @dev Up to three events by the oracle or the item's merchant. Ids come from a small range, so
    /// one call in four or so names an id its submitter already spent (or repeats one within the
    /// call): the registry must refuse every such call whole. The oracle never records Sold except
    /// one call in eight, which the registry must refuse.
    function recordCustody(uint256 submitterSeed, uint256 itemSeed, uint256 idSeed, uint8 count, uint40 ago) external {
        if (_items.length == 0) return;
        Tracked memory first = _items[itemSeed % _items.length];
        address submitter = submitterSeed % 2 == 0 || first.merchant == address(0)
            ? oracle
            : submitterSeed % 7 == 1 ? merchants[submitterSeed % 4] : first.merchant;
        count = uint8(_bound(count, 1, 3));
        IProductRegistry.CustodyInput[] memory events = new IProductRegistry.CustodyInput[](count);
        bool reuses;
        bool sold;
        for (uint256 i; i < count; ++i) {
            uint256 eventId = idSeed % 4 == 0
                ? uint256(keccak256(abi.encode(idSeed, i))) % EVENT_IDS
                : _nextEventId[submitter]++ + EVENT_IDS;
            if (ghostApplied[submitter][eventId]) reuses = true;
            for (uint256 j; j < i; ++j) {
                if (events[j].eventId == eventId) reuses = true;
            }
            uint256 action = _bound(uint256(keccak256(abi.encode(idSeed, "a", i))), 1, 6);
            if (action == uint256(IProductRegistry.CustodyAction.Sold) && submitter == oracle && idSeed % 8 != 1) {
                action = uint256(IProductRegistry.CustodyAction.Delivered);
            }
            if (action == uint256(IProductRegistry.CustodyAction.Sold)) sold = true;
            // Further events name the same merchant's items, so a merchant may submit them all.
            Tracked memory item = i == 0 ? first : _sameMerchantItem(first.merchant, itemSeed + i);
            events[i] = IProductRegistry.CustodyInput({
                itemId: item.id,
                eventId: eventId,
                action: IProductRegistry.CustodyAction(action),
                occurredAt: uint40(block.timestamp) - uint40(_bound(ago, 0, 3 days)),
                locationHash: keccak256(abi.encode("loc", i)),
                contextHash: bytes32(0)
            });
        }
        if (reuses) ++replaysAttempted;
        vm.prank(submitter);
        registry.recordCustody(events);
        // Reached only if the registry took every event: none may have been spent before.
        if (reuses) ++doubleApplied;
        if (sold && submitter == oracle) ++oracleSales;
        for (uint256 i; i < count; ++i) {
            ghostApplied[submitter][events[i].eventId] = true;
            if (_applied.length < MAX_APPLIED) _applied.push(Applied(submitter, events[i].eventId));
        }
        eventsApplied += count;
        _sweep();
    }

    // ------------------------------------------------------------------ reports and recalls

    function fileReport(uint256 itemSeed, uint256 reporterSeed, bool counterfeit) external {
        // One report in eight names an item nobody registered (yet).
        bytes32 id = itemSeed % 8 == 0 || _items.length == 0
            ? keccak256(abi.encode("phantom", itemSeed % 4))
            : _items[itemSeed % _items.length].id;
        vm.prank(_actor(reporterSeed % 8));
        uint256 reportId = registry.fileReport(
            id,
            counterfeit ? IProductRegistry.ReportKind.Counterfeit : IProductRegistry.ReportKind.Problem,
            keccak256(abi.encode("evidence", reporterSeed))
        );
        if (_reportIds.length < 64) _reportIds.push(reportId);
        if (itemSeed % 8 == 0 && firstMerchant[id] == address(0)) {
            IProductRegistry.ItemKey memory none;
            _track(id, bytes32(0), address(0), 0, 0, none);
        }
        _sweep();
    }

    function confirmReport(uint256 reportSeed) external {
        if (_reportIds.length == 0) return;
        uint256 reportId = _pickReport(reportSeed);
        vm.prank(verifier);
        registry.confirmReport(reportId, keccak256("finding"));
        bytes32 itemId = registry.reportOf(reportId).itemId;
        // Recalled is final and outranks a flag: a confirmed report on a recalled item adds nothing.
        if (!ghostRecalled[itemId]) ghostConfirmed[itemId] = true;
        _sweep();
    }

    function dismissReport(uint256 reportSeed) external {
        if (_reportIds.length == 0) return;
        uint256 reportId = _pickReport(reportSeed);
        vm.prank(verifier);
        registry.dismissReport(reportId, keccak256("finding"));
        _sweep();
    }

    function recallItem(uint256 itemSeed, bool byOtherMerchant) external {
        if (_items.length == 0) return;
        Tracked memory item = _items[itemSeed % _items.length];
        address caller = byOtherMerchant && itemSeed % 5 == 0 ? merchants[(itemSeed / 5) % 4] : item.merchant;
        vm.prank(caller);
        registry.recallItem(item.id, keccak256("recall"));
        ghostRecalled[item.id] = true;
        _ownRecall[item.id] = true;
        _sweep();
    }

    function recallBatch(uint256 batchSeed) external {
        if (_batches.length == 0) return;
        uint256 index = batchSeed % _batches.length;
        vm.prank(_batches[index].merchant);
        registry.recallBatch(_batches[index].root, keccak256("batch recall"));
        _batchRecalled[index + 1] = true;
        for (uint256 i; i < _items.length; ++i) {
            if (_items[i].batch == index + 1) ghostRecalled[_items[i].id] = true;
        }
        _sweep();
    }

    // ------------------------------------------------------------------ admin and time

    /// @dev The admin pauses: no registration, activation or custody event may go through until it
    /// unpauses; each is tried once, then the pause is lifted.
    function pauseProbe(uint256 seed) external {
        vm.prank(admin);
        registry.pause();
        address merchant = merchants[seed % 4];
        vm.prank(merchant);
        try registry.registerItem(_skuKey(seed), keccak256("paused"), "ipfs://paused") {
            ++pausedWrites;
        } catch {}
        if (_items.length != 0) {
            IProductRegistry.CustodyInput[] memory events = new IProductRegistry.CustodyInput[](1);
            events[0] = IProductRegistry.CustodyInput(
                _items[seed % _items.length].id,
                _nextEventId[oracle]++ + EVENT_IDS,
                IProductRegistry.CustodyAction.InTransit,
                uint40(block.timestamp),
                bytes32(0),
                bytes32(0)
            );
            vm.prank(oracle);
            try registry.recordCustody(events) {
                ++pausedWrites;
            } catch {}
        }
        vm.prank(admin);
        registry.unpause();
        _sweep();
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 0, 10 days));
        _sweep();
    }
}
