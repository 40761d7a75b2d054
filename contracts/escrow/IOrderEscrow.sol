// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOrderEscrow
/// @notice Vocabulary of the order escrow: a buyer's payment is locked until the goods arrive and
/// the contract releases, refunds or splits it by the rules below.
/// @dev Storage design (after Base's Commerce Payments escrow): an order's immutable terms are never
/// stored. Its id is `keccak256(abi.encode(terms))`, `OrderOpened` carries the full terms for indexers,
/// and every later call passes the terms again in calldata; the contract re-hashes them to find the
/// order's one storage slot (`Order`), which holds only the mutable state. It hashes the terms' calldata
/// as sent, so terms must be encoded as `abi.encode` encodes them (every ABI encoder does); any other
/// encoding of the same values finds no order. The logistics oracle's
/// batch entry point works on order ids alone: everything it checks lives in that slot.
///
/// Life of an order (each move an event):
///   Funded -> Shipped (merchant, or its assigned carrier) -> Delivered (that carrier) -> Released.
///   - Items: every listed item must be the merchant's own, read Authentic, and not be held by another
///     open order or sold; the registry holds them until the order lets go (a refund) or sells them (a
///     release of a shipped order). A serialised item is therefore in at most one open order.
///   - Carriers: the merchant names the order's carrier (`assignCarrier`, or `ship`); the logistics
///     oracle's reports on the order must name the same carrier, so one carrier's credentials reach
///     only the orders handed to it.
///   - The buyer may confirm receipt (all, or some items) at any time before a dispute: release at once.
///     An order paid by a funder (a credit line, `payer != buyer`) pays the merchant only for items a
///     carrier reported delivered, or by an arbiter's ruling: never on the buyer's word alone.
///   - After delivery plus the order's dispute window anyone may release (`releaseDue`: many at once). A wallet-paid order shipped but
///     never reported delivered counts as delivered at `deliverBy`: the buyer had until `deliverBy` plus
///     the window to dispute. A funder-paid one is instead refunded, for its undelivered items, by anyone.
///   - Funded past `shipBy` with no carrier, or past `deliverBy` with one (a lost pickup report): anyone
///     may refund the payer in full.
///   - The buyer cancels while Funded and not yet handed to a carrier; the merchant cancels any time
///     before the last release.
///   - Either side offers a split of the unreleased remainder, valid until a time it sets and
///     withdrawable until accepted; the other side accepts it (a funder-paid order only once delivered).
///   - The buyer (or the order's carrier, reporting a condition broken in transit, before delivery) opens
///     a dispute; the merchant
///     answers with evidence; an arbiter splits the remainder before the arbitration deadline. After
///     the deadline anyone applies the default: full refund if the merchant never answered or (funder-
///     paid) the goods were never reported delivered, else 50/50.
///   - Items the registry reads Recalled or Flagged are refunded to the payer by anyone, each for its own
///     share of the price, while unreleased; the rest of the order goes on.
/// Shares: each item's share is `amount / itemCount` (rounded down) and the last listed item carries
/// the rounding, so what an item pays or refunds never depends on the order of events.
/// Money owed is credited per (account, token) and paid by `withdraw` (pull), so no receiver can block
/// another; the amounts in OrderReleased, OrderRefunded and OrderSettled are exactly the credits made.
/// Fees are taken only from what goes to the merchant.
interface IOrderEscrow {
    // ------------------------------------------------------------------ types

    /// @notice Where an order stands. Released, Refunded and Settled are final.
    enum OrderStatus {
        None,
        Funded,
        Shipped,
        Delivered,
        Disputed,
        Released,
        Refunded,
        Settled
    }

    /// @notice Why a remainder went back to the payer in full.
    enum RefundReason {
        BuyerCancelled,
        MerchantCancelled,
        ShipByMissed,
        ItemRecalled,
        DeliveryNotReported
    }

    /// @notice How a split of the remainder was decided.
    enum SettlementKind {
        Agreement,
        Arbiter,
        ArbitrationTimeout
    }

