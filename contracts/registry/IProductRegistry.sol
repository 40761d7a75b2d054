// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IProductRegistry
/// @notice Vocabulary of the product provenance registry: merchants, items, Merkle batches,
/// the custody trail, reports and recalls, and the verdict a shopper reads.
/// @dev Full history lives in events; storage keeps only what checks need.
interface IProductRegistry {
    // ------------------------------------------------------------------ types

    /// @notice How an item's id is derived from its key (see `ItemKey`).
    enum IdScheme {
        Sku,
        Gs1
    }

    /// @notice Where a merchant stands with the platform.
    enum MerchantStatus {
        None,
        Active,
        Suspended
    }

    /// @notice What a custody event says happened to an item (GS1 EPCIS business step).
    enum CustodyAction {
        None,
        Produced,
        Shipped,
        InTransit,
        Delivered,
        Sold,
        Returned
    }

    /// @notice Integrity of an item. Moves only Active -> Flagged -> Recalled, or Active -> Recalled.
    enum ItemState {
        Active,
        Flagged,
        Recalled
    }

    /// @notice Answer to "is this item authentic right now, and if not, why".
    enum Verdict {
        Authentic,
        Unknown,
        MerchantSuspended,
        Flagged,
        Recalled
    }

    /// @notice Kind of a report filed against an item.
    enum ReportKind {
        Counterfeit,
        Problem
    }

    /// @notice Life of a report.
    enum ReportStatus {
        None,
        Open,
        Confirmed,
        Dismissed
    }

    /// @notice A merchant's record (one slot for status, time and prefix lengths; name and identity beside).
    /// @param identityHash The owner's identity commitment (see `approveMerchant`).
    /// @param gs1PrefixLengths Bit L set when the merchant was granted a GS1 company prefix of L digits
    /// (a hint that spares lookups; a revoked prefix leaves its bit, which then finds nothing).
    struct Merchant {
        MerchantStatus status;
        uint40 approvedAt;
        uint16 gs1PrefixLengths;
        bytes32 identityHash;
        string name;
    }

    /// @notice An item's record, packed in one slot.
    /// @dev `merchant` is zero for a batch item flagged before anyone activated it.
    /// `updatedAt` is when `lastAction` took effect: the registration (or activation) time until the
    /// first custody event, then the `occurredAt` of the latest event. Flags and recalls leave it alone.
    /// A batch recall does not rewrite activated items' `state`; `verify` reads it through the batch.
    /// `held` is set while an escrow order holds the item, and stays set once the item was sold
    /// through one: a serialised item is sold once.
    struct Item {
        address merchant;
        uint40 updatedAt;
        CustodyAction lastAction;
        ItemState state;
        bool inBatch;
        bool held;
    }

    /// @notice A Merkle batch of items, keyed by its root.
    struct Batch {
        address merchant;
        uint40 registeredAt;
        uint32 itemCount;
        bool recalled;
    }

    /// @notice A report filed against an item.
    struct Report {
        bytes32 itemId;
        address reporter;
        uint40 filedAt;
        ReportKind kind;
        ReportStatus status;
        bytes32 evidenceHash;
    }

    /// @notice What an item's id is derived from, so that only its owner can claim it.
    /// @param scheme Sku: `keccak256(abi.encode(merchant, code, serial))` with the registering merchant's
    /// address, so no other merchant can produce the id. Gs1: `keccak256(abi.encode("gs1", gtin14, serial))`
    /// with `code` the GTIN, accepted only from the merchant a verifier granted the GTIN's company prefix.
    /// @param code The merchant's SKU, or the GTIN (8, 12, 13 or 14 digits).
    /// @param serial The item's serial number (GS1: 1-20 characters of character set 82).
    struct ItemKey {
        IdScheme scheme;
        string code;
        string serial;
    }

    /// @notice One item to register singly.
    struct ItemInput {
        ItemKey key;
        bytes32 metadataHash;
        string metadataURI;
    }

    /// @notice One batch item to activate: its key, metadata hash and Merkle proof.
    struct BatchItemProof {
        ItemKey key;
        bytes32 metadataHash;
        bytes32[] proof;
    }

