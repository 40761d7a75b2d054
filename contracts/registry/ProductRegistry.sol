// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IProductRegistry} from "./IProductRegistry.sol";
import {ItemIds} from "./ItemIds.sol";

/// @title ProductRegistry
/// @notice Product provenance: verified merchants register items singly or as Merkle batches,
/// custody events form each item's trail, anyone reports a problem, shoppers read a verdict.
contract ProductRegistry is IProductRegistry, AccessControl {
    /// @notice Approves, suspends and reinstates merchants; confirms or dismisses reports.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice Appends custody events for any registered item (carriers, through the service).
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    mapping(address merchant => Merchant) private _merchants;
    mapping(bytes32 itemId => Item) private _items;
    mapping(bytes32 root => Batch) private _batches;
    /// @dev The batch an activated batch item came from, so a batch recall reaches `verify`.
    mapping(bytes32 itemId => bytes32 root) private _itemBatch;
    mapping(uint256 reportId => Report) private _reports;
    /// @dev Permit2-style: one bit per event id, 256 ids to a word, per submitter.
    mapping(address submitter => mapping(uint256 word => uint256 bits)) private _spentEventIds;
    uint256 private _reportCount;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants the other roles.
    constructor(address admin) {
        if (admin == address(0)) revert RegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

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
        emit MerchantApproved(merchant, name, identityHash, msg.sender);
    }

    /// @inheritdoc IProductRegistry
    function suspendMerchant(address merchant, bytes32 reasonHash) external onlyRole(VERIFIER_ROLE) {
        Merchant storage record = _merchants[merchant];
        if (record.status == MerchantStatus.None) revert RegistryMerchantUnknown(merchant);
        if (record.status != MerchantStatus.Active) revert RegistryMerchantStatusUnchanged(merchant, record.status);
        record.status = MerchantStatus.Suspended;
        emit MerchantSuspended(merchant, reasonHash, msg.sender);
    }

    /// @inheritdoc IProductRegistry
    function reinstateMerchant(address merchant) external onlyRole(VERIFIER_ROLE) {
        Merchant storage record = _merchants[merchant];
        if (record.status == MerchantStatus.None) revert RegistryMerchantUnknown(merchant);
        if (record.status != MerchantStatus.Suspended) revert RegistryMerchantStatusUnchanged(merchant, record.status);
        record.status = MerchantStatus.Active;
        emit MerchantReinstated(merchant, msg.sender);
    }

    // ------------------------------------------------------------------ items and batches

    /// @inheritdoc IProductRegistry
    function registerItem(bytes32 itemId, bytes32 metadataHash, string calldata metadataURI) external {
        _requireActiveMerchant(msg.sender);
        _register(itemId, metadataHash, metadataURI);
    }

    /// @inheritdoc IProductRegistry
    function registerItems(ItemInput[] calldata items) external {
        if (items.length == 0) revert RegistryEmptyInput();
        _requireActiveMerchant(msg.sender);
        for (uint256 i; i < items.length; ++i) {
            _register(items[i].itemId, items[i].metadataHash, items[i].metadataURI);
        }
    }

    /// @inheritdoc IProductRegistry
    function registerBatch(bytes32 root, uint32 itemCount, bytes32 metadataHash, string calldata metadataURI)
        external
    {
        _requireActiveMerchant(msg.sender);
        if (root == bytes32(0) || metadataHash == bytes32(0)) revert RegistryZeroId();
        if (itemCount == 0) revert RegistryBatchEmpty(root);
        Batch storage batch = _batches[root];
        if (batch.merchant != address(0)) revert RegistryBatchAlreadyRegistered(root);
        batch.merchant = msg.sender;
        batch.registeredAt = uint40(block.timestamp);
        batch.itemCount = itemCount;
        emit BatchRegistered(root, msg.sender, itemCount, metadataHash, metadataURI);
    }

    /// @inheritdoc IProductRegistry
    function activateBatchItem(bytes32 root, bytes32 itemId, bytes32 metadataHash, bytes32[] calldata proof)
        external
    {
        if (itemId == bytes32(0)) revert RegistryZeroId();
        Batch storage batch = _batches[root];
        if (batch.merchant == address(0)) revert RegistryBatchNotRegistered(root);
        if (!MerkleProof.verifyCalldata(proof, root, batchLeaf(itemId, metadataHash))) {
            revert RegistryInvalidProof(root, itemId);
        }
        Item storage item = _items[itemId];
        // A batch item flagged before activation has a record with no merchant; it keeps its flag.
        if (item.merchant != address(0)) revert RegistryItemAlreadyRegistered(itemId);
        item.merchant = batch.merchant;
        item.updatedAt = uint40(block.timestamp);
        item.inBatch = true;
        _itemBatch[itemId] = root;
        if (batch.recalled) item.state = ItemState.Recalled;
        emit BatchItemActivated(itemId, root, metadataHash);
    }

    // ------------------------------------------------------------------ custody

    /// @inheritdoc IProductRegistry
    function recordCustody(CustodyInput[] calldata events) external {
        if (events.length == 0) revert RegistryEmptyInput();
        bool isOracle = hasRole(ORACLE_ROLE, msg.sender);
        if (!isOracle) _requireActiveMerchant(msg.sender);
        for (uint256 i; i < events.length; ++i) {
            CustodyInput calldata input = events[i];
            if (input.action == CustodyAction.None) revert RegistryInvalidAction(input.eventId);
            if (input.occurredAt > block.timestamp) {
                revert RegistryEventInFuture(input.eventId, input.occurredAt, block.timestamp);
            }
            Item storage item = _items[input.itemId];
            address merchant = item.merchant;
            if (merchant == address(0)) revert RegistryItemNotRegistered(input.itemId);
            if (!isOracle && merchant != msg.sender) revert RegistryNotItemCustodian(msg.sender, input.itemId);
            _spendEventId(input.eventId);
            // Late-arriving events join the trail but do not move the current status back in time.
            // The first event sets the status even if it happened before the item was registered.
            if (item.lastAction == CustodyAction.None || input.occurredAt >= item.updatedAt) {
                item.updatedAt = input.occurredAt;
                item.lastAction = input.action;
            }
            emit CustodyRecorded(
                input.itemId,
                msg.sender,
                input.eventId,
                input.action,
                input.occurredAt,
                input.locationHash,
                input.contextHash
            );
        }
    }

    // ------------------------------------------------------------------ reports and recalls

    /// @inheritdoc IProductRegistry
    function fileReport(bytes32 itemId, ReportKind kind, bytes32 evidenceHash) external returns (uint256 reportId) {
        if (itemId == bytes32(0) || evidenceHash == bytes32(0)) revert RegistryZeroId();
        reportId = ++_reportCount;
        _reports[reportId] = Report({
            itemId: itemId,
            reporter: msg.sender,
            filedAt: uint40(block.timestamp),
            kind: kind,
            status: ReportStatus.Open,
            evidenceHash: evidenceHash
        });
        emit ReportFiled(reportId, itemId, msg.sender, kind, evidenceHash);
    }

    /// @inheritdoc IProductRegistry
    function confirmReport(uint256 reportId, bytes32 findingHash) external onlyRole(VERIFIER_ROLE) {
        Report storage report = _openReport(reportId);
        report.status = ReportStatus.Confirmed;
        bytes32 itemId = report.itemId;
        emit ReportConfirmed(reportId, itemId, findingHash, msg.sender);
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
        emit ReportDismissed(reportId, report.itemId, findingHash, msg.sender);
    }

    /// @inheritdoc IProductRegistry
    function recallItem(bytes32 itemId, bytes32 reasonHash) external {
        Item storage item = _items[itemId];
        if (item.merchant == address(0)) revert RegistryItemNotRegistered(itemId);
        if (item.merchant != msg.sender) revert RegistryNotItemCustodian(msg.sender, itemId);
        if (item.state == ItemState.Recalled || _inRecalledBatch(itemId, item)) {
            revert RegistryItemAlreadyRecalled(itemId);
        }
        // `updatedAt` is left alone: it orders custody events, and the recall's time is in the logs.
        item.state = ItemState.Recalled;
        emit ItemRecalled(itemId, msg.sender, reasonHash);
    }

    /// @inheritdoc IProductRegistry
    function recallBatch(bytes32 root, bytes32 reasonHash) external {
        Batch storage batch = _batches[root];
        if (batch.merchant == address(0)) revert RegistryBatchNotRegistered(root);
        if (batch.merchant != msg.sender) revert RegistryNotBatchMerchant(msg.sender, root);
        if (batch.recalled) revert RegistryBatchAlreadyRecalled(root);
        batch.recalled = true;
        emit BatchRecalled(root, msg.sender, reasonHash);
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
    function verifyBatchItem(bytes32 root, bytes32 itemId, bytes32 metadataHash, bytes32[] calldata proof)
        external
        view
        returns (Verdict)
    {
        Batch storage batch = _batches[root];
        if (batch.merchant == address(0)) return Verdict.Unknown;
        if (!MerkleProof.verifyCalldata(proof, root, batchLeaf(itemId, metadataHash))) return Verdict.Unknown;
        if (batch.recalled) return Verdict.Recalled;
        ItemState state = _items[itemId].state;
        if (state == ItemState.Recalled) return Verdict.Recalled;
        if (state == ItemState.Flagged) return Verdict.Flagged;
        if (_merchants[batch.merchant].status != MerchantStatus.Active) return Verdict.MerchantSuspended;
        return Verdict.Authentic;
    }

    /// @inheritdoc IProductRegistry
    function merchantOf(address merchant) external view returns (Merchant memory) {
        return _merchants[merchant];
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

    function _register(bytes32 itemId, bytes32 metadataHash, string calldata metadataURI) private {
        if (itemId == bytes32(0) || metadataHash == bytes32(0)) revert RegistryZeroId();
        Item storage item = _items[itemId];
        // Checks the whole slot: a flagged-before-activation batch item id is taken too.
        if (item.merchant != address(0) || item.state != ItemState.Active) {
            revert RegistryItemAlreadyRegistered(itemId);
        }
        item.merchant = msg.sender;
        item.updatedAt = uint40(block.timestamp);
        emit ItemRegistered(itemId, msg.sender, metadataHash, metadataURI);
    }

    function _spendEventId(uint256 eventId) private {
        uint256 word = eventId >> 8;
        uint256 bit = 1 << (eventId & 0xff);
        uint256 bits = _spentEventIds[msg.sender][word];
        if (bits & bit != 0) revert RegistryEventAlreadyRecorded(msg.sender, eventId);
        _spentEventIds[msg.sender][word] = bits | bit;
    }

    /// @dev Whether an activated batch item's batch was recalled (the recall does not touch item records).
    function _inRecalledBatch(bytes32 itemId, Item storage item) private view returns (bool) {
        return item.inBatch && _batches[_itemBatch[itemId]].recalled;
    }

    function _requireActiveMerchant(address account) private view {
        if (_merchants[account].status != MerchantStatus.Active) revert RegistryMerchantNotActive(account);
    }

    function _openReport(uint256 reportId) private view returns (Report storage report) {
        report = _reports[reportId];
        if (report.status == ReportStatus.None) revert RegistryReportUnknown(reportId);
        if (report.status != ReportStatus.Open) revert RegistryReportClosed(reportId, report.status);
    }
}