    /// @notice What a logistics oracle reports about an order. Shipped is the carrier's pickup.
    enum LogisticsKind {
        Shipped,
        Delivered,
        ConditionBreached
    }

    /// @notice The immutable terms of an order; hashed into its id, never stored.
    /// @param buyer Owner of the order: confirms, cancels, disputes, accepts offers.
    /// @param merchant Seller: ships, answers disputes, is paid on release.
    /// @param payer Who paid and receives refunds: the buyer itself, or a FUNDER_ROLE contract (a
    /// credit line) that opened the order for the buyer with `openFor`.
    /// @param token address(0) for ETH, else an allow-listed ERC-20.
    /// @param amount The price, paid in full at opening.
    /// @param shipBy Last second at which the order may be marked shipped.
    /// @param deliverBy When a shipped order with no delivery report counts as delivered.
    /// @param disputeWindow Seconds after delivery during which the buyer may dispute.
    /// @param feeBps The platform fee at opening; must equal the current fee.
    /// @param orderRef keccak256 of the merchant's order or SKU reference (required without items).
    /// @param salt Any value making the terms unique (a buyer's order counter, a random word).
    /// @param itemIds Registry items sold (at most 32), or empty for an off-registry SKU order. The
    /// price is shared equally among them for item-by-item release; the last one takes the rounding.
    struct OrderTerms {
        address buyer;
        address merchant;
        address payer;
        address token;
        uint256 amount;
        uint40 shipBy;
        uint40 deliverBy;
        uint32 disputeWindow;
        uint16 feeBps;
        bytes32 orderRef;
        uint256 salt;
        bytes32[] itemIds;
    }

    /// @notice The mutable state of an order: one storage slot (248 bits). Times are uint32 seconds
    /// (until 2106); `open` refuses deadlines beyond.
    /// @param status Where the order stands.
    /// @param itemCount Units in the order (registry items, or 1 for a SKU order).
    /// @param merchantAnswered Whether the merchant submitted evidence in the current dispute.
    /// @param buyerBps Share of the remainder refunded in the final split (Settled orders).
    /// @param carrier The carrier the merchant handed the order to (0: none yet); the platform's number
    /// for a carrier, which the logistics oracle puts in each of that carrier's reports.
    /// @param shipBy Copy of the terms' ship-by time, for the oracle's id-only updates.
    /// @param deliveredAt Time of the latest delivery report.
    /// @param disputeDeadline When the arbiter's authority ends and the default outcome applies.
    /// @param deliveredItems Bitmap of items reported delivered (bit i = itemIds[i]).
    /// @param releasedItems Bitmap of items already paid to the merchant.
    /// @param refundedItems Bitmap of items already refunded to the payer.
    struct Order {
        OrderStatus status;
        uint8 itemCount;
        bool merchantAnswered;
        uint16 buyerBps;
        uint16 carrier;
        uint32 shipBy;
        uint32 deliveredAt;
        uint32 disputeDeadline;
        uint32 deliveredItems;
        uint32 releasedItems;
        uint32 refundedItems;
    }

    /// @notice A pending settlement offer.
    /// @param buyerBps Share of the remainder for the payer, in basis points.
    /// @param byMerchant Whether the merchant (true) or the buyer (false) made it.
    /// @param exists Whether an offer is pending.
    /// @param expiresAt The first second at which it can no longer be accepted.
    struct Offer {
        uint16 buyerBps;
        bool byMerchant;
        bool exists;
        uint40 expiresAt;
    }