    /// @notice One custody event (EPCIS what / when / where / why).
    /// @param itemId What: the item.
    /// @param eventId Unique per submitter; spent in a bitmap (word = id >> 8, bit = id & 255),
    /// so ids allocated in sequence share storage.
    /// @param action Why: the business step.
    /// @param occurredAt When: the event's own time, in seconds, not in the future.
    /// @param locationHash Where: keccak256 of the location code (a GS1 GLN or similar).
    /// @param contextHash Context: keccak256 of a shipment, order or document reference.
    struct CustodyInput {
        bytes32 itemId;
        uint256 eventId;
        CustodyAction action;
        uint40 occurredAt;
        bytes32 locationHash;
        bytes32 contextHash;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when a merchant address is zero.
    error RegistryZeroAddress();
    /// @notice Thrown when approving a merchant that already has a record.
    error RegistryMerchantAlreadyApproved(address merchant);
    /// @notice Thrown when a merchant has no record.
    error RegistryMerchantUnknown(address merchant);
    /// @notice Thrown when the caller is not an active merchant.
    error RegistryMerchantNotActive(address merchant);
    /// @notice Thrown when suspending a merchant that is not active, or reinstating one that is not suspended.
    error RegistryMerchantStatusUnchanged(address merchant, MerchantStatus status);
    /// @notice Thrown when an item id, batch root or hash that must be set is zero.
    error RegistryZeroId();
    /// @notice Thrown when an item id is registered a second time.
    error RegistryItemAlreadyRegistered(bytes32 itemId);
    /// @notice Thrown when an item has no record.
    error RegistryItemNotRegistered(bytes32 itemId);
    /// @notice Thrown when a batch root is registered a second time.
    error RegistryBatchAlreadyRegistered(bytes32 root);
    /// @notice Thrown when a batch root has no record.
    error RegistryBatchNotRegistered(bytes32 root);
    /// @notice Thrown when a batch is declared with no items.
    error RegistryBatchEmpty(bytes32 root);
    /// @notice Thrown when a Merkle proof does not place an item in a batch.
    error RegistryInvalidProof(bytes32 root, bytes32 itemId);
    /// @notice Thrown when the caller may not act on an item (not its merchant, nor the oracle).
    error RegistryNotItemCustodian(address caller, bytes32 itemId);
    /// @notice Thrown when the caller is not the merchant who registered a batch.
    error RegistryNotBatchMerchant(address caller, bytes32 root);
    /// @notice Thrown when a custody event id was already used by the same submitter.
    error RegistryEventAlreadyRecorded(address submitter, uint256 eventId);
    /// @notice Thrown when a custody event has no action.
    error RegistryInvalidAction(uint256 eventId);
    /// @notice Thrown when a custody event claims a time in the future.
    error RegistryEventInFuture(uint256 eventId, uint40 occurredAt, uint256 blockTime);
    /// @notice Thrown when a batch call carries nothing.
    error RegistryEmptyInput();
    /// @notice Thrown when an item is already recalled.
    error RegistryItemAlreadyRecalled(bytes32 itemId);
    /// @notice Thrown when a batch is already recalled.
    error RegistryBatchAlreadyRecalled(bytes32 root);
    /// @notice Thrown when a report does not exist.
    error RegistryReportUnknown(uint256 reportId);
    /// @notice Thrown when a report was already confirmed or dismissed.
    error RegistryReportClosed(uint256 reportId, ReportStatus status);
    /// @notice Thrown when a GTIN is not 8, 12, 13 or 14 digits with a valid check digit.
    error RegistryInvalidGtin(string gtin);
    /// @notice Thrown when a GS1 serial is empty, longer than 20 characters, or outside GS1's character set 82.
    error RegistryInvalidSerial(string serial);
    /// @notice Thrown when a merchant registers a GTIN whose company prefix no verifier granted it.
    error RegistryGs1PrefixNotGranted(address merchant, string gtin);
    /// @notice Thrown when a GS1 company prefix is not 4-12 digits.
    error RegistryInvalidGs1Prefix(string prefix);
    /// @notice Thrown when granting a prefix that is, or lies inside, a prefix another merchant holds
    /// (`holder`), or that covers a longer prefix already granted (`holder` zero).
    error RegistryGs1PrefixTaken(string prefix, address holder);
    /// @notice Thrown when revoking a prefix nobody holds.
    error RegistryGs1PrefixNotHeld(string prefix);
    /// @notice Thrown when a verifier reassigns an item to an address that is not an approved merchant.
    error RegistryReassignTarget(bytes32 itemId, address to);
    /// @notice Thrown when an order names an item of another merchant (or none).
    error RegistryItemNotOfMerchant(bytes32 itemId, address merchant);
    /// @notice Thrown when an order names an item that does not read Authentic.
    error RegistryItemNotAuthentic(bytes32 itemId, Verdict verdict);
    /// @notice Thrown when an order names an item another order holds, or one already sold.
    error RegistryItemHeld(bytes32 itemId);
    /// @notice Thrown when the logistics oracle records a custody action that only the escrow or the
    /// merchant may record (Sold).
    error RegistryActionNotAllowed(uint256 eventId, CustodyAction action);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a verifier approves a merchant.
    event MerchantApproved(address indexed merchant, string name, bytes32 identityHash, address indexed verifier);
    /// @notice Emitted when a verifier suspends a merchant.
    event MerchantSuspended(address indexed merchant, bytes32 reasonHash, address indexed verifier);
    /// @notice Emitted when a verifier reinstates a suspended merchant.
    event MerchantReinstated(address indexed merchant, address indexed verifier);
    /// @notice Emitted when a merchant registers an item singly.
    event ItemRegistered(bytes32 indexed itemId, address indexed merchant, bytes32 metadataHash, string metadataURI);
    /// @notice Emitted when a merchant registers a Merkle batch of items.
    event BatchRegistered(
        bytes32 indexed root, address indexed merchant, uint32 itemCount, bytes32 metadataHash, string metadataURI
    );
    /// @notice Emitted when a batch item gets its own record, proven by its Merkle proof.
    event BatchItemActivated(bytes32 indexed itemId, bytes32 indexed root, bytes32 metadataHash);
    /// @notice Emitted for every custody event appended to an item's trail.
    event CustodyRecorded(
        bytes32 indexed itemId,
        address indexed submitter,
        uint256 indexed eventId,
        CustodyAction action,
        uint40 occurredAt,
        bytes32 locationHash,
        bytes32 contextHash
    );
    /// @notice Emitted when someone files a report against an item.
    event ReportFiled(
        uint256 indexed reportId,
        bytes32 indexed itemId,
        address indexed reporter,
        ReportKind kind,
        bytes32 evidenceHash
    );
    /// @notice Emitted when a verifier confirms a report; the item is flagged.
    event ReportConfirmed(
        uint256 indexed reportId, bytes32 indexed itemId, bytes32 findingHash, address indexed verifier
    );
    /// @notice Emitted when a verifier dismisses a report.
    event ReportDismissed(
        uint256 indexed reportId, bytes32 indexed itemId, bytes32 findingHash, address indexed verifier
    );
    /// @notice Emitted when an item is flagged by a confirmed report.
    event ItemFlagged(bytes32 indexed itemId, uint256 indexed reportId);
    /// @notice Emitted when a merchant recalls an item; final.
    event ItemRecalled(bytes32 indexed itemId, address indexed merchant, bytes32 reasonHash);
    /// @notice Emitted when a merchant recalls a whole batch; final.
    event BatchRecalled(bytes32 indexed root, address indexed merchant, bytes32 reasonHash);
    /// @notice Emitted when a verifier grants a merchant a GS1 company prefix (as GS1 licenses it).
    event Gs1PrefixGranted(string prefix, address indexed merchant, address indexed verifier);
    /// @notice Emitted when a verifier revokes a GS1 company prefix; items already registered stay.
    event Gs1PrefixRevoked(string prefix, address indexed merchant, address indexed verifier);
    /// @notice Emitted when a verifier moves an item to its rightful merchant, or revokes it (`to` zero).
    event ItemReassigned(bytes32 indexed itemId, address indexed from, address indexed to, bytes32 reasonHash);
    /// @notice Emitted when escrow order `orderId` starts holding an item.
    event ItemHeld(bytes32 indexed itemId, bytes32 orderId);
    /// @notice Emitted when escrow order `orderId` lets go of an item (a refund, or a payment without a sale).
    event ItemFreed(bytes32 indexed itemId, bytes32 indexed orderId);

