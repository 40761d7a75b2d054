// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

import {Cheats} from "./Cheats.sol";
import {Gs1Keys} from "./Gs1Keys.sol";

/// @notice The registry handler's actors, ghost books and helpers: items as registered (with the keys
/// their ids derive from), batches and their leaves, GS1 grants, custody event ids spent, breaches
/// counted at the call that makes them, and the status a shopper reads, derived from the registry.
abstract contract RegistryBooks is Cheats, Gs1Keys {
    using Strings for uint256;

    /// @dev The item status as a shopper sees it, in the only order it may move (never back).
    uint8 internal constant NONE = 0;
    uint8 internal constant ACTIVE = 1;
    uint8 internal constant FLAGGED = 2;
    uint8 internal constant RECALLED = 3;

    /// @dev Small id ranges make replays and collisions common rather than astronomically rare.
    uint256 internal constant EVENT_IDS = 48;
    /// @dev Caps keep the per-call sweep and the invariants cheap at a million calls.
    uint256 internal constant MAX_ITEMS = 20;
    uint256 internal constant MAX_APPLIED = 96;

    ProductRegistry public immutable registry;
    address public immutable admin;
    address public immutable verifier;
    address public immutable oracle;
    address[4] public merchants;

    struct Tracked {
        bytes32 id;
        bytes32 metadataHash;
        address merchant; // expected merchant (the batch's for batch items; a reassignment's target)
        uint256 batch; // 1 + index into `batches` while the id speaks through its batch, else 0
        uint8 slot; // leaf index in its batch
        IProductRegistry.ItemKey key;
    }

    struct Batch {
        bytes32 root;
        address merchant;
        bytes32[4] leaves;
        bool foreignLeaf; // leaf 3 is a rival merchant's SKU id: never activatable under this batch
    }

    Tracked[] internal _items;
    Batch[] internal _batches;
    uint256[] internal _reportIds;

    mapping(bytes32 itemId => uint8) public lastStatus;
    mapping(bytes32 itemId => address) public firstMerchant;
    mapping(bytes32 itemId => bool) public ghostRecalled;
    mapping(bytes32 itemId => bool) internal _ownRecall; // recalled by its own record, not its batch
    mapping(bytes32 itemId => bool) public ghostConfirmed;
    mapping(address submitter => mapping(uint256 eventId => bool)) public ghostApplied;
    mapping(bytes32 prefixHash => address merchant) public ghostPrefixHolder;
    mapping(uint256 batch => bool) internal _batchRecalled;

    struct Applied {
        address submitter;
        uint256 eventId;
    }

    Applied[] internal _applied;
    mapping(address submitter => uint256) internal _nextEventId;
    uint256 internal _serial;

    // Breaches, counted at the call that makes them.
    uint256 public illegalTransitions;
    uint256 public merchantChanges;
    uint256 public doubleApplied;
    uint256 public idNotDerived; // a registration or activation gave an id other than the key's own
    uint256 public gs1WithoutPrefix; // a GTIN registered by a merchant holding none of its prefixes
    uint256 public overlappingGrants; // a prefix granted inside or around another merchant's
    uint256 public foreignActivations; // a batch activated an id of another merchant
    uint256 public oracleSales; // the custody oracle recorded Sold
    uint256 public pausedWrites; // a registration or custody event went through a pause

    // Coverage: how often each path really ran.
    uint256 public eventsApplied;
    uint256 public replaysAttempted;
    uint256 public gs1Registered;
    uint256 public reassignments;
    uint256 public revocations;

    constructor(
        ProductRegistry registry_,
        address admin_,
        address verifier_,
        address oracle_,
        address[4] memory merchants_
    ) {
        registry = registry_;
        admin = admin_;
        verifier = verifier_;
        oracle = oracle_;
        merchants = merchants_;
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
        Tracked storage item = _items[index];
        if (item.batch == 0) return registry.verify(item.id);
        Batch storage batch = _batches[item.batch - 1];
        return registry.verifyBatchItem(batch.root, item.key, item.metadataHash, _proof(batch, item.slot));
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

    /// @dev Checks a registration by `merchant` that returned `id`: a SKU id is the merchant's own
    /// derivation, a GTIN is registered only by a holder of one of its company prefixes.
    function _claimed(address merchant, IProductRegistry.ItemKey memory key, bytes32 id, bytes32 expected) internal {
        if (id != expected) ++idNotDerived;
        if (key.scheme == IProductRegistry.IdScheme.Gs1) {
            ++gs1Registered;
            if (!_holdsPrefixOf(merchant, key.code)) ++gs1WithoutPrefix;
        }
    }

    /// @dev Whether the ghost grants give `merchant` a company prefix (4-12 digits, GTIN-13 form) of `gtin`.
    function _holdsPrefixOf(address merchant, string memory gtin) internal view returns (bool) {
        bytes memory gtin13 = bytes(_gtin13Of(gtin));
        for (uint256 length = 4; length <= 12; ++length) {
            bytes memory cut = new bytes(length);
            for (uint256 i; i < length; ++i) {
                cut[i] = gtin13[i];
            }
            if (ghostPrefixHolder[keccak256(cut)] == merchant) return true;
        }
        return false;
    }

    /// @dev keccak256(abi.encode(merchant, sku, serial)), or keccak256(abi.encode("gs1", gtin14, serial)).
    function _expectedId(address merchant, IProductRegistry.ItemKey memory key) internal pure returns (bytes32) {
        if (key.scheme == IProductRegistry.IdScheme.Sku) return keccak256(abi.encode(merchant, key.code, key.serial));
        return keccak256(abi.encode("gs1", string.concat("0", _gtin13Of(key.code)), key.serial));
    }

    function _skuKey(uint256 seed) internal pure returns (IProductRegistry.ItemKey memory) {
        return IProductRegistry.ItemKey(
            IProductRegistry.IdScheme.Sku, string.concat("SKU-", (seed % 4).toString()), (seed % 16).toString()
        );
    }

    function _track(
        bytes32 id,
        bytes32 metadataHash,
        address merchant,
        uint256 batch,
        uint8 slot,
        IProductRegistry.ItemKey memory key
    ) internal {
        for (uint256 i; i < _items.length; ++i) {
            // A revoked id registered afresh (by its rightful owner) is the same item.
            if (_items[i].id == id) {
                if (merchant != address(0)) _items[i].merchant = merchant;
                return;
            }
        }
        if (_items.length >= MAX_ITEMS) return;
        _items.push(Tracked(id, metadataHash, merchant, batch, slot, key));
    }

    /// @dev After every action: each item's status may only have moved forward along
    /// None -> Active -> Flagged -> Recalled (skipping steps is allowed, going back is not), and an
    /// item's merchant, once set, changes only by a verifier's reassignment (re-based there).
    function _sweep() internal {
        for (uint256 i; i < _items.length; ++i) {
            bytes32 id = _items[i].id;
            uint8 status = statusOf(i);
            if (status < lastStatus[id]) ++illegalTransitions;
            lastStatus[id] = status;
            address merchant = status == NONE ? address(0) : registry.itemOf(id).merchant;
            if (firstMerchant[id] == address(0)) firstMerchant[id] = merchant;
            else if (merchant != firstMerchant[id] && merchant != address(0)) ++merchantChanges;
        }
    }

    function _pickReport(uint256 seed) internal view returns (uint256) {
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

    function _sameMerchantItem(address merchant, uint256 seed) internal view returns (Tracked memory) {
        uint256 n = _items.length;
        for (uint256 k; k < n; ++k) {
            Tracked memory candidate = _items[(seed + k) % n];
            if (candidate.merchant == merchant) return candidate;
        }
        return _items[seed % n];
    }

    function _pickBatchItem(uint256 seed) internal view returns (bool found, uint256 index) {
        uint256 n = _items.length;
        for (uint256 k; k < n; ++k) {
            index = (seed + k) % n;
            if (_items[index].batch != 0) return (true, index);
        }
    }

    /// @dev Another tracked item of batch `batchNumber` (1-based), or `index` itself when it has none.
    function _sameBatchItem(uint256 batchNumber, uint256 seed, uint256 index) internal view returns (uint256) {
        uint256 n = _items.length;
        for (uint256 k; k < n; ++k) {
            uint256 candidate = (seed + k) % n;
            if (candidate != index && _items[candidate].batch == batchNumber) return candidate;
        }
        return index;
    }

    function _proof(Batch storage batch, uint8 slot) internal view returns (bytes32[] memory proof) {
        proof = new bytes32[](2);
        proof[0] = batch.leaves[slot ^ 1];
        proof[1] = slot < 2 ? _pair(batch.leaves[2], batch.leaves[3]) : _pair(batch.leaves[0], batch.leaves[1]);
    }

    /// @dev A node of @openzeppelin/merkle-tree's standard tree: the hash of the sorted pair.
    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