    /// @notice One logistics report, naming the order by id only.
    /// @param orderId The order.
    /// @param kind Shipped, Delivered or ConditionBreached.
    /// @param carrier The reporting carrier's number; must be the order's carrier.
    /// @param items For Delivered: bitmap of the items delivered, 0 for all still open and not yet delivered.
    /// @param evidenceHash Tracking reference, proof of delivery, or incident report hash.
    struct LogisticsUpdate {
        bytes32 orderId;
        LogisticsKind kind;
        uint16 carrier;
        uint32 items;
        bytes32 evidenceHash;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when an address that must be set is zero.
    error EscrowZeroAddress();
    /// @notice Thrown when a buyer names itself as the merchant.
    error EscrowBuyerIsMerchant(address account);
    /// @notice Thrown when the caller of `open` is not the terms' buyer and payer.
    error EscrowNotBuyer(bytes32 orderId, address caller);
    /// @notice Thrown when the caller is not the order's merchant.
    error EscrowNotMerchant(bytes32 orderId, address caller);
    /// @notice Thrown when the caller is neither the order's buyer nor its merchant.
    error EscrowNotParty(bytes32 orderId, address caller);
    /// @notice Thrown when the caller of `openFor` is not the terms' payer.
    error EscrowPayerMismatch(address payer, address caller);
    /// @notice Thrown when an order's amount is zero or cannot give each item a non-zero share.
    error EscrowInvalidAmount(uint256 amount, uint256 itemCount);
    /// @notice Thrown when an order lists more items than fit its bitmaps.
    error EscrowTooManyItems(uint256 count, uint256 max);
    /// @notice Thrown when an order has neither registry items nor an order reference.
    error EscrowMissingOrderRef();
    /// @notice Thrown when the deadlines are not `now < shipBy <= deliverBy < 2^32`.
    error EscrowInvalidDeadlines(uint40 shipBy, uint40 deliverBy, uint256 blockTime);
    /// @notice Thrown when `shipBy` is further than the admin's ship-by horizon from now.
    error EscrowShipByTooFar(uint40 shipBy, uint256 latest);
    /// @notice Thrown when a ship-by horizon outside [MIN_SHIP_BY_HORIZON, MAX_SHIP_BY_HORIZON] is set.
    error EscrowInvalidShipByHorizon(uint32 horizon);
    /// @notice Thrown when an order's dispute window is outside the admin's bounds.
    error EscrowDisputeWindowOutOfBounds(uint32 disputeWindow, uint32 min, uint32 max);
    /// @notice Thrown when the terms' fee is not the current platform fee.
    error EscrowFeeMismatch(uint16 termsFeeBps, uint16 currentFeeBps);
    /// @notice Thrown when an ERC-20 is not on the allow-list.
    error EscrowTokenNotAllowed(address token);
    /// @notice Thrown when the ETH sent does not match the order (or ETH is sent with an ERC-20 order).
    error EscrowWrongPayment(uint256 expected, uint256 received);
    /// @notice Thrown when a token delivers less than it was asked to move (fee-on-transfer tokens are refused).
    error EscrowTokenDeliveredLess(address token, uint256 expected, uint256 received);
    /// @notice Thrown when terms hash to an order that already exists.
    error EscrowOrderExists(bytes32 orderId);
    /// @notice Thrown when no order has these terms or this id.
    error EscrowOrderNotFound(bytes32 orderId);
    /// @notice Thrown when an order is not in a status that allows the call.
    error EscrowInvalidStatus(bytes32 orderId, OrderStatus status);
    /// @notice Thrown when shipping after the ship-by time.
    error EscrowShipByPassed(bytes32 orderId, uint40 shipBy);
    /// @notice Thrown when releasing (without the buyer) before the dispute window has run out.
    error EscrowReleaseTooEarly(bytes32 orderId, uint256 releasableAt);
    /// @notice Thrown when the buyer disputes after the dispute window closed.
    error EscrowDisputeWindowClosed(bytes32 orderId, uint256 closedAt);
    /// @notice Thrown when an item bitmap is empty, names items the order lacks, or items already handled.
    error EscrowInvalidItems(bytes32 orderId, uint32 items);
    /// @notice Thrown when someone other than the buyer releases items not yet reported delivered.
    error EscrowItemsNotDelivered(bytes32 orderId, uint32 items);
    /// @notice Thrown when a split in basis points exceeds 10,000.
    error EscrowInvalidSplit(uint16 buyerBps);
    /// @notice Thrown when accepting an offer that is not pending with this split, or is the caller's own.
    error EscrowNoMatchingOffer(bytes32 orderId, uint16 buyerBps);
    /// @notice Thrown when the arbiter rules after the arbitration deadline.
    error EscrowArbitrationExpired(bytes32 orderId, uint40 deadline);
    /// @notice Thrown when the default outcome is asked for before the arbitration deadline.
    error EscrowArbitrationPending(bytes32 orderId, uint40 deadline);
    /// @notice Thrown when a recall refund names an item the registry reads neither Recalled nor Flagged.
    error EscrowItemNotRecalled(bytes32 orderId, bytes32 itemId, uint8 verdict);
    /// @notice Thrown when a carrier number is zero.
    error EscrowNoCarrier(bytes32 orderId);
    /// @notice Thrown (or reported in `LogisticsUpdateRejected`) when a report names another carrier than the order's.
    error EscrowWrongCarrier(bytes32 orderId, uint16 carrier, uint16 assigned);
    /// @notice Thrown when the buyer cancels an order already handed to a carrier.
    error EscrowHandedToCarrier(bytes32 orderId, uint16 carrier);
    /// @notice Thrown when a funder-paid order would pay the merchant without a delivery report or ruling.
    error EscrowDeliveryUnproven(bytes32 orderId, uint32 undelivered);
    /// @notice Thrown when an offer is not the caller's to withdraw.
    error EscrowNotOfferMaker(bytes32 orderId, address caller);
    /// @notice Thrown when an offer's expiry is not in the future.
    error EscrowOfferExpiry(bytes32 orderId, uint40 expiresAt);
    /// @notice Thrown when accepting an offer past its expiry.
    error EscrowOfferExpired(bytes32 orderId, uint40 expiresAt);
    /// @notice Thrown when an account has no credit in a token.
    error EscrowNothingToWithdraw(address account, address token);
    /// @notice Thrown when sending ETH to a withdrawing account fails.
    error EscrowEthTransferFailed(address to, uint256 amount);
    /// @notice Thrown when the caller left too little gas for the registry's sale record.
    error EscrowInsufficientGas();
    /// @notice Thrown when a batch call carries nothing.
    error EscrowEmptyBatch();
    /// @notice Thrown when a platform fee above the cap is set.
    error EscrowFeeAboveCap(uint16 feeBps, uint16 cap);
    /// @notice Thrown when dispute window bounds are not `MIN_DISPUTE_WINDOW <= min <= max <= MAX_DISPUTE_WINDOW`.
    error EscrowInvalidDisputeWindowBounds(uint32 min, uint32 max);
    /// @notice Thrown when an arbitration period is outside [MIN_ARBITRATION_PERIOD, MAX_ARBITRATION_PERIOD].
    error EscrowInvalidArbitrationPeriod(uint32 period);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when an order is opened and paid in full; carries the terms for indexers.
    event OrderOpened(bytes32 indexed orderId, address indexed buyer, address indexed merchant, OrderTerms terms);
    /// @notice Emitted when the merchant names the carrier it hands the order to.
    event CarrierAssigned(bytes32 indexed orderId, uint16 indexed carrier);
    /// @notice Emitted when the merchant or the order's carrier (through the logistics oracle) marks it shipped.
    event OrderShipped(bytes32 indexed orderId, address indexed by, uint16 indexed carrier, bytes32 trackingHash);
    /// @notice Emitted when the logistics oracle reports items delivered.
    event OrderDelivered(bytes32 indexed orderId, address indexed by, uint32 items, bytes32 proofHash);
    /// @notice Emitted when items (or the whole remainder) are paid to the merchant.
    event OrderReleased(
        bytes32 indexed orderId, address indexed by, uint32 items, uint256 merchantAmount, uint256 feeAmount
    );
    /// @notice Emitted when items (`items`, bit i = itemIds[i]) go back to the payer; the order is final
    /// once nothing is left open.
    event OrderRefunded(
        bytes32 indexed orderId, address indexed by, RefundReason reason, uint32 items, uint256 payerAmount
    );
    /// @notice Emitted when an order's remainder is split between payer and merchant.
    event OrderSettled(
        bytes32 indexed orderId,
        address indexed by,
        SettlementKind kind,
        uint16 buyerBps,
        uint256 payerAmount,
        uint256 merchantAmount,
        uint256 feeAmount
    );
    /// @notice Emitted when the buyer or the merchant offers a split of the remainder, valid until `expiresAt`.
    event SettlementOffered(bytes32 indexed orderId, address indexed by, uint16 buyerBps, uint40 expiresAt);
    /// @notice Emitted when the maker of a pending offer withdraws it.
    event SettlementOfferWithdrawn(bytes32 indexed orderId, address indexed by);
    /// @notice Emitted when a dispute opens (by the buyer, or by the oracle reporting a broken condition).
    event DisputeOpened(bytes32 indexed orderId, address indexed by, bytes32 evidenceHash, uint40 deadline);
    /// @notice Emitted when a party adds evidence to an open dispute.
    event EvidenceSubmitted(bytes32 indexed orderId, address indexed by, bytes32 evidenceHash);
    /// @notice Emitted with an arbiter's ruling (the split itself is in `OrderSettled`).
    event DisputeRuled(bytes32 indexed orderId, address indexed arbiter, bytes32 rulingHash);
    /// @notice Emitted when the registry recorded "sold" for released items (event ids run from `firstEventId`).
    event SaleRecorded(bytes32 indexed orderId, uint256 firstEventId, uint256 itemCount);
    /// @notice Emitted when the registry refused the sale record; the payout stands regardless.
    event SaleNotRecorded(bytes32 indexed orderId, bytes reason);
    /// @notice Emitted when the registry refused to let go of refunded items; the refund stands regardless.
    event ItemsNotFreed(bytes32 indexed orderId, uint32 items, bytes reason);
    /// @notice Emitted for a logistics report the batch skipped (stale or not allowed): `reason` is the
    /// custom error it would have raised. The other reports of the batch stand.
    event LogisticsUpdateRejected(bytes32 indexed orderId, LogisticsKind kind, uint16 carrier, bytes reason);
    /// @notice Emitted when an account withdraws its credit.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);
    /// @notice Emitted when the admin changes the platform fee.
    event FeeChanged(uint16 previousBps, uint16 newBps);
    /// @notice Emitted when the admin changes the fee recipient.
    event FeeRecipientChanged(address indexed previousRecipient, address indexed newRecipient);
    /// @notice Emitted when the admin adds an ERC-20 to, or removes it from, the allow-list.
    event TokenAllowListed(address indexed token, bool allowed);
    /// @notice Emitted when the admin changes the bounds on orders' dispute windows.
    event DisputeWindowBoundsChanged(uint32 min, uint32 max);
    /// @notice Emitted when the admin changes the arbitration period of future disputes.
    event ArbitrationPeriodChanged(uint32 period);
    /// @notice Emitted when the admin changes how far ahead new orders' ship-by may lie.
    event ShipByHorizonChanged(uint32 horizon);
    /// @notice Emitted when the admin sets the smallest order (per token) that counts in seller records.
    event SellerRecordFloorChanged(address indexed token, uint256 amount);