    // ------------------------------------------------------------------ merchants

    /// @notice Approves a merchant: its display name and a commitment to its owner's legal identity.
    /// @param merchant The merchant's address.
    /// @param name Display name shown to shoppers.
    /// @param identityHash The owner's identity commitment: HMAC-SHA256 of its legal identifier under the
    /// platform's identity key (`app.domain.identity`), the same commitment a credit bureau attests for a
    /// borrower, so that credit can refuse to pay a merchant owned by the borrower.
    function approveMerchant(address merchant, string calldata name, bytes32 identityHash) external;

    /// @notice Suspends an active merchant: its items stop reading authentic and it may not register.
    /// @param merchant The merchant's address.
    /// @param reasonHash keccak256 of the reason, kept off chain.
    function suspendMerchant(address merchant, bytes32 reasonHash) external;

    /// @notice Reinstates a suspended merchant.
    /// @param merchant The merchant's address.
    function reinstateMerchant(address merchant) external;

    /// @notice Grants a merchant a GS1 company prefix: it alone may register GTINs under it.
    /// @dev Refused when the prefix, or a shorter prefix of it, is granted, or when it covers a longer
    /// prefix already granted: granted prefixes never nest, so no GTIN falls under two merchants.
    /// @param prefix The GS1 company prefix in its GTIN-13 form, 4-12 digits (a U.P.C. prefix with a leading 0).
    /// @param merchant An approved merchant.
    function grantGs1Prefix(string calldata prefix, address merchant) external;

