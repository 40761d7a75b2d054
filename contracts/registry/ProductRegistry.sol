// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ADMIN_TRANSFER_DELAY} from "../common/AdminDelay.sol";
import {IProductRegistry} from "./IProductRegistry.sol";
import {ItemIds} from "./ItemIds.sol";

/// @title ProductRegistry
/// @notice Product provenance: verified merchants register items singly or as Merkle batches,
/// custody events form each item's trail, anyone reports a problem, shoppers read a verdict.
/// @dev Decisions:
/// - Ids are derived here, never taken from the caller: a SKU id from the registering merchant's own
///   address, a GS1 id only under a company prefix a verifier granted that merchant (GS1 licenses
///   prefixes the same way). A batch leaf still commits to `(itemId, metadataHash)`, compatible with
///   OpenZeppelin's merkle-tree library (standard tree); activating or verifying it shows the key the id came
///   from, derived under the batch's merchant. Nobody can claim, activate or be credited with another
///   merchant's id; a verifier can still move or revoke an id registered in error.
/// - The escrow holds an order's items (`held`): an item is in at most one open order, and once sold
///   through one it stays held, so a serialised item is sold once.
contract ProductRegistry is IProductRegistry, AccessControlDefaultAdminRules, Pausable, ERC2771Context {
    /// @notice Approves, suspends and reinstates merchants; grants GS1 prefixes; reassigns items;
    /// confirms or dismisses reports.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice Appends custody events for any registered item (carriers, through the service).
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Holds and frees items for orders and records their sales (the order escrow).
    bytes32 public constant ESCROW_ROLE = keccak256("ESCROW_ROLE");

    uint256 private constant _MIN_PREFIX = 4;
    uint256 private constant _MAX_PREFIX = 12;

    mapping(address merchant => Merchant) private _merchants;
    mapping(bytes32 itemId => Item) private _items;
    mapping(bytes32 root => Batch) private _batches;
    /// @dev The batch an activated batch item came from, so a batch recall reaches `verify`.
    mapping(bytes32 itemId => bytes32 root) private _itemBatch;
    mapping(uint256 reportId => Report) private _reports;
    /// @dev Permit2-style: one bit per event id, 256 ids to a word, per submitter.
    mapping(address submitter => mapping(uint256 word => uint256 bits)) private _spentEventIds;
    /// @dev keccak256 of a GS1 company prefix's digits => the merchant it was granted to.
    mapping(bytes32 prefixHash => address merchant) private _gs1Prefixes;
    /// @dev keccak256 of some digits => how many granted prefixes extend them. With the check of
    /// shorter prefixes, it keeps granted prefixes prefix-free: no GTIN falls under two merchants.
    mapping(bytes32 digitsHash => uint256 count) private _gs1Extensions;
    uint256 private _reportCount;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants the other roles and pauses; handed over
    /// only in two steps, `ADMIN_TRANSFER_DELAY` apart.
    /// @param forwarder The suite's ERC-2771 forwarder (`TrustMallForwarder`): a call it forwards acts
    /// as the request's signer, under every rule a direct call meets. Immutable, so no key can later
    /// name another forwarder; the zero address turns forwarded calls off.
    constructor(address admin, address forwarder)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
        ERC2771Context(forwarder)
    {}

    // ------------------------------------------------------------------ merchants

    /// @inheritdoc IProductRegistry
    function approveMerchant(address merchant, string calldata name, bytes32 identityHash)
        external
        onlyRole(VERIFIER_ROLE)
    {
        if (merchant == address(0)) revert RegistryZeroAddress();
        if (identityHash == bytes32(0)) revert RegistryZeroId();
        Merchant storage record = _merchants[merchant];
        if (record.status != MerchantStatus.None) revert RegistryMerchantAlreadyApproved(merchant);
        record.status = MerchantStatus.Active;
        record.approvedAt = uint40(block.timestamp);
        record.identityHash = identityHash;
        record.name = name;
        emit MerchantApproved(merchant, name, identityHash, _msgSender());
    }

    /// @inheritdoc IProductRegistry
    function suspendMerchant(address merchant, bytes32 reasonHash) external onlyRole(VERIFIER_ROLE) {
        Merchant storage record = _merchants[merchant];
        if (record.status == MerchantStatus.None) revert RegistryMerchantUnknown(merchant);
        if (record.status != MerchantStatus.Active) revert RegistryMerchantStatusUnchanged(merchant, record.status);
        record.status = MerchantStatus.Suspended;
        emit MerchantSuspended(merchant, reasonHash, _msgSender());
    }

    /// @inheritdoc IProductRegistry
    function reinstateMerchant(address merchant) external onlyRole(VERIFIER_ROLE) {
        Merchant storage record = _merchants[merchant];
        if (record.status == MerchantStatus.None) revert RegistryMerchantUnknown(merchant);
        if (record.status != MerchantStatus.Suspended) revert RegistryMerchantStatusUnchanged(merchant, record.status);
        record.status = MerchantStatus.Active;
        emit MerchantReinstated(merchant, _msgSender());
    }

    /// @inheritdoc IProductRegistry
    function grantGs1Prefix(string calldata prefix, address merchant) external onlyRole(VERIFIER_ROLE) {
        bytes calldata digits = bytes(prefix);
        uint256 length = digits.length;
        if (length < _MIN_PREFIX || length > _MAX_PREFIX) revert RegistryInvalidGs1Prefix(prefix);
        for (uint256 i; i < length; ++i) {
            if (digits[i] < "0" || digits[i] > "9") revert RegistryInvalidGs1Prefix(prefix);
        }
        Merchant storage record = _merchants[merchant];
        if (record.status == MerchantStatus.None) revert RegistryMerchantUnknown(merchant);
        // The prefix itself and every shorter prefix of it: a grant may not reach into another's range,
        // nor cover a longer prefix already granted (GS1's own prefixes never nest).
        for (uint256 cut = _MIN_PREFIX; cut <= length; ++cut) {
            address holder = _gs1Prefixes[keccak256(digits[:cut])];
            if (holder != address(0)) revert RegistryGs1PrefixTaken(prefix, holder);
        }
        if (_gs1Extensions[keccak256(digits)] != 0) revert RegistryGs1PrefixTaken(prefix, address(0));
        for (uint256 cut = _MIN_PREFIX; cut < length; ++cut) {
            ++_gs1Extensions[keccak256(digits[:cut])];
        }
        _gs1Prefixes[keccak256(digits)] = merchant;
        record.gs1PrefixLengths |= uint16(1 << length);
        emit Gs1PrefixGranted(prefix, merchant, _msgSender());
    }

    /// @inheritdoc IProductRegistry
    function revokeGs1Prefix(string calldata prefix) external onlyRole(VERIFIER_ROLE) {
        bytes calldata digits = bytes(prefix);
        bytes32 key = keccak256(digits);
        address holder = _gs1Prefixes[key];
        if (holder == address(0)) revert RegistryGs1PrefixNotHeld(prefix);
        delete _gs1Prefixes[key];
        for (uint256 cut = _MIN_PREFIX; cut < digits.length; ++cut) {
            --_gs1Extensions[keccak256(digits[:cut])];
        }
        emit Gs1PrefixRevoked(prefix, holder, _msgSender());
    }

    /// @inheritdoc IProductRegistry
    function reassignItem(bytes32 itemId, address to, bytes32 reasonHash) external onlyRole(VERIFIER_ROLE) {
        Item storage item = _items[itemId];
        address from = item.merchant;
        if (from == address(0)) revert RegistryItemNotRegistered(itemId);
        if (to == from || (to != address(0) && _merchants[to].status == MerchantStatus.None)) {
            revert RegistryReassignTarget(itemId, to);
        }
        // The id leaves its batch: the batch was the old merchant's commitment, not the new one's. A
        // recall of that batch stays with the goods, which were made and sold under it.
        if (_inRecalledBatch(itemId, item)) item.state = ItemState.Recalled;
        delete _itemBatch[itemId];
        if (to == address(0)) {
            // Revoked: the rightful owner registers it afresh. The hold survives, so an order still
            // holding the id keeps it (no second order can hold it until that one frees it, which
            // would otherwise free the second order's hold); its sale of the id finds no merchant.
            bool held = item.held;
            delete _items[itemId];
            _items[itemId].held = held;
        } else {
            item.merchant = to;
            item.inBatch = false;
        }
        emit ItemReassigned(itemId, from, to, reasonHash);
    }

    // ------------------------------------------------------------------ items and batches

    /// @inheritdoc IProductRegistry
    function registerItem(ItemKey calldata key, bytes32 metadataHash, string calldata metadataURI)
        external
        whenNotPaused
        returns (bytes32 itemId)
    {
        address sender = _msgSender();
        Merchant storage merchant = _activeMerchant(sender);
        itemId = _idOf(sender, merchant, key);
        _register(sender, itemId, metadataHash, metadataURI);
    }

    /// @inheritdoc IProductRegistry
    function registerItems(ItemInput[] calldata items) external whenNotPaused {
        if (items.length == 0) revert RegistryEmptyInput();
        address sender = _msgSender();
        Merchant storage merchant = _activeMerchant(sender);
        for (uint256 i; i < items.length; ++i) {
            ItemInput calldata input = items[i];
            _register(sender, _idOf(sender, merchant, input.key), input.metadataHash, input.metadataURI);
        }
    }

    /// @inheritdoc IProductRegistry
    function registerBatch(bytes32 root, uint32 itemCount, bytes32 metadataHash, string calldata metadataURI)
        external
        whenNotPaused
    {
        address sender = _msgSender();
        _activeMerchant(sender);
        if (root == bytes32(0) || metadataHash == bytes32(0)) revert RegistryZeroId();
        if (itemCount == 0) revert RegistryBatchEmpty(root);
        Batch storage batch = _batches[root];
        if (batch.merchant != address(0)) revert RegistryBatchAlreadyRegistered(root);
        batch.merchant = sender;
        batch.registeredAt = uint40(block.timestamp);
        batch.itemCount = itemCount;
        emit BatchRegistered(root, sender, itemCount, metadataHash, metadataURI);
    }

    /// @inheritdoc IProductRegistry
    function activateBatchItem(bytes32 root, ItemKey calldata key, bytes32 metadataHash, bytes32[] calldata proof)
        external
        whenNotPaused
        returns (bytes32 itemId)
    {
        Batch storage batch = _batches[root];
        address owner = _batchMerchant(root, batch);
        (itemId,) = _activate(root, batch, owner, key, metadataHash, proof, false);
    }

    /// @inheritdoc IProductRegistry
    function activateBatchItems(bytes32 root, BatchItemProof[] calldata items)
        external
        whenNotPaused
        returns (uint256 activated)
    {
        if (items.length == 0) revert RegistryEmptyInput();
        Batch storage batch = _batches[root];
        address owner = _batchMerchant(root, batch);
        for (uint256 i; i < items.length; ++i) {
            BatchItemProof calldata item = items[i];
            (, bool done) = _activate(root, batch, owner, item.key, item.metadataHash, item.proof, true);
            if (done) ++activated;
        }
    }

    function _batchMerchant(bytes32 root, Batch storage batch) private view returns (address owner) {
        owner = batch.merchant;
        if (owner == address(0)) revert RegistryBatchNotRegistered(root);
    }

    /// @dev Proves the item against the batch's root and gives it a record; with `skipActive`, an item
    /// already activated from this batch is left as it is (returns false).
    function _activate(
        bytes32 root,
        Batch storage batch,
        address owner,
        ItemKey calldata key,
        bytes32 metadataHash,
        bytes32[] calldata proof,
        bool skipActive
    ) private returns (bytes32 itemId, bool activated) {
        itemId = _idOf(owner, _merchants[owner], key);
        if (!MerkleProof.verifyCalldata(proof, root, batchLeaf(itemId, metadataHash))) {
            revert RegistryInvalidProof(root, itemId);
        }
        Item storage item = _items[itemId];
        // A batch item flagged before activation has a record with no merchant; it keeps its flag.
        if (item.merchant != address(0)) {
            if (skipActive && item.inBatch && _itemBatch[itemId] == root) return (itemId, false);
            revert RegistryItemAlreadyRegistered(itemId);
        }
        item.merchant = owner;
        item.updatedAt = uint40(block.timestamp);
        item.inBatch = true;
        _itemBatch[itemId] = root;
        if (batch.recalled) item.state = ItemState.Recalled;
        emit BatchItemActivated(itemId, root, metadataHash);
        return (itemId, true);
    }

    // ------------------------------------------------------------------ custody

    /// @inheritdoc IProductRegistry
    function recordCustody(CustodyInput[] calldata events) external whenNotPaused {
        if (events.length == 0) revert RegistryEmptyInput();
        address sender = _msgSender();
        bool isOracle = hasRole(ORACLE_ROLE, sender);
        if (!isOracle) _activeMerchant(sender);
        for (uint256 i; i < events.length; ++i) {
            CustodyInput calldata input = events[i];
            if (isOracle && input.action == CustodyAction.Sold) {
                revert RegistryActionNotAllowed(input.eventId, input.action);
            }
            _record(input, isOracle ? address(0) : sender, sender);
        }
    }

    // ------------------------------------------------------------------ escrow

    /// @inheritdoc IProductRegistry
    function holdItems(bytes32 orderId, address merchant, bytes32[] calldata itemIds) external onlyRole(ESCROW_ROLE) {
        bool merchantActive = _merchants[merchant].status == MerchantStatus.Active;
        for (uint256 i; i < itemIds.length; ++i) {
            bytes32 itemId = itemIds[i];
            Item storage item = _items[itemId];
            if (item.merchant != merchant || merchant == address(0)) {
                revert RegistryItemNotOfMerchant(itemId, merchant);
            }
            if (item.state != ItemState.Active || _inRecalledBatch(itemId, item) || !merchantActive) {
                revert RegistryItemNotAuthentic(itemId, verify(itemId));
            }
            // Also refuses an id listed twice in one order: its first listing holds it.
            if (item.held) revert RegistryItemHeld(itemId);
            item.held = true;
            emit ItemHeld(itemId, orderId);
        }
    }

    /// @inheritdoc IProductRegistry
    function freeItems(bytes32 orderId, bytes32[] calldata itemIds, uint32 items) external onlyRole(ESCROW_ROLE) {
        for (uint256 i; i < itemIds.length; ++i) {
            if (items & (uint32(1) << i) == 0) continue;
            Item storage item = _items[itemIds[i]];
            if (!item.held) continue;
            item.held = false;
            emit ItemFreed(itemIds[i], orderId);
        }
    }

    /// @inheritdoc IProductRegistry
    function recordSales(address merchant, CustodyInput[] calldata sales) external onlyRole(ESCROW_ROLE) {
        for (uint256 i; i < sales.length; ++i) {
            CustodyInput calldata input = sales[i];
            if (input.action != CustodyAction.Sold) revert RegistryActionNotAllowed(input.eventId, input.action);
            _record(input, merchant, _msgSender());
        }
    }

    // ------------------------------------------------------------------ reports and recalls

    /// @inheritdoc IProductRegistry
    function fileReport(bytes32 itemId, ReportKind kind, bytes32 evidenceHash) external returns (uint256 reportId) {
        if (itemId == bytes32(0) || evidenceHash == bytes32(0)) revert RegistryZeroId();
        reportId = ++_reportCount;
        _reports[reportId] = Report({
            itemId: itemId,
            reporter: _msgSender(),
            filedAt: uint40(block.timestamp),
            kind: kind,
            status: ReportStatus.Open,
            evidenceHash: evidenceHash
        });
        emit ReportFiled(reportId, itemId, _msgSender(), kind, evidenceHash);
    }

    /// @inheritdoc IProductRegistry
    function confirmReport(uint256 reportId, bytes32 findingHash) external onlyRole(VERIFIER_ROLE) {
        Report storage report = _openReport(reportId);
        report.status = ReportStatus.Confirmed;
        bytes32 itemId = report.itemId;
        emit ReportConfirmed(reportId, itemId, findingHash, _msgSender());
        Item storage item = _items[itemId];
        // Recalled is final and outranks a flag; a second confirmed report changes nothing.
        // `updatedAt` is left alone: it orders custody events, and the flag's time is in the logs.
        if (item.state == ItemState.Active && !_inRecalledBatch(itemId, item)) {
            item.state = ItemState.Flagged;
            emit ItemFlagged(itemId, reportId);
        }
    }

    /// @inheritdoc IProductRegistry
    function dismissReport(uint256 reportId, bytes32 findingHash) external onlyRole(VERIFIER_ROLE) {
        Report storage report = _openReport(reportId);
        report.status = ReportStatus.Dismissed;
        emit ReportDismissed(reportId, report.itemId, findingHash, _msgSender());
    }

    /// @inheritdoc IProductRegistry
    function recallItem(bytes32 itemId, bytes32 reasonHash) external {
        address sender = _msgSender();
        Item storage item = _items[itemId];
        if (item.merchant == address(0)) revert RegistryItemNotRegistered(itemId);
        if (item.merchant != sender) revert RegistryNotItemCustodian(sender, itemId);
        if (item.state == ItemState.Recalled || _inRecalledBatch(itemId, item)) {
            revert RegistryItemAlreadyRecalled(itemId);
        }
        // `updatedAt` is left alone: it orders custody events, and the recall's time is in the logs.
        item.state = ItemState.Recalled;
        emit ItemRecalled(itemId, sender, reasonHash);
    }

    /// @inheritdoc IProductRegistry
    function recallBatch(bytes32 root, bytes32 reasonHash) external {
        address sender = _msgSender();
        Batch storage batch = _batches[root];
        if (batch.merchant == address(0)) revert RegistryBatchNotRegistered(root);
        if (batch.merchant != sender) revert RegistryNotBatchMerchant(sender, root);
        if (batch.recalled) revert RegistryBatchAlreadyRecalled(root);
        batch.recalled = true;
        emit BatchRecalled(root, sender, reasonHash);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IProductRegistry
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc IProductRegistry
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProductRegistry
    function verify(bytes32 itemId) public view returns (Verdict) {
        Item storage item = _items[itemId];
        if (item.state == ItemState.Recalled || _inRecalledBatch(itemId, item)) return Verdict.Recalled;
        if (item.state == ItemState.Flagged) return Verdict.Flagged;
        if (item.merchant == address(0)) return Verdict.Unknown;
        if (_merchants[item.merchant].status != MerchantStatus.Active) return Verdict.MerchantSuspended;
        return Verdict.Authentic;
    }

    /// @inheritdoc IProductRegistry
    function verifyBatchItem(bytes32 root, ItemKey calldata key, bytes32 metadataHash, bytes32[] calldata proof)
        external
        view
        returns (Verdict)
    {
        Batch storage batch = _batches[root];
        address owner = batch.merchant;
        if (owner == address(0)) return Verdict.Unknown;
        (bytes32 itemId, bool owned) = _tryIdOf(owner, _merchants[owner], key);
        if (!owned) return Verdict.Unknown;
        if (!MerkleProof.verifyCalldata(proof, root, batchLeaf(itemId, metadataHash))) return Verdict.Unknown;
        Item storage item = _items[itemId];
        // Reassigned by a verifier (or registered singly): the batch no longer speaks for this id.
        if (item.merchant != address(0) && (item.merchant != owner || _itemBatch[itemId] != root)) {
            return Verdict.Unknown;
        }
        if (batch.recalled) return Verdict.Recalled;
        if (item.state == ItemState.Recalled) return Verdict.Recalled;
        if (item.state == ItemState.Flagged) return Verdict.Flagged;
        if (_merchants[owner].status != MerchantStatus.Active) return Verdict.MerchantSuspended;
        return Verdict.Authentic;
    }

    /// @inheritdoc IProductRegistry
    function merchantOf(address merchant) external view returns (Merchant memory) {
        return _merchants[merchant];
    }

    /// @inheritdoc IProductRegistry
    function merchantStanding(address merchant) external view returns (MerchantStatus, bytes32) {
        Merchant storage record = _merchants[merchant];
        return (record.status, record.identityHash);
    }

    /// @inheritdoc IProductRegistry
    function gs1PrefixHolder(string calldata prefix) external view returns (address) {
        return _gs1Prefixes[keccak256(bytes(prefix))];
    }

    /// @inheritdoc IProductRegistry
    function itemIdOfKey(address merchant, ItemKey calldata key) external view returns (bytes32) {
        return _idOf(merchant, _merchants[merchant], key);
    }

    /// @inheritdoc IProductRegistry
    function itemOf(bytes32 itemId) external view returns (Item memory) {
        return _items[itemId];
    }

    /// @inheritdoc IProductRegistry
    function batchOf(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @inheritdoc IProductRegistry
    function reportOf(uint256 reportId) external view returns (Report memory) {
        return _reports[reportId];
    }

    /// @inheritdoc IProductRegistry
    function reportCount() external view returns (uint256) {
        return _reportCount;
    }

    /// @inheritdoc IProductRegistry
    function isEventRecorded(address submitter, uint256 eventId) external view returns (bool) {
        return _spentEventIds[submitter][eventId >> 8] & (1 << (eventId & 0xff)) != 0;
    }

    /// @inheritdoc IProductRegistry
    function batchLeaf(bytes32 itemId, bytes32 metadataHash) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(itemId, metadataHash))));
    }

    /// @inheritdoc IProductRegistry
    function itemIdOf(address merchant, string calldata sku, string calldata serial) external pure returns (bytes32) {
        return ItemIds.fromSku(merchant, sku, serial);
    }

    /// @inheritdoc IProductRegistry
    function gs1ItemId(string calldata gtin, string calldata serial) external pure returns (bytes32) {
        return ItemIds.fromGs1(gtin, serial);
    }

    // ------------------------------------------------------------------ internals

    function _register(address owner, bytes32 itemId, bytes32 metadataHash, string calldata metadataURI) private {
        if (metadataHash == bytes32(0)) revert RegistryZeroId();
        Item storage item = _items[itemId];
        // Checks the whole slot: a flagged-before-activation batch item id is taken too.
        if (item.merchant != address(0) || item.state != ItemState.Active) {
            revert RegistryItemAlreadyRegistered(itemId);
        }
        item.merchant = owner;
        item.updatedAt = uint40(block.timestamp);
        emit ItemRegistered(itemId, owner, metadataHash, metadataURI);
    }

    /// @dev Appends one custody event; `merchant` zero lets any registered item through (the oracle).
    /// @dev `merchant` is the merchant the item must belong to (zero: any, for the custody oracle);
    /// `submitter` owns the event id's namespace.
    function _record(CustodyInput calldata input, address merchant, address submitter) private {
        if (input.action == CustodyAction.None) revert RegistryInvalidAction(input.eventId);
        if (input.occurredAt > block.timestamp) {
            revert RegistryEventInFuture(input.eventId, input.occurredAt, block.timestamp);
        }
        Item storage item = _items[input.itemId];
        address owner = item.merchant;
        if (owner == address(0)) revert RegistryItemNotRegistered(input.itemId);
        if (merchant != address(0) && owner != merchant) revert RegistryNotItemCustodian(merchant, input.itemId);
        _spendEventId(submitter, input.eventId);
        // Late-arriving events join the trail but do not move the current status back in time.
        // The first event sets the status even if it happened before the item was registered.
        if (item.lastAction == CustodyAction.None || input.occurredAt >= item.updatedAt) {
            item.updatedAt = input.occurredAt;
            item.lastAction = input.action;
        }
        emit CustodyRecorded(
            input.itemId,
            submitter,
            input.eventId,
            input.action,
            input.occurredAt,
            input.locationHash,
            input.contextHash
        );
    }

    /// @dev The id `key` names for `owner`; reverts when a GS1 key's prefix is not the owner's.
    function _idOf(address owner, Merchant storage record, ItemKey calldata key) private view returns (bytes32 itemId) {
        bool owned;
        (itemId, owned) = _tryIdOf(owner, record, key);
        if (!owned) revert RegistryGs1PrefixNotGranted(owner, key.code);
    }

    /// @dev The id `key` names, and whether `owner` may claim it (always for a SKU, by prefix for GS1).
    function _tryIdOf(address owner, Merchant storage record, ItemKey calldata key)
        private
        view
        returns (bytes32 itemId, bool owned)
    {
        if (key.scheme == IdScheme.Sku) return (ItemIds.fromSku(owner, key.code, key.serial), true);
        string memory gtin14 = ItemIds.normalizeGtin(key.code);
        itemId = keccak256(abi.encode("gs1", gtin14, ItemIds.validSerial(key.serial)));
        uint16 lengths = record.gs1PrefixLengths;
        for (uint256 length = _MIN_PREFIX; length <= _MAX_PREFIX; ++length) {
            if (lengths & (1 << length) == 0) continue;
            if (_gs1Prefixes[ItemIds.companyPrefixHash(gtin14, length)] == owner) return (itemId, true);
        }
        return (itemId, false);
    }

    function _spendEventId(address submitter, uint256 eventId) private {
        uint256 word = eventId >> 8;
        uint256 bit = 1 << (eventId & 0xff);
        uint256 bits = _spentEventIds[submitter][word];
        if (bits & bit != 0) revert RegistryEventAlreadyRecorded(submitter, eventId);
        _spentEventIds[submitter][word] = bits | bit;
    }

    /// @dev Whether an activated batch item's batch was recalled (the recall does not touch item records).
    function _inRecalledBatch(bytes32 itemId, Item storage item) private view returns (bool) {
        return item.inBatch && _batches[_itemBatch[itemId]].recalled;
    }

    function _activeMerchant(address account) private view returns (Merchant storage record) {
        record = _merchants[account];
        if (record.status != MerchantStatus.Active) revert RegistryMerchantNotActive(account);
    }

    function _openReport(uint256 reportId) private view returns (Report storage report) {
        report = _reports[reportId];
        if (report.status == ReportStatus.None) revert RegistryReportUnknown(reportId);
        if (report.status != ReportStatus.Open) revert RegistryReportClosed(reportId, report.status);
    }

    // ------------------------------------------------------------------ the caller

    /// @inheritdoc IProductRegistry
    function trustedForwarder() public view override(IProductRegistry, ERC2771Context) returns (address) {
        return ERC2771Context.trustedForwarder();
    }

    /// @dev A forwarded call's sender is the request's signer (ERC-2771); any other call's is `msg.sender`.
    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