    // ------------------------------------------------------------------ opening

    /// @notice Opens an order and pays it in full (ETH as msg.value, or an ERC-20 pulled from the buyer).
    /// @dev The caller must be both `terms.buyer` and `terms.payer`. Refused while paused.
    /// @param terms The order's terms.
    /// @return orderId keccak256(abi.encode(terms)).
    function open(OrderTerms calldata terms) external payable returns (bytes32 orderId);

    /// @notice Opens and pays an order on a buyer's behalf (a credit line); the buyer owns the order.
    /// @dev FUNDER_ROLE only; the caller must be `terms.payer` and pays; refunds are credited to it.
    /// @param terms The order's terms.
    /// @return orderId keccak256(abi.encode(terms)).
    function openFor(OrderTerms calldata terms) external payable returns (bytes32 orderId);

    // ------------------------------------------------------------------ shipping and delivery

    /// @notice The merchant names the carrier it hands the order to, no later than `shipBy`; that carrier
    /// then reports the pickup, the delivery and any broken condition. The buyer can no longer cancel.
    /// @param terms The order's terms.
    /// @param carrier The carrier's number (non-zero).
    function assignCarrier(OrderTerms calldata terms, uint16 carrier) external;

    /// @notice The merchant marks the order shipped with `carrier`, no later than `shipBy`.
    /// @param terms The order's terms.
    /// @param carrier The carrier's number (non-zero); it alone reports on the order from now on.
    /// @param trackingHash keccak256 of the carrier's tracking reference.
    function ship(OrderTerms calldata terms, uint16 carrier, bytes32 trackingHash) external;