    /// @notice Revokes a GS1 company prefix; items registered under it stay (see `reassignItem`).
    /// @param prefix The prefix.
    function revokeGs1Prefix(string calldata prefix) external;

    /// @notice Moves an item to the merchant it belongs to, or revokes its record (`to` zero) so its
    /// rightful owner can register it. An escrow order holding it keeps holding it.
    /// @param itemId The item.
    /// @param to An approved merchant, or zero to revoke.
    /// @param reasonHash keccak256 of the verifier's finding.
    function reassignItem(bytes32 itemId, address to, bytes32 reasonHash) external;

    // ------------------------------------------------------------------ items and batches

    /// @notice Registers one item of the calling merchant; its id is derived here from `key`.
    /// @param key The item's SKU or GTIN and serial (see `ItemKey`).
    /// @param metadataHash keccak256 of the item's canonical metadata JSON.
    /// @param metadataURI Where the metadata JSON can be fetched.
    /// @return itemId The item's id.
    function registerItem(ItemKey calldata key, bytes32 metadataHash, string calldata metadataURI)
        external
        returns (bytes32 itemId);

    /// @notice Registers several items of the calling merchant in one transaction; all or none.
    /// @param items The items.
    function registerItems(ItemInput[] calldata items) external;

    /// @notice Registers a Merkle batch of items; gas does not depend on the batch's size.
    /// @dev Leaves follow @openzeppelin/merkle-tree's standard tree over (bytes32 itemId, bytes32 metadataHash).
    /// @param root The Merkle root.
    /// @param itemCount How many leaves the tree has (informative).
    /// @param metadataHash keccak256 of the batch manifest or batch metadata.
    /// @param metadataURI Where the batch metadata can be fetched.
    function registerBatch(bytes32 root, uint32 itemCount, bytes32 metadataHash, string calldata metadataURI) external;

