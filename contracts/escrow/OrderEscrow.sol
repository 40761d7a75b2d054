// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IProductRegistry} from "../registry/IProductRegistry.sol";
import {EscrowConfig} from "./EscrowConfig.sol";
import {IOrderEscrow} from "./IOrderEscrow.sol";

/// @title OrderEscrow
/// @notice Holds a buyer's payment until the goods arrive; releases, refunds or splits it by the rules
/// in IOrderEscrow, holds the order's items in the product registry and records them sold.
/// @dev Decisions:
/// - One storage slot per order (`Order`), keyed by the hash of its terms; the terms travel in calldata.
/// - The terms are the buyer's words, so nothing in them is trusted about items: `open` asks the
///   registry to hold every listed item for the terms' merchant, which refuses another merchant's item,
///   one that does not read Authentic, one listed twice, and one another order holds or sold.
/// - ERC-20s that deliver less than the amount asked (fee-on-transfer, rebasing down) are refused at
///   opening with `EscrowTokenDeliveredLess`: the escrow owes exactly what the terms say, so it must
///   hold exactly that. ETH needs no allow-list entry; ERC-20s do.
/// - Money leaves only through `withdraw`/`withdrawTo`; every outcome credits (account, token) balances.
/// - Each item owns a fixed share of the price (the last listed item carries the rounding): a release
///   pays, and a refund returns, exactly the shares of its items, in any order of events.
/// - The fee is the terms' `feeBps` (the fee at opening), taken from every amount paid to the merchant
///   (releases and the merchant's part of splits), never from refunds; it rounds down.
/// - Splits give the payer `remainder * buyerBps / 10_000` (rounded down) and the merchant the rest.
/// - Refunds and the payer's part of splits are credited to `terms.payer`: a credit line that funded an
///   order with `openFor` withdraws them and applies them to the buyer's debt (`payerCreditOf`).
/// - A funder-paid order (`payer != buyer`) reaches the merchant only through a carrier's delivery
///   report or an arbiter's ruling, so a borrower cannot turn credit into cash by "buying" from itself.
/// - Arbitration timeout: a merchant who never answered a dispute defaults (full refund); if it
///   answered, neither side should bear the arbiter's failure alone (even split), except on a
///   funder-paid order whose goods no carrier reported delivered (full refund).
/// - Sold records: each item released to a merchant who handed the order to a carrier is recorded in the
///   registry as CustodyAction.Sold, with `contextHash = orderId` and `locationHash = bytes32(uint256(
///   uint160(buyer)))` (the "where" of a sale is its new owner); a payment before any hand-over is no
///   sale and lets the item go. Event ids are sequential in the escrow's own submitter namespace.
///   If the registry refuses (no role, a record reassigned) the payout stands and `SaleNotRecorded` or
///   `ItemsNotFreed` says why: the registry can never lock funds.
contract OrderEscrow is EscrowConfig, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Rules on disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Reports shipments, deliveries and broken conditions (carriers, through the service).
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice May open orders on a buyer's behalf and pays for them (credit lines).
    bytes32 public constant FUNDER_ROLE = keccak256("FUNDER_ROLE");
    /// @notice Most items in one order: the width of the delivered, released and refunded bitmaps.
    uint256 public constant MAX_ITEMS = 32;

    uint16 private constant _BPS = 10_000;

    IProductRegistry private immutable _registry;
    address private immutable _forwarder;
    mapping(bytes32 orderId => Order) private _orders;
    mapping(bytes32 orderId => Offer) private _offers;
    mapping(address account => mapping(address token => uint256 amount)) private _credits;
    uint256 private _saleEventCount;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants the other roles.
    /// @param registry_ The product registry (this contract needs its ESCROW_ROLE). Its forwarder is
    /// this contract's too: one signer identity across the suite.
    /// @param recipient Who is credited the platform fee.
    constructor(address admin, IProductRegistry registry_, address recipient) EscrowConfig(admin, recipient) {
        if (address(registry_) == address(0)) revert EscrowZeroAddress();
        _registry = registry_;
        _forwarder = registry_.trustedForwarder();
    }

    // ------------------------------------------------------------------ opening

    /// @inheritdoc IOrderEscrow
    function open(OrderTerms calldata terms) external payable nonReentrant whenNotPaused returns (bytes32 orderId) {
        bytes memory encoded = abi.encode(terms);
        orderId = keccak256(encoded);
        if (_msgSender() != terms.buyer || terms.payer != _msgSender()) revert EscrowNotBuyer(orderId, _msgSender());
        _open(orderId, terms, encoded);
    }

    /// @inheritdoc IOrderEscrow
    function openFor(OrderTerms calldata terms)
        external
        payable
        nonReentrant
        whenNotPaused
        onlyRole(FUNDER_ROLE)
        returns (bytes32 orderId)
    {
        if (terms.payer != _msgSender()) revert EscrowPayerMismatch(terms.payer, _msgSender());
        if (terms.buyer == address(0)) revert EscrowZeroAddress();
        bytes memory encoded = abi.encode(terms);
        orderId = keccak256(encoded);
        _open(orderId, terms, encoded);
    }

    // ------------------------------------------------------------------ shipping and delivery

    /// @inheritdoc IOrderEscrow
    function assignCarrier(OrderTerms calldata terms, uint16 carrier) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireMerchant(orderId, terms);
        _requireShippable(orderId, order, carrier);
        order.carrier = carrier;
        emit CarrierAssigned(orderId, carrier);
    }

    /// @inheritdoc IOrderEscrow
    function ship(OrderTerms calldata terms, uint16 carrier, bytes32 trackingHash) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireMerchant(orderId, terms);
        _requireShippable(orderId, order, carrier);
        if (order.carrier != carrier) {
            order.carrier = carrier;
            emit CarrierAssigned(orderId, carrier);
        }
        order.status = OrderStatus.Shipped;
        emit OrderShipped(orderId, _msgSender(), carrier, trackingHash);
    }

    /// @inheritdoc IOrderEscrow
    function reportLogistics(LogisticsUpdate[] calldata updates) external whenNotPaused onlyRole(ORACLE_ROLE) {
        if (updates.length == 0) revert EscrowEmptyBatch();
        for (uint256 i; i < updates.length; ++i) {
            LogisticsUpdate calldata update = updates[i];
            bytes memory refusal = _applyLogistics(update);
            if (refusal.length != 0) {
                emit LogisticsUpdateRejected(update.orderId, update.kind, update.carrier, refusal);
            }
        }
    }

    // ------------------------------------------------------------------ release

    /// @inheritdoc IOrderEscrow
    function confirmReceipt(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireBuyer(orderId, terms);
        _requireUndisputed(orderId, order);
        _release(orderId, order, terms, _openItems(order), true);
    }

    /// @inheritdoc IOrderEscrow
    function release(OrderTerms calldata terms) external nonReentrant {
        _releaseDue(terms, false);
    }

    /// @inheritdoc IOrderEscrow
    function releaseDue(OrderTerms[] calldata orders) external nonReentrant returns (uint256 released) {
        if (orders.length == 0) revert EscrowEmptyBatch();
        // The credits of a run of orders with one merchant and one token, summed here and written once.
        address merchant = address(0);
        address token = address(0);
        uint256 owed = 0;
        uint256 fees = 0;
        for (uint256 i; i < orders.length; ++i) {
            OrderTerms calldata terms = orders[i];
            (uint256 merchantAmount, uint256 feeAmount) = _releaseDue(terms, true);
            // A released order always owes its merchant something (the fee is below the gross): zero is a skip.
            if (merchantAmount == 0) continue;
            unchecked {
                ++released;
            }
            (address orderMerchant, address orderToken,) = _fieldsOfFound(terms);
            if (orderMerchant != merchant || orderToken != token) {
                // The registry is ours and calls nothing back, and this holds the nonReentrant lock:
                // crediting a run after the sale records of its orders is safe.
                // slither-disable-next-line reentrancy-no-eth
                _credit(merchant, token, owed, fees);
                (merchant, token, owed, fees) = (orderMerchant, orderToken, 0, 0);
            }
            // Amounts this contract holds, summed: never above a token's supply.
            unchecked {
                owed += merchantAmount;
                fees += feeAmount;
            }
        }
        _credit(merchant, token, owed, fees);
    }

    /// @inheritdoc IOrderEscrow
    function releaseItems(OrderTerms calldata terms, uint32 items) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireUndisputed(orderId, order);
        if (items == 0 || items & ~_openItems(order) != 0) revert EscrowInvalidItems(orderId, items);
        if (_msgSender() != terms.buyer) {
            if (items & ~order.deliveredItems != 0) revert EscrowItemsNotDelivered(orderId, items);
            uint256 releasableAt = uint256(order.deliveredAt) + terms.disputeWindow;
            if (block.timestamp < releasableAt) revert EscrowReleaseTooEarly(orderId, releasableAt);
        }
        _release(orderId, order, terms, items, true);
    }

    // ------------------------------------------------------------------ refunds

    /// @inheritdoc IOrderEscrow
    function cancel(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        (RefundReason reason, uint32 items) = _cancellation(orderId, order, terms);
        _refund(orderId, order, terms, items, reason);
    }

    /// @inheritdoc IOrderEscrow
    function refundRecalled(OrderTerms calldata terms, uint32 items) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireOpen(orderId, order);
        if (terms.itemIds.length == 0 || items == 0 || items & ~_openItems(order) != 0) {
            revert EscrowInvalidItems(orderId, items);
        }
        for (uint256 i; i < terms.itemIds.length; ++i) {
            if (items & (uint32(1) << i) == 0) continue;
            bytes32 itemId = terms.itemIds[i];
            IProductRegistry.Verdict verdict = _registry.verify(itemId);
            if (verdict != IProductRegistry.Verdict.Recalled && verdict != IProductRegistry.Verdict.Flagged) {
                revert EscrowItemNotRecalled(orderId, itemId, uint8(verdict));
            }
        }
        _refund(orderId, order, terms, items, RefundReason.ItemRecalled);
    }

    // ------------------------------------------------------------------ settlements and disputes

    /// @inheritdoc IOrderEscrow
    function offerSettlement(OrderTerms calldata terms, uint16 buyerBps, uint40 expiresAt) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireOpen(orderId, order);
        if (buyerBps > _BPS) revert EscrowInvalidSplit(buyerBps);
        if (expiresAt <= block.timestamp) revert EscrowOfferExpiry(orderId, expiresAt);
        _offers[orderId] =
            Offer({buyerBps: buyerBps, byMerchant: _isMerchant(orderId, terms), exists: true, expiresAt: expiresAt});
        emit SettlementOffered(orderId, _msgSender(), buyerBps, expiresAt);
    }

    /// @inheritdoc IOrderEscrow
    function withdrawOffer(OrderTerms calldata terms) external {
        bytes32 orderId = _idOf(terms);
        Offer storage offer = _offers[orderId];
        if (!offer.exists || offer.byMerchant != _isMerchant(orderId, terms)) {
            revert EscrowNotOfferMaker(orderId, _msgSender());
        }
        delete _offers[orderId];
        emit SettlementOfferWithdrawn(orderId, _msgSender());
    }

    /// @inheritdoc IOrderEscrow
    function acceptSettlement(OrderTerms calldata terms, uint16 buyerBps) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireOpen(orderId, order);
        bool byMerchant = _isMerchant(orderId, terms);
        Offer memory offer = _offers[orderId];
        if (!offer.exists || offer.byMerchant == byMerchant || offer.buyerBps != buyerBps) {
            revert EscrowNoMatchingOffer(orderId, buyerBps);
        }
        if (block.timestamp >= offer.expiresAt) revert EscrowOfferExpired(orderId, offer.expiresAt);
        uint32 undelivered = _undelivered(order, terms);
        if (undelivered != 0) revert EscrowDeliveryUnproven(orderId, undelivered);
        delete _offers[orderId];
        _settle(orderId, order, terms, buyerBps, SettlementKind.Agreement);
    }

    /// @inheritdoc IOrderEscrow
    function dispute(OrderTerms calldata terms, bytes32 evidenceHash) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireBuyer(orderId, terms);
        OrderStatus status = order.status;
        if (status != OrderStatus.Shipped && status != OrderStatus.Delivered) {
            revert EscrowInvalidStatus(orderId, status);
        }
        uint256 closesAt = _releasableAt(order, status, terms);
        if (block.timestamp >= closesAt) revert EscrowDisputeWindowClosed(orderId, closesAt);
        _openDispute(orderId, order, evidenceHash);
    }

    /// @inheritdoc IOrderEscrow
    function submitEvidence(OrderTerms calldata terms, bytes32 evidenceHash) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (order.status != OrderStatus.Disputed) revert EscrowInvalidStatus(orderId, order.status);
        if (_isMerchant(orderId, terms)) order.merchantAnswered = true;
        emit EvidenceSubmitted(orderId, _msgSender(), evidenceHash);
    }

    /// @inheritdoc IOrderEscrow
    function resolveDispute(OrderTerms calldata terms, uint16 buyerBps, bytes32 rulingHash)
        external
        nonReentrant
        onlyRole(ARBITER_ROLE)
    {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (order.status != OrderStatus.Disputed) revert EscrowInvalidStatus(orderId, order.status);
        if (block.timestamp >= order.disputeDeadline) {
            revert EscrowArbitrationExpired(orderId, order.disputeDeadline);
        }
        if (buyerBps > _BPS) revert EscrowInvalidSplit(buyerBps);
        _settle(orderId, order, terms, buyerBps, SettlementKind.Arbiter);
        emit DisputeRuled(orderId, _msgSender(), rulingHash);
    }

    /// @inheritdoc IOrderEscrow
    function resolveExpiredDispute(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (order.status != OrderStatus.Disputed) revert EscrowInvalidStatus(orderId, order.status);
        if (block.timestamp < order.disputeDeadline) {
            revert EscrowArbitrationPending(orderId, order.disputeDeadline);
        }
        bool split = order.merchantAnswered && _undelivered(order, terms) == 0;
        _settle(orderId, order, terms, split ? _BPS / 2 : _BPS, SettlementKind.ArbitrationTimeout);
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc IOrderEscrow
    function withdraw(address token) external nonReentrant {
        _withdraw(token, payable(_msgSender()));
    }

    /// @inheritdoc IOrderEscrow
    function withdrawTo(address token, address payable to) external nonReentrant {
        if (to == address(0)) revert EscrowZeroAddress();
        _withdraw(token, to);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IOrderEscrow
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IOrderEscrow
    function orderIdOf(OrderTerms calldata terms) external pure returns (bytes32) {
        return _idOf(terms);
    }

    /// @inheritdoc IOrderEscrow
    function orderOf(bytes32 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IOrderEscrow
    function offerOf(bytes32 orderId) external view returns (Offer memory) {
        return _offers[orderId];
    }

    /// @inheritdoc IOrderEscrow
    function escrowedOf(OrderTerms calldata terms) external view returns (uint256) {
        Order storage order = _orders[_idOf(terms)];
        if (order.status == OrderStatus.None || uint8(order.status) >= uint8(OrderStatus.Released)) return 0;
        return _shareOf(terms.amount, order.itemCount, _openItems(order));
    }

    /// @inheritdoc IOrderEscrow
    function payerCreditOf(OrderTerms calldata terms) external view returns (uint256 amount) {
        Order storage order = _orders[_idOf(terms)];
        if (order.status == OrderStatus.None) return 0;
        amount = _shareOf(terms.amount, order.itemCount, order.refundedItems);
        if (order.status == OrderStatus.Settled) {
            amount += (_shareOf(terms.amount, order.itemCount, _openItems(order)) * order.buyerBps) / _BPS;
        }
    }

    /// @inheritdoc IOrderEscrow
    function creditOf(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc IOrderEscrow
    function saleEventCount() external view returns (uint256) {
        return _saleEventCount;
    }

    // ------------------------------------------------------------------ internals: transitions

    function _open(bytes32 orderId, OrderTerms calldata terms, bytes memory encoded) private {
        if (terms.merchant == address(0)) revert EscrowZeroAddress();
        if (terms.buyer == terms.merchant) revert EscrowBuyerIsMerchant(terms.buyer);
        uint256 itemCount = terms.itemIds.length;
        if (itemCount > MAX_ITEMS) revert EscrowTooManyItems(itemCount, MAX_ITEMS);
        if (itemCount == 0) {
            if (terms.orderRef == bytes32(0)) revert EscrowMissingOrderRef();
            itemCount = 1;
        }
        if (terms.amount < itemCount) revert EscrowInvalidAmount(terms.amount, itemCount);
        if (terms.shipBy <= block.timestamp || terms.deliverBy < terms.shipBy || terms.deliverBy > type(uint32).max) {
            revert EscrowInvalidDeadlines(terms.shipBy, terms.deliverBy, block.timestamp);
        }
        _checkSettings(terms);
        _checkPayment(terms);
        Order storage order = _orders[orderId];
        if (order.status != OrderStatus.None) revert EscrowOrderExists(orderId);
        order.status = OrderStatus.Funded;
        order.itemCount = uint8(itemCount);
        order.shipBy = uint32(terms.shipBy);
        _emitOrderOpened(orderId, terms.buyer, terms.merchant, encoded);
        // Our own registry, which calls nothing back: it refuses items that are not the merchant's to sell.
        if (terms.itemIds.length != 0) _registry.holdItems(orderId, terms.merchant, terms.itemIds);
        if (terms.token != address(0)) _pull(IERC20(terms.token), terms.amount);
    }

    /// @dev Applies one logistics report, or returns the custom error that refuses it.
    function _applyLogistics(LogisticsUpdate calldata update) private returns (bytes memory refusal) {
        bytes32 orderId = update.orderId;
        Order storage order = _orders[orderId];
        OrderStatus status = order.status;
        if (status == OrderStatus.None) return abi.encodeWithSelector(EscrowOrderNotFound.selector, orderId);
        uint16 carrier = order.carrier;
        if (carrier == 0 || update.carrier != carrier) {
            return abi.encodeWithSelector(EscrowWrongCarrier.selector, orderId, update.carrier, carrier);
        }
        if (update.kind == LogisticsKind.ConditionBreached) {
            // A carrier reports what broke while it held the goods; once they are delivered, only the
            // buyer disputes, within its window (which the id-only report cannot check).
            if (status != OrderStatus.Shipped) {
                return abi.encodeWithSelector(EscrowInvalidStatus.selector, orderId, status);
            }
            _openDispute(orderId, order, update.evidenceHash);
            return refusal;
        }
        if (status != OrderStatus.Funded && (update.kind == LogisticsKind.Shipped || status != OrderStatus.Shipped)) {
            return abi.encodeWithSelector(EscrowInvalidStatus.selector, orderId, status);
        }
        uint32 all = _mask(order.itemCount);
        uint32 delivered = order.deliveredItems;
        uint32 items = update.items;
        // Items released or refunded meanwhile need no delivery; a report with nothing left is stale.
        if (items == 0) items = all & ~(delivered | order.releasedItems | order.refundedItems);
        // Checked before the pickup below, so that a refused delivery report changes nothing.
        if (update.kind == LogisticsKind.Delivered && (items == 0 || items & ~all != 0 || items & delivered != 0)) {
            return abi.encodeWithSelector(EscrowInvalidItems.selector, orderId, update.items);
        }
        if (status == OrderStatus.Funded) {
            // The named carrier's pickup: on time, since the carrier was named by `shipBy`. A delivery
            // report whose pickup report was lost proves the pickup too.
            order.status = OrderStatus.Shipped;
            emit OrderShipped(
                orderId, _msgSender(), carrier, update.kind == LogisticsKind.Shipped ? update.evidenceHash : bytes32(0)
            );
            if (update.kind == LogisticsKind.Shipped) return refusal;
        }
        delivered |= items;
        order.deliveredItems = delivered;
        order.deliveredAt = uint32(block.timestamp);
        // Items already released or refunded need no delivery report to complete the order.
        // A bitmap compared with a bitmap, not a balance or a time (slither taints the whole struct).
        // slither-disable-next-line incorrect-equality
        if (delivered | order.releasedItems | order.refundedItems == all) order.status = OrderStatus.Delivered;
        emit OrderDelivered(orderId, _msgSender(), items, update.evidenceHash);
    }

    /// @dev `emit OrderOpened(orderId, buyer, merchant, terms)` from the terms' ABI encoding, which is
    /// the event's data byte for byte and was already made for the order id: encoding the terms a second
    /// time would cost about as much as the registry's hold of an item.
    function _emitOrderOpened(bytes32 orderId, address buyer, address merchant, bytes memory encoded) private {
        bytes32 topic = OrderOpened.selector;
        assembly ("memory-safe") {
            log4(add(encoded, 32), mload(encoded), topic, orderId, buyer, merchant)
        }
    }

    function _openDispute(bytes32 orderId, Order storage order, bytes32 evidenceHash) private {
        uint32 deadline = uint32(block.timestamp) + _currentArbitrationPeriod();
        order.status = OrderStatus.Disputed;
        order.disputeDeadline = deadline;
        emit DisputeOpened(orderId, _msgSender(), evidenceHash, deadline);
    }

    /// @dev `release`'s rule for one order, for `release` and `releaseDue` alike: a shipped or delivered
    /// order whose dispute window has run out pays its open items. A batch (`inBatch`) skips an order
    /// already decided (final) or disputed, returning (0, 0) with nothing changed, and leaves the credit to
    /// its caller; anything else `release` refuses reverts with the same error.
    function _releaseDue(OrderTerms calldata terms, bool inBatch)
        private
        returns (uint256 merchantAmount, uint256 feeAmount)
    {
        (bytes32 orderId, Order storage order, OrderStatus status) = _loadWithStatus(terms);
        if (status != OrderStatus.Shipped && status != OrderStatus.Delivered) {
            if (inBatch && uint8(status) >= uint8(OrderStatus.Disputed)) return (0, 0);
            revert EscrowInvalidStatus(orderId, status);
        }
        uint256 releasableAt = _releasableAt(order, status, terms);
        if (block.timestamp < releasableAt) revert EscrowReleaseTooEarly(orderId, releasableAt);
        return _release(orderId, order, terms, _openItems(order), !inBatch);
    }

    /// @dev Pays `items` (open, non-empty) to the merchant: a funder-paid order only for delivered items.
    /// Credits the merchant and the fee recipient when `credit`, else leaves it to the caller (a batch).
    function _release(bytes32 orderId, Order storage order, OrderTerms calldata terms, uint32 items, bool credit)
        private
        returns (uint256 merchantAmount, uint256 feeAmount)
    {
        // Items first: a delivered order needs no look at who paid.
        if (items & ~order.deliveredItems != 0 && terms.payer != terms.buyer) {
            revert EscrowDeliveryUnproven(orderId, items & ~order.deliveredItems);
        }
        uint8 itemCount = order.itemCount;
        uint32 all = _mask(itemCount);
        uint32 released = order.releasedItems | items;
        // All of an order's items together are its whole price (their shares add up to it).
        uint256 gross = items == all ? terms.amount : _shareOf(terms.amount, itemCount, items);
        order.releasedItems = released;
        if (released | order.refundedItems == all) order.status = OrderStatus.Released;
        (merchantAmount, feeAmount) = _split(terms, gross);
        if (credit) _credit(terms.merchant, terms.token, merchantAmount, feeAmount);
        emit OrderReleased(orderId, _msgSender(), items, merchantAmount, feeAmount);
        (,, uint256 listed) = _fieldsOfFound(terms);
        if (listed == 0) return (merchantAmount, feeAmount);
        // A release before any hand-over is a payment, not a sale: the items go free for another order.
        if (order.carrier != 0) _recordSale(orderId, terms, items);
        else _freeItems(orderId, terms, items);
    }

    /// @dev Returns `items` (open, non-empty) to the payer; the order is final once nothing is open.
    function _refund(bytes32 orderId, Order storage order, OrderTerms calldata terms, uint32 items, RefundReason reason)
        private
    {
        uint256 amount = _shareOf(terms.amount, order.itemCount, items);
        uint32 refunded = order.refundedItems | items;
        order.refundedItems = refunded;
        uint32 all = _mask(order.itemCount);
        if (order.releasedItems | refunded == all) {
            order.status = OrderStatus.Refunded;
        } else if (order.status == OrderStatus.Shipped && order.deliveredItems | order.releasedItems | refunded == all)
        {
            // What is left was all reported delivered: its dispute window runs from that report.
            order.status = OrderStatus.Delivered;
        }
        _credits[terms.payer][terms.token] += amount;
        emit OrderRefunded(orderId, _msgSender(), reason, items, amount);
        if (terms.itemIds.length != 0) _freeItems(orderId, terms, items);
    }

    function _settle(
        bytes32 orderId,
        Order storage order,
        OrderTerms calldata terms,
        uint16 buyerBps,
        SettlementKind kind
    ) private {
        uint32 open = _openItems(order);
        uint256 remainder = _shareOf(terms.amount, order.itemCount, open);
        uint256 payerAmount = (remainder * buyerBps) / _BPS;
        order.status = OrderStatus.Settled;
        order.buyerBps = buyerBps;
        if (payerAmount != 0) _credits[terms.payer][terms.token] += payerAmount;
        (uint256 merchantAmount, uint256 feeAmount) = _split(terms, remainder - payerAmount);
        _credit(terms.merchant, terms.token, merchantAmount, feeAmount);
        emit OrderSettled(orderId, _msgSender(), kind, buyerBps, payerAmount, merchantAmount, feeAmount);
        // Goods never handed to a carrier stayed with the merchant; goods that left stay with the buyer.
        if (terms.itemIds.length != 0 && order.carrier == 0) _freeItems(orderId, terms, open);
    }

    /// @dev What `gross` pays the merchant and the fee recipient by the terms' fee (rounded down).
    function _split(OrderTerms calldata terms, uint256 gross)
        private
        pure
        returns (uint256 merchantAmount, uint256 feeAmount)
    {
        feeAmount = (gross * terms.feeBps) / _BPS;
        // feeBps <= MAX_FEE_BPS < 10_000, so the fee is below the gross (and non-zero gross pays the merchant).
        unchecked {
            merchantAmount = gross - feeAmount;
        }
    }

    /// @dev Credits a merchant and the fee recipient in `token`; nothing when the merchant is owed nothing.
    function _credit(address merchant, address token, uint256 merchantAmount, uint256 feeAmount) private {
        if (merchantAmount == 0) return;
        _credits[merchant][token] += merchantAmount;
        if (feeAmount != 0) _credits[_currentFeeRecipient()][token] += feeAmount;
    }

    /// @dev Records CustodyAction.Sold for `items` in the registry; a refusal never blocks the payout.
    function _recordSale(bytes32 orderId, OrderTerms calldata terms, uint32 items) private {
        uint256 count = _popcount(items);
        uint256 firstEventId = _saleEventCount;
        IProductRegistry.CustodyInput[] memory sales = new IProductRegistry.CustodyInput[](count);
        bytes32 buyerTag = bytes32(uint256(uint160(terms.buyer)));
        uint256 next = 0;
        for (uint256 i; i < terms.itemIds.length; ++i) {
            if (items & (uint32(1) << i) == 0) continue;
            sales[next] = IProductRegistry.CustodyInput({
                itemId: terms.itemIds[i],
                eventId: firstEventId + next,
                action: IProductRegistry.CustodyAction.Sold,
                occurredAt: uint40(block.timestamp),
                locationHash: buyerTag,
                contextHash: orderId
            });
            ++next;
        }
        _saleEventCount = firstEventId + count;
        uint256 gasBefore = gasleft();
        try _registry.recordSales(terms.merchant, sales) {
            emit SaleRecorded(orderId, firstEventId, count);
        } catch (bytes memory reason) {
            _requireGasLeft(gasBefore);
            // Rolls back the ids of a refused record. The callee is the immutable registry set at
            // construction, which calls nothing back, and every path here holds the nonReentrant lock.
            // slither-disable-next-line reentrancy-no-eth
            _saleEventCount = firstEventId;
            emit SaleNotRecorded(orderId, reason);
        }
    }

    /// @dev Lets the registry free `items`; a refusal never blocks the refund.
    function _freeItems(bytes32 orderId, OrderTerms calldata terms, uint32 items) private {
        uint256 gasBefore = gasleft();
        try _registry.freeItems(orderId, terms.itemIds, items) {}
        catch (bytes memory reason) {
            _requireGasLeft(gasBefore);
            emit ItemsNotFreed(orderId, items, reason);
        }
    }

    function _withdraw(address token, address payable to) private {
        address account = _msgSender();
        uint256 amount = _credits[account][token];
        if (amount == 0) revert EscrowNothingToWithdraw(account, token);
        _credits[account][token] = 0;
        emit Withdrawn(account, token, to, amount);
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EscrowEthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ internals: checks and math

    /// @dev Why the caller may cancel, and which items that refunds; anyone else reverts.
    function _cancellation(bytes32 orderId, Order storage order, OrderTerms calldata terms)
        private
        view
        returns (RefundReason, uint32)
    {
        uint32 open = _openItems(order);
        if (_msgSender() == terms.merchant) {
            _requireOpen(orderId, order);
            return (RefundReason.MerchantCancelled, open);
        }
        OrderStatus status = order.status;
        uint16 carrier = order.carrier;
        if (status == OrderStatus.Funded) {
            // Once handed to a carrier the goods may be on their way (a pickup report can be lost):
            // only `deliverBy` passing without any report lets anyone refund.
            uint256 deadline = carrier == 0 ? order.shipBy : terms.deliverBy;
            if (block.timestamp > deadline) return (RefundReason.ShipByMissed, open);
            if (_msgSender() != terms.buyer) revert EscrowNotParty(orderId, _msgSender());
            if (carrier != 0) revert EscrowHandedToCarrier(orderId, carrier);
            return (RefundReason.BuyerCancelled, open);
        }
        if (
            status == OrderStatus.Shipped && terms.payer != terms.buyer
                && block.timestamp >= uint256(terms.deliverBy) + terms.disputeWindow
        ) {
            uint32 undelivered = open & ~order.deliveredItems;
            if (undelivered != 0) return (RefundReason.DeliveryNotReported, undelivered);
        }
        if (_msgSender() != terms.buyer) revert EscrowNotParty(orderId, _msgSender());
        revert EscrowInvalidStatus(orderId, status);
    }

    /// @dev Reverts unless the merchant may hand the order to `carrier` now.
    function _requireShippable(bytes32 orderId, Order storage order, uint16 carrier) private view {
        if (carrier == 0) revert EscrowNoCarrier(orderId);
        if (order.status != OrderStatus.Funded) revert EscrowInvalidStatus(orderId, order.status);
        if (block.timestamp > order.shipBy) revert EscrowShipByPassed(orderId, uint40(order.shipBy));
    }

    function _checkPayment(OrderTerms calldata terms) private view {
        if (terms.token == address(0)) {
            if (msg.value != terms.amount) revert EscrowWrongPayment(terms.amount, msg.value);
        } else {
            if (msg.value != 0) revert EscrowWrongPayment(0, msg.value);
            if (!_isAllowed(terms.token)) revert EscrowTokenNotAllowed(terms.token);
        }
    }

    /// @dev Pulls `amount` from the caller and refuses tokens that deliver less.
    function _pull(IERC20 token, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(_msgSender(), address(this), amount);
        uint256 balance = token.balanceOf(address(this));
        if (balance < before + amount) {
            revert EscrowTokenDeliveredLess(address(token), amount, balance > before ? balance - before : 0);
        }
    }

    function _load(OrderTerms calldata terms) private view returns (bytes32 orderId, Order storage order) {
        (orderId, order,) = _loadWithStatus(terms);
    }

    /// @dev The order these terms hash to, and its status; reverts when there is none.
    function _loadWithStatus(OrderTerms calldata terms)
        private
        view
        returns (bytes32 orderId, Order storage order, OrderStatus status)
    {
        orderId = _idOf(terms);
        order = _orders[orderId];
        status = order.status;
        if (status == OrderStatus.None) revert EscrowOrderNotFound(orderId);
    }

    /// @dev Not final: Funded, Shipped, Delivered or Disputed.
    function _requireOpen(bytes32 orderId, Order storage order) private view {
        if (uint8(order.status) >= uint8(OrderStatus.Released)) revert EscrowInvalidStatus(orderId, order.status);
    }

    function _requireMerchant(bytes32 orderId, OrderTerms calldata terms) private view {
        address caller = _msgSender();
        if (caller != terms.merchant) revert EscrowNotMerchant(orderId, caller);
    }

    function _requireBuyer(bytes32 orderId, OrderTerms calldata terms) private view {
        address caller = _msgSender();
        if (caller != terms.buyer) revert EscrowNotBuyer(orderId, caller);
    }

    /// @dev Funded, Shipped or Delivered.
    function _requireUndisputed(bytes32 orderId, Order storage order) private view {
        if (uint8(order.status) >= uint8(OrderStatus.Disputed)) revert EscrowInvalidStatus(orderId, order.status);
    }

    function _isMerchant(bytes32 orderId, OrderTerms calldata terms) private view returns (bool) {
        if (_msgSender() == terms.merchant) return true;
        if (_msgSender() != terms.buyer) revert EscrowNotParty(orderId, _msgSender());
        return false;
    }

    /// @dev A funder-paid order's open items no carrier reported delivered (0 for a wallet-paid order).
    function _undelivered(Order storage order, OrderTerms calldata terms) private view returns (uint32) {
        if (terms.payer == terms.buyer) return 0;
        return _openItems(order) & ~order.deliveredItems;
    }

    /// @dev Items neither released nor refunded.
    function _openItems(Order storage order) private view returns (uint32) {
        return _mask(order.itemCount) & ~(order.releasedItems | order.refundedItems);
    }

    /// @dev When the dispute window closes and anyone may release: delivery (or `deliverBy` for a shipped
    /// order never reported fully delivered) plus the order's window.
    function _releasableAt(Order storage order, OrderStatus status, OrderTerms calldata terms)
        private
        view
        returns (uint256)
    {
        uint256 deliveredAt = order.deliveredAt;
        if (status != OrderStatus.Delivered && terms.deliverBy > deliveredAt) deliveredAt = terms.deliverBy;
        unchecked {
            return deliveredAt + terms.disputeWindow; // two uint40/uint32 times: no overflow
        }
    }

    function _requireGasLeft(uint256 gasBefore) private view {
        // A call starved of gas by the caller leaves under 1/64 behind: refuse rather than skip the record.
        if (gasleft() <= gasBefore / 63) revert EscrowInsufficientGas();
    }

    /// @dev keccak256(abi.encode(terms)), hashed from the calldata without decoding and encoding it again
    /// (which costs a batch more than its storage): the tuple's calldata bytes, after the offset word
    /// `abi.encode` puts first, are that encoding when the caller encoded it as every ABI encoder does.
    /// Terms encoded any other way (another offset for `itemIds`, dirty bits) hash to bytes no order was
    /// opened with, since `open` hashes its own encoding: they find no order, and nothing is done for them.
    function _idOf(OrderTerms calldata terms) private pure returns (bytes32 id) {
        assembly ("memory-safe") {
            let encoded := mload(0x40)
            // The head (12 words), then the item count and the ids, where a standard encoding puts them.
            let size := add(0x1a0, shl(5, calldataload(add(terms, 0x180))))
            mstore(encoded, 0x20)
            calldatacopy(add(encoded, 0x20), terms, size)
            id := keccak256(encoded, add(size, 0x20))
        }
    }

    /// @dev `terms.merchant`, `terms.token` and `terms.itemIds.length` of terms that found an order (`_load`),
    /// read as they lie in calldata: only terms encoded as `abi.encode` encodes them find one (`_idOf`), so
    /// the words are clean and where the standard encoding puts them, and decoding them again (a check per
    /// field) would only cost the release path gas. Never for terms that found no order.
    function _fieldsOfFound(OrderTerms calldata terms)
        private
        pure
        returns (address merchant, address token, uint256 itemCount)
    {
        assembly ("memory-safe") {
            merchant := calldataload(add(terms, 0x20))
            token := calldataload(add(terms, 0x60))
            itemCount := calldataload(add(terms, 0x180))
        }
    }

    /// @dev The price share of `items`: floor(amount / itemCount) each, the last item the rest.
    /// Every order has 1 to 32 items, so nothing here can overflow: each term is at most `amount`.
    function _shareOf(uint256 amount, uint8 itemCount, uint32 items) private pure returns (uint256 total) {
        uint256 share = amount / itemCount;
        unchecked {
            uint32 last = uint32(1) << (itemCount - 1);
            // By design: every item but the last owns the rounded-down share; the last carries the rest.
            // slither-disable-next-line divide-before-multiply
            total = share * _popcount(items & ~last);
            // By design: the last item carries the rounding, whatever is released or refunded first.
            // slither-disable-next-line divide-before-multiply
            if (items & last != 0) total += amount - share * (itemCount - 1);
        }
    }

    function _mask(uint8 itemCount) private pure returns (uint32) {
        unchecked {
            return uint32((uint256(1) << itemCount) - 1);
        }
    }

    function _popcount(uint32 bits) private pure returns (uint256 count) {
        // At most 32 iterations; each clears the lowest set bit.
        unchecked {
            while (bits != 0) {
                bits &= bits - 1;
                ++count;
            }
        }
    }

    // ------------------------------------------------------------------ the caller

    /// @inheritdoc IOrderEscrow
    function isTrustedForwarder(address forwarder) external view returns (bool) {
        return forwarder == _forwarder;
    }

    /// @dev ERC-2771 as OpenZeppelin's ERC2771Context reads it, with the registry's forwarder: a call
    /// that forwarder makes ends with its signer's 20 bytes. Written out, because ERC2771Context's public
    /// getters and calldata bounds checks do not fit under the size limit; the registry's
    /// `trustedForwarder()` is where anyone reads the forwarder. OpenZeppelin's forwarder always appends
    /// the signer, so calldata from it is never shorter than 20 bytes.
    function _msgSender() internal view override returns (address sender) {
        sender = msg.sender;
        if (sender == _forwarder) {
            assembly ("memory-safe") {
                sender := shr(96, calldataload(sub(calldatasize(), 20)))
            }
        }
    }
}