    /// @notice The logistics oracle reports shipments, deliveries and broken conditions. A report that
    /// the rules refuse is skipped with `LogisticsUpdateRejected` (its custom error); the rest stand.
    /// Refused while paused.
    /// @param updates The reports, each naming its order by id and its carrier.
    function reportLogistics(LogisticsUpdate[] calldata updates) external;

    // ------------------------------------------------------------------ release

    /// @notice The buyer confirms receipt of everything: the remainder goes to the merchant at once.
    /// @param terms The order's terms.
    function confirmReceipt(OrderTerms calldata terms) external;

    /// @notice Pays the remainder to the merchant once the dispute window after delivery has run out; anyone.
    /// @param terms The order's terms.
    function release(OrderTerms calldata terms) external;

    /// @notice Releases many orders whose dispute window has run out, as `release` would one by one, for the
    /// gas of far fewer storage writes; anyone (a keeper) may call it.
    /// @dev Each order is judged by exactly `release`'s rule (one internal function serves both) and pays
    /// exactly what `release` would pay it, with its own `OrderReleased`. Semantics of an order that is not
    /// releasable:
    ///   - already decided or contested (Released, Refunded, Settled, Disputed): skipped, with nothing
    ///     emitted and nothing changed. Someone acted on it first (a release, a cancellation, a recall
    ///     refund, a split, a dispute), so such an order can never make the caller's batch fail: a party
    ///     who front-runs a batch by releasing one of its orders does not grief the rest. A skip returns
    ///     before any write; it can only leave an order alone, never pay it.
    ///   - anything else: the whole call reverts with `release`'s own error (`EscrowOrderNotFound` for
    ///     terms that are no order's, `EscrowReleaseTooEarly`, `EscrowInvalidStatus` for an order not yet
    ///     shipped, `EscrowDeliveryUnproven` for a funder-paid order with undelivered items). These are the
    ///     caller's own mistakes (or a carrier's later report moving the window), which no stranger can
    ///     cause; the error names the order, so the caller drops it and sends the rest.
    /// Credits are summed in memory while consecutive released orders share merchant and token, and
    /// written to the merchant's and the fee recipient's balances once per such run: list a merchant's
    /// orders together. Nothing is transferred (payouts are pulled with `withdraw`), so no receiver runs
    /// code here. Orders with registry items also record their sale (or free their items) in the registry,
    /// as `release` does, which costs more per order than a SKU order. Reverts on an empty list
    /// (`EscrowEmptyBatch`). Not stopped by the pause, as `release` is not.
    /// @param orders The orders' terms, in any order; a merchant's orders next to each other cost least.
    /// @return released How many orders were released (the rest were skipped).
    function releaseDue(OrderTerms[] calldata orders) external returns (uint256 released);