    /// @notice Gives a batch item its own record so custody events, recalls and orders can name it.
    /// @dev Anyone may call: the proof shows the batch's merchant committed to the item, and the id is
    /// derived from `key` under the batch's merchant, so a batch can only hold its merchant's own ids.
    /// @param root The batch root.
    /// @param key The item's SKU or GTIN and serial.
    /// @param metadataHash The item's metadata hash, as in its leaf.
    /// @param proof The item's Merkle proof.
    /// @return itemId The item's id.
    function activateBatchItem(bytes32 root, ItemKey calldata key, bytes32 metadataHash, bytes32[] calldata proof)
        external
        returns (bytes32 itemId);

    /// @notice Activates several items of one batch in one transaction (a manifest in chunks).
    /// @dev As `activateBatchItem` for each, except that an item already activated from this batch is
    /// skipped, so an interrupted run can be sent again; any other refusal reverts the whole call.
    /// @param root The batch's Merkle root.
    /// @param items The items, each with its key, metadata hash and proof.
    /// @return activated How many items were activated (the others were already).
    function activateBatchItems(bytes32 root, BatchItemProof[] calldata items) external returns (uint256 activated);

    // ------------------------------------------------------------------ custody

    /// @notice Appends custody events, all or none; each by the item's merchant or the logistics oracle
    /// (which may not record Sold: sales come from the merchant or the escrow).
    /// @param events The events.
    function recordCustody(CustodyInput[] calldata events) external;

    // ------------------------------------------------------------------ escrow

    /// @notice Holds items for an escrow order: each must be `merchant`'s, read Authentic, and not be
    /// held by another order or sold. ESCROW_ROLE only.
    /// @param orderId The order.
    /// @param merchant The order's merchant.
    /// @param itemIds The order's items.
    function holdItems(bytes32 orderId, address merchant, bytes32[] calldata itemIds) external;

    /// @notice Lets go of the items `items` (bit i = itemIds[i]) an order held. ESCROW_ROLE only.
    /// @param orderId The order.
    /// @param itemIds The order's items.
    /// @param items Bitmap of the items to free.
    function freeItems(bytes32 orderId, bytes32[] calldata itemIds, uint32 items) external;

    /// @notice Records items sold through an escrow order: each must be `merchant`'s and every action
    /// Sold. ESCROW_ROLE only. The items stay held.
    /// @param merchant The order's merchant.
    /// @param sales The Sold events, ids in the escrow's own namespace.
    function recordSales(address merchant, CustodyInput[] calldata sales) external;

    // ------------------------------------------------------------------ admin

    /// @notice Stops registrations, activations and custody events; reports, recalls, verifier actions
    /// and the escrow's holds, frees and sales continue (the escrow has its own pause on new orders).
    function pause() external;

    /// @notice Lifts the pause.
    function unpause() external;

    // ------------------------------------------------------------------ reports and recalls

    /// @notice Files a counterfeit or problem report against an item; anyone may.
    /// @param itemId The item.
    /// @param kind Counterfeit or problem.
    /// @param evidenceHash keccak256 of the evidence, kept off chain.
    /// @return reportId The report's id.
    function fileReport(bytes32 itemId, ReportKind kind, bytes32 evidenceHash) external returns (uint256 reportId);

    /// @notice Confirms an open report; the item is flagged and stops reading authentic.
    /// @param reportId The report.
    /// @param findingHash keccak256 of the verifier's finding.
    function confirmReport(uint256 reportId, bytes32 findingHash) external;

    /// @notice Dismisses an open report.
    /// @param reportId The report.
    /// @param findingHash keccak256 of the verifier's finding.
    function dismissReport(uint256 reportId, bytes32 findingHash) external;

    /// @notice Recalls an item of the calling merchant; final.
    /// @param itemId The item.
    /// @param reasonHash keccak256 of the recall notice.
    function recallItem(bytes32 itemId, bytes32 reasonHash) external;

    /// @notice Recalls a whole batch of the calling merchant; final.
    /// @param root The batch root.
    /// @param reasonHash keccak256 of the recall notice.
    function recallBatch(bytes32 root, bytes32 reasonHash) external;

    // ------------------------------------------------------------------ views

    /// @notice Whether an item is authentic right now, and if not, why.
    /// @dev A batch item that was never activated reads Unknown here; use `verifyBatchItem`.
    /// @param itemId The item.
    /// @return verdict The verdict.
    function verify(bytes32 itemId) external view returns (Verdict verdict);

