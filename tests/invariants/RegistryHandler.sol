// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

import {Cheats} from "./Cheats.sol";

/// @notice Drives the product registry as its real actors would: a verifier, a logistics oracle,
/// four merchants (one not yet approved), and shoppers filing reports, with time moving on.
/// Ghost state is the handler's own record of what succeeded, kept apart from the registry's.
contract RegistryHandler is Cheats {
    /// @dev The item status as a shopper sees it, in the only order it may move (never back).
    uint8 internal constant NONE = 0;
    uint8 internal constant ACTIVE = 1;
    uint8 internal constant FLAGGED = 2;
    uint8 internal constant RECALLED = 3;

    /// @dev Small id ranges make replays and collisions common rather than astronomically rare.
    uint256 internal constant EVENT_IDS = 48;
    /// @dev Caps keep the per-call sweep and the invariants cheap at a million calls.
    uint256 internal constant MAX_ITEMS = 16;
    uint256 internal constant MAX_APPLIED = 96;

    ProductRegistry public immutable registry;
    address public immutable verifier;
    address public immutable oracle;
    address[4] public merchants;

    struct Tracked {
        bytes32 id;
        bytes32 metadataHash;
        address merchant; // expected merchant (the batch's for batch items)
        uint256 batch; // 1 + index into `batches`, or 0 for a single item
        uint8 slot; // leaf index in its batch
    }

    struct Batch {
        bytes32 root;
        address merchant;
        bytes32[4] leaves;
    }

    Tracked[] internal _items;
    Batch[] internal _batches;
    uint256[] internal _reportIds;

    mapping(bytes32 itemId => uint8) public lastStatus;
    mapping(bytes32 itemId => address) public firstMerchant;
    mapping(bytes32 itemId => bool) public ghostRecalled;
    mapping(bytes32 itemId => bool) public ghostConfirmed;
    mapping(address submitter => mapping(uint256 eventId => bool)) public ghostApplied;

    struct Applied {
        address submitter;
        uint256 eventId;
    }

    Applied[] internal _applied;
    mapping(address submitter => uint256) internal _nextEventId;

    uint256 public illegalTransitions;
    uint256 public merchantChanges;
    uint256 public doubleApplied;
    uint256 public eventsApplied;
    uint256 public replaysAttempted;

    constructor(ProductRegistry registry_, address verifier_, address oracle_, address[4] memory merchants_) {
        registry = registry_;
        verifier = verifier_;
        oracle = oracle_;
        merchants = merchants_;
    }

    // ------------------------------------------------------------------ merchants

    /// @dev The verifier's next move for a merchant: approve a newcomer, suspend an active one,
    /// reinstate a suspended one.
    function toggleMerchant(uint256 merchantSeed) external {
        address merchant = merchants[merchantSeed % 4];
        IProductRegistry.MerchantStatus status = registry.merchantOf(merchant).status;
        vm.prank(verifier);
        if (status == IProductRegistry.MerchantStatus.None) {
            registry.approveMerchant(merchant, "merchant", keccak256(abi.encode(merchant)));
        } else if (status == IProductRegistry.MerchantStatus.Active) {
            registry.suspendMerchant(merchant, keccak256("suspended"));
        } else {
            registry.reinstateMerchant(merchant);
        }
        _sweep();
    }

    // ------------------------------------------------------------------ items

    function registerItem(uint256 merchantSeed, uint256 serial) external {
        address merchant = merchants[merchantSeed % 4];
        bytes32 id = keccak256(abi.encode(merchant, serial % 64));
        bytes32 metadataHash = keccak256(abi.encode("meta", id));
        vm.prank(merchant);
        registry.registerItem(id, metadataHash, "ipfs://item");
        _track(id, metadataHash, merchant, 0, 0);
        _sweep();
    }

    function registerBatch(uint256 merchantSeed, uint256 salt) external {
        address merchant = merchants[merchantSeed % 4];
        Batch memory batch;
        batch.merchant = merchant;
        bytes32[4] memory ids;
        bytes32[4] memory metas;
        for (uint256 i; i < 4; ++i) {
            ids[i] = keccak256(abi.encode(merchant, "batch", salt % 64, i));
            metas[i] = keccak256(abi.encode("meta", ids[i]));
            batch.leaves[i] = registry.batchLeaf(ids[i], metas[i]);
        }
        batch.root = _pair(_pair(batch.leaves[0], batch.leaves[1]), _pair(batch.leaves[2], batch.leaves[3]));
        vm.prank(merchant);
        registry.registerBatch(batch.root, 4, keccak256(abi.encode("manifest", batch.root)), "ipfs://batch");
        _batches.push(batch);
        for (uint256 i; i < 4; ++i) {
            _track(ids[i], metas[i], merchant, _batches.length, uint8(i));
        }
        _sweep();
    }

    /// @dev Anyone may activate with a proof; one call in four tries a proof for the wrong slot.
    function activateBatchItem(uint256 itemSeed, uint256 senderSeed, bool wrongProof) external {
        Tracked memory item = _pickBatchItem(itemSeed);
        if (item.batch == 0) return;
        uint8 slot = wrongProof && senderSeed % 4 == 0 ? (item.slot + 1) % 4 : item.slot;
        bytes32[] memory proof = _proof(_batches[item.batch - 1], slot);
        vm.prank(_actor(senderSeed % 8));
        registry.activateBatchItem(_batches[item.batch - 1].root, item.id, item.metadataHash, proof);
        _sweep();
    }

    // ------------------------------------------------------------------ custody

    /// @dev Up to three events by the oracle or the item's merchant. Ids come from a small range, so
    /// one call in four or so names an id its submitter already spent (or repeats one within the
    /// call): the registry must refuse every such call whole.
    function recordCustody(uint256 submitterSeed, uint256 itemSeed, uint256 idSeed, uint8 count, uint40 ago)
        external
    {
        if (_items.length == 0) return;
        Tracked memory first = _items[itemSeed % _items.length];
        address submitter = submitterSeed % 2 == 0 || first.merchant == address(0)
            ? oracle
            : submitterSeed % 7 == 1 ? merchants[submitterSeed % 4] : first.merchant;
        count = uint8(_bound(count, 1, 3));
        IProductRegistry.CustodyInput[] memory events = new IProductRegistry.CustodyInput[](count);
        bool reuses;
        for (uint256 i; i < count; ++i) {
            uint256 eventId = idSeed % 4 == 0
                ? uint256(keccak256(abi.encode(idSeed, i))) % EVENT_IDS
                : _nextEventId[submitter]++ + EVENT_IDS;
            if (ghostApplied[submitter][eventId]) reuses = true;
            for (uint256 j; j < i; ++j) {
                if (events[j].eventId == eventId) reuses = true;
            }
            // Further events name the same merchant's items, so a merchant may submit them all.
            Tracked memory item = i == 0 ? first : _sameMerchantItem(first.merchant, itemSeed + i);
            events[i] = IProductRegistry.CustodyInput({
                itemId: item.id,
                eventId: eventId,
                action: IProductRegistry.CustodyAction(_bound(uint256(keccak256(abi.encode(idSeed, "a", i))), 1, 6)),
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
        if (itemSeed % 8 == 0 && _items.length < MAX_ITEMS && firstMerchant[id] == address(0)) {
            _track(id, bytes32(0), address(0), 0, 0);
        }
        _sweep();
    }

    function confirmReport(uint256 reportSeed) external {
        if (_reportIds.length == 0) return;
        uint256 reportId = _pickReport(reportSeed);
        vm.prank(verifier);
        registry.confirmReport(reportId, keccak256("finding"));
        ghostConfirmed[registry.reportOf(reportId).itemId] = true;
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
        _sweep();
    }

    function recallBatch(uint256 batchSeed) external {
        if (_batches.length == 0) return;
        uint256 index = batchSeed % _batches.length;
        vm.prank(_batches[index].merchant);
        registry.recallBatch(_batches[index].root, keccak256("batch recall"));
        for (uint256 i; i < _items.length; ++i) {
            if (_items[i].batch == index + 1) ghostRecalled[_items[i].id] = true;
        }
        _sweep();
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 0, 10 days));
        _sweep();
    }

    // ------------------------------------------------------------------ what the invariants read

    function itemCount() external view returns (uint256) {
        return _items.length;
    }

    function itemAt(uint256 index) external view returns (Tracked memory) {
        return _items[index];
    }

    function appliedCount() external view returns (uint256) {
        return _applied.length;
    }

    function appliedAt(uint256 index) external view returns (Applied memory) {
        return _applied[index];
    }

    /// @notice The verdict a shopper reads for a tracked item: by id, or by Merkle proof for a batch
    /// item (which `verify` reads Unknown until someone activates it).
    function verdictOf(uint256 index) public view returns (IProductRegistry.Verdict) {
        Tracked memory item = _items[index];
        if (item.batch == 0) return registry.verify(item.id);
        Batch storage batch = _batches[item.batch - 1];
        return registry.verifyBatchItem(batch.root, item.id, item.metadataHash, _proof(batch, item.slot));
    }

    /// @notice The status, derived from what the registry says now: its item record, and for a batch
    /// item not yet activated (which `verify` cannot see) its batch's recall.
    function statusOf(uint256 index) public view returns (uint8) {
        Tracked storage item = _items[index];
        IProductRegistry.Item memory record = registry.itemOf(item.id);
        bool recalled = record.state == IProductRegistry.ItemState.Recalled;
        if (!recalled && record.merchant == address(0) && item.batch != 0) {
            recalled = registry.batchOf(_batches[item.batch - 1].root).recalled;
        } else if (!recalled && record.merchant != address(0)) {
            recalled = registry.verify(item.id) == IProductRegistry.Verdict.Recalled;
        }
        if (recalled) return RECALLED;
        if (record.state == IProductRegistry.ItemState.Flagged) return FLAGGED;
        if (record.merchant != address(0)) return ACTIVE;
        return NONE;
    }

    // ------------------------------------------------------------------ internals

    function _track(bytes32 id, bytes32 metadataHash, address merchant, uint256 batch, uint8 slot) private {
        if (_items.length >= MAX_ITEMS) return;
        for (uint256 i; i < _items.length; ++i) {
            if (_items[i].id == id) return;
        }
        _items.push(Tracked(id, metadataHash, merchant, batch, slot));
    }

    /// @dev After every action: each item's status may only have moved forward along
    /// None -> Active -> Flagged -> Recalled (skipping steps is allowed, going back is not), and an
    /// item's merchant, once set, never changes.
    function _sweep() private {
        for (uint256 i; i < _items.length; ++i) {
            bytes32 id = _items[i].id;
            uint8 status = statusOf(i);
            if (status < lastStatus[id]) ++illegalTransitions;
            lastStatus[id] = status;
            address merchant = status == NONE ? address(0) : registry.itemOf(id).merchant;
            if (firstMerchant[id] == address(0)) firstMerchant[id] = merchant;
            else if (merchant != firstMerchant[id]) ++merchantChanges;
        }
    }

    function _pickReport(uint256 seed) private view returns (uint256) {
        uint256 n = _reportIds.length;
        // Mostly an open report; one call in eight takes any report, closed ones included.
        if (seed % 8 != 0) {
            for (uint256 k; k < n; ++k) {
                uint256 id = _reportIds[(seed + k) % n];
                if (registry.reportOf(id).status == IProductRegistry.ReportStatus.Open) return id;
            }
        }
        return _reportIds[seed % n];
    }

    function _sameMerchantItem(address merchant, uint256 seed) private view returns (Tracked memory) {
        uint256 n = _items.length;
        for (uint256 k; k < n; ++k) {
            Tracked memory candidate = _items[(seed + k) % n];
            if (candidate.merchant == merchant) return candidate;
        }
        return _items[seed % n];
    }

    function _pickBatchItem(uint256 seed) private view returns (Tracked memory item) {
        uint256 n = _items.length;
        for (uint256 k; k < n; ++k) {
            Tracked memory candidate = _items[(seed + k) % n];
            if (candidate.batch != 0) return candidate;
        }
    }

    function _proof(Batch storage batch, uint8 slot) private view returns (bytes32[] memory proof) {
        proof = new bytes32[](2);
        proof[0] = batch.leaves[slot ^ 1];
        proof[1] = slot < 2 ? _pair(batch.leaves[2], batch.leaves[3]) : _pair(batch.leaves[0], batch.leaves[1]);
    }

    /// @dev A node of @openzeppelin/merkle-tree's standard tree: the hash of the sorted pair.
    function _pair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