    /// @notice Pays some items to the merchant: any items when the buyer calls, delivered items whose
    /// window has run out when anyone else does.
    /// @param terms The order's terms.
    /// @param items Bitmap of the items to release (bit i = itemIds[i]).
    function releaseItems(OrderTerms calldata terms, uint32 items) external;

    // ------------------------------------------------------------------ refunds

    /// @notice Cancels the order and refunds the remainder to the payer: the buyer while Funded and not
    /// handed to a carrier, the merchant any time before the last release, anyone once Funded past
    /// `shipBy` (past `deliverBy` once a carrier was named). For a funder-paid order shipped and not
    /// reported delivered by `deliverBy` plus the window, anyone refunds its undelivered items.
    /// @param terms The order's terms.
    function cancel(OrderTerms calldata terms) external;

    /// @notice Refunds the payer each item's share of `items` that the registry reads Recalled or Flagged
    /// and that is neither released nor refunded; anyone may call, the money goes only to the payer.
    /// @param terms The order's terms.
    /// @param items Bitmap of the items (bit i = itemIds[i]).
    function refundRecalled(OrderTerms calldata terms, uint32 items) external;

    // ------------------------------------------------------------------ settlements and disputes

    /// @notice Offers a split of the remainder until `expiresAt`; replaces any pending offer (a counter-offer).
    /// @param terms The order's terms.
    /// @param buyerBps Share for the payer in basis points.
    /// @param expiresAt The first second at which the offer can no longer be accepted (in the future).
    function offerSettlement(OrderTerms calldata terms, uint16 buyerBps, uint40 expiresAt) external;