    /// @notice Whether a batch item is authentic right now, and if not, why.
    /// @param root The batch root.
    /// @param key The item's SKU or GTIN and serial.
    /// @param metadataHash The item's metadata hash, as in its leaf.
    /// @param proof The item's Merkle proof.
    /// @return verdict The verdict; Unknown when the proof does not hold, the GTIN's prefix is not the
    /// batch merchant's, or the id was reassigned to another merchant.
    function verifyBatchItem(bytes32 root, ItemKey calldata key, bytes32 metadataHash, bytes32[] calldata proof)
        external
        view
        returns (Verdict verdict);

    /// @notice A merchant's record.
    /// @param merchant The merchant's address.
    /// @return The record (status None when unknown).
    function merchantOf(address merchant) external view returns (Merchant memory);

    /// @notice A merchant's status and identity commitment (what credit checks, without the name).
    /// @param merchant The merchant's address.
    /// @return status The status.
    /// @return identityHash The owner's identity commitment.
    function merchantStanding(address merchant) external view returns (MerchantStatus status, bytes32 identityHash);

    /// @notice The suite's ERC-2771 forwarder: a call it forwards acts as the request's signer, here and in
    /// the order escrow, under every rule a direct call meets. Zero when forwarded calls are off.
    /// @return The forwarder's address.
    function trustedForwarder() external view returns (address);

    /// @notice Who holds a GS1 company prefix.
    /// @param prefix The prefix (GTIN-13 form).
    /// @return The merchant, or zero.
    function gs1PrefixHolder(string calldata prefix) external view returns (address);

    /// @notice The id of an item of `merchant` named by `key`, checking a GS1 key's prefix is the merchant's.
    /// @param merchant The merchant.
    /// @param key The key.
    /// @return The item id.
    function itemIdOfKey(address merchant, ItemKey calldata key) external view returns (bytes32);

    /// @notice An item's record.
    /// @param itemId The item.
    /// @return The record (merchant zero when unknown).
    function itemOf(bytes32 itemId) external view returns (Item memory);

    /// @notice A batch's record.
    /// @param root The batch root.
    /// @return The record (merchant zero when unknown).
    function batchOf(bytes32 root) external view returns (Batch memory);

    /// @notice A report.
    /// @param reportId The report.
    /// @return The report (status None when unknown).
    function reportOf(uint256 reportId) external view returns (Report memory);

    /// @notice How many reports were filed; report ids run from 1 to this.
    /// @return The count.
    function reportCount() external view returns (uint256);

    /// @notice Whether a submitter already used a custody event id.
    /// @param submitter The address that recorded the event.
    /// @param eventId The event id.
    /// @return True if used.
    function isEventRecorded(address submitter, uint256 eventId) external view returns (bool);

    /// @notice The leaf of a batch item, as @openzeppelin/merkle-tree's standard tree builds it.
    /// @param itemId The item.
    /// @param metadataHash The item's metadata hash.
    /// @return The leaf hash.
    function batchLeaf(bytes32 itemId, bytes32 metadataHash) external pure returns (bytes32);

    /// @notice The id of an item named by its merchant's SKU and serial: keccak256(abi.encode(merchant, sku, serial)).
    /// @param merchant The merchant's address.
    /// @param sku The merchant's stock-keeping unit.
    /// @param serial The item's serial number.
    /// @return The item id.
    function itemIdOf(address merchant, string calldata sku, string calldata serial) external pure returns (bytes32);

    /// @notice The id of an item named by GS1 GTIN (AI 01) and serial (AI 21):
    /// keccak256(abi.encode("gs1", gtin14, serial)), the GTIN left-padded with zeros to 14 digits.
    /// @param gtin A GTIN-8, -12, -13 or -14 with a valid check digit.
    /// @param serial The GS1 serial: 1-20 characters of GS1 character set 82.
    /// @return The item id.
    function gs1ItemId(string calldata gtin, string calldata serial) external pure returns (bytes32);
}