    /// @notice Withdraws the caller's own pending offer.
    /// @param terms The order's terms.
    function withdrawOffer(OrderTerms calldata terms) external;

    /// @notice Accepts the other side's pending offer; the order settles with that split.
    /// @param terms The order's terms.
    /// @param buyerBps The split accepted; must match the pending offer (guards against a swapped offer).
    function acceptSettlement(OrderTerms calldata terms, uint16 buyerBps) external;

    /// @notice The buyer opens a dispute, after shipment and before the dispute window closes.
    /// @param terms The order's terms.
    /// @param evidenceHash keccak256 of the buyer's evidence.
    function dispute(OrderTerms calldata terms, bytes32 evidenceHash) external;

    /// @notice Adds evidence to an open dispute; the merchant's first submission is its answer.
    /// @param terms The order's terms.
    /// @param evidenceHash keccak256 of the evidence.
    function submitEvidence(OrderTerms calldata terms, bytes32 evidenceHash) external;

    /// @notice An arbiter splits the remainder of a disputed order, before the arbitration deadline.
    /// @param terms The order's terms.
    /// @param buyerBps Share for the payer in basis points.
    /// @param rulingHash keccak256 of the written ruling.
    function resolveDispute(OrderTerms calldata terms, uint16 buyerBps, bytes32 rulingHash) external;

    /// @notice After the arbitration deadline anyone applies the default outcome: a full refund if the
    /// merchant never answered, else an even split.
    /// @param terms The order's terms.
    function resolveExpiredDispute(OrderTerms calldata terms) external;

    // ------------------------------------------------------------------ payouts

    /// @notice Pays the caller's credit in a token to the caller.
    /// @param token address(0) for ETH, else the ERC-20.
    function withdraw(address token) external;

    /// @notice Pays the caller's credit in a token to another address (for accounts that cannot receive).
    /// @param token address(0) for ETH, else the ERC-20.
    /// @param to The recipient.
    function withdrawTo(address token, address payable to) external;

    // ------------------------------------------------------------------ admin

    /// @notice Sets the platform fee for future orders (at most `MAX_FEE_BPS`).
    /// @param feeBps The fee in basis points.
    function setFee(uint16 feeBps) external;

    /// @notice Sets who is credited the platform fee.
    /// @param recipient The fee recipient.
    function setFeeRecipient(address recipient) external;

    /// @notice Adds an ERC-20 to, or removes it from, the allow-list (orders already open are unaffected).
    /// @param token The ERC-20.
    /// @param allowed Whether new orders may use it.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Sets the bounds on the dispute window new orders may choose.
    /// @param min Shortest window, in seconds.
    /// @param max Longest window, in seconds.
    function setDisputeWindowBounds(uint32 min, uint32 max) external;

    /// @notice Sets how long an arbiter has to rule on disputes opened from now on.
    /// @param period Seconds.
    function setArbitrationPeriod(uint32 period) external;

    /// @notice Sets how far ahead of its opening an order's `shipBy` may lie: an order holds its items
    /// until then, so the horizon bounds how long a squatter's dust order can keep a merchant's item
    /// (anyone refunds it after `shipBy`).
    /// @param horizon Seconds.
    function setShipByHorizon(uint32 horizon) external;

    /// @notice Sets the smallest order amount, in `token`, that counts in a merchant's seller record
    /// (dust orders a merchant pays itself cannot pad it). Read by indexers; changes no order.
    /// @param token address(0) for ETH, else the ERC-20.
    /// @param amount The floor.
    function setSellerRecordFloor(address token, uint256 amount) external;

    /// @notice Stops new orders and the logistics oracle's reports; the parties' own moves (shipping,
    /// releases, refunds, disputes, withdrawals) continue.
    function pause() external;

    /// @notice Allows new orders again.
    function unpause() external;

    // ------------------------------------------------------------------ views

    /// @notice The id of an order with these terms.
    /// @param terms The terms.
    /// @return keccak256(abi.encode(terms)).
    function orderIdOf(OrderTerms calldata terms) external pure returns (bytes32);

    /// @notice An order's mutable state.
    /// @param orderId The order.
    /// @return The state (status None when unknown).
    function orderOf(bytes32 orderId) external view returns (Order memory);

    /// @notice An order's pending settlement offer.
    /// @param orderId The order.
    /// @return The offer (`exists` false when none).
    function offerOf(bytes32 orderId) external view returns (Offer memory);

    /// @notice What the order has not yet paid to the merchant or refunded (0 once final).
    /// @param terms The order's terms.
    /// @return The amount still escrowed.
    function escrowedOf(OrderTerms calldata terms) external view returns (uint256);

    /// @notice Everything the order has credited its payer so far: refunded items' shares, a whole-order
    /// refund, and the payer's part of a split.
    /// @param terms The order's terms.
    /// @return The amount.
    function payerCreditOf(OrderTerms calldata terms) external view returns (uint256);

    /// @notice How far ahead of its opening an order's `shipBy` may lie.
    /// @return Seconds.
    function shipByHorizon() external view returns (uint32);

    /// @notice The smallest order amount in `token` that counts in seller records.
    /// @param token address(0) for ETH, else the ERC-20.
    /// @return The floor.
    function sellerRecordFloor(address token) external view returns (uint256);

    /// @notice Whether `forwarder` is the suite's ERC-2771 forwarder (the registry's `trustedForwarder`),
    /// whose calls act as their signer's, under every rule a direct call meets. The forwarder asks
    /// before it relays.
    /// @param forwarder The address asked about.
    /// @return Whether its calls carry their signer.
    function isTrustedForwarder(address forwarder) external view returns (bool);

    /// @notice The product registry that holds items and records sales.
    /// @return The registry's address.
    function registry() external view returns (address);

    /// @notice An account's withdrawable credit in a token.
    /// @param account The account.
    /// @param token address(0) for ETH, else the ERC-20.
    /// @return The credit.
    function creditOf(address account, address token) external view returns (uint256);

    /// @notice The current platform fee in basis points.
    /// @return The fee.
    function feeBps() external view returns (uint16);

    /// @notice Who is credited the platform fee.
    /// @return The recipient.
    function feeRecipient() external view returns (address);

    /// @notice Whether new orders may use an ERC-20 (ETH is always accepted).
    /// @param token The ERC-20.
    /// @return True if allowed.
    function isTokenAllowed(address token) external view returns (bool);

    /// @notice The bounds on new orders' dispute windows.
    /// @return min Shortest window, in seconds.
    /// @return max Longest window, in seconds.
    function disputeWindowBounds() external view returns (uint32 min, uint32 max);

    /// @notice How long an arbiter has to rule on a dispute opened now.
    /// @return Seconds.
    function arbitrationPeriod() external view returns (uint32);

    /// @notice How many "sold" custody events the escrow has submitted; the next uses this id.
    /// @return The count.
    function saleEventCount() external view returns (uint256);
}
