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
/// in IOrderEscrow, and records items sold through an order in the product registry.
/// @dev Decisions:
/// - One storage slot per order (`Order`), keyed by the hash of its terms; the terms travel in calldata.
/// - ERC-20s that deliver less than the amount asked (fee-on-transfer, rebasing down) are refused at
///   opening with `EscrowTokenDeliveredLess`: the escrow owes exactly what the terms say, so it must
///   hold exactly that. ETH needs no allow-list entry; ERC-20s do.
/// - Money leaves only through `withdraw`/`withdrawTo`; every outcome credits (account, token) balances.
/// - The fee is the terms' `feeBps` (the fee at opening), taken from every amount paid to the merchant
///   (releases and the merchant's part of splits), never from refunds; it rounds down.
/// - Splits give the payer `remainder * buyerBps / 10_000` (rounded down) and the merchant the rest.
/// - Refunds and the payer's part of splits are credited to `terms.payer`: a credit line that funded an
///   order with `openFor` withdraws them and applies them to the buyer's debt (`OrderRefunded` and
///   `OrderSettled` name the order and the amount).
/// - Arbitration timeout: a merchant who never answered a dispute defaults (full refund); if it
///   answered, neither side should bear the arbiter's failure alone (even split).
/// - Sold records: each item released to the merchant is recorded in the registry as CustodyAction.Sold,
///   with `contextHash = orderId` and `locationHash = bytes32(uint256(uint160(buyer)))` (the "where"
///   of a sale is its new owner). Event ids are sequential in the escrow's own submitter namespace.
///   The escrow needs the registry's ORACLE_ROLE; if the registry refuses (no role, unregistered item)
///   the payout stands and `SaleNotRecorded` says why: the registry can never lock funds.
contract OrderEscrow is EscrowConfig, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Rules on disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Reports shipments, deliveries and broken conditions (carriers, through the service).
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice May open orders on a buyer's behalf and pays for them (credit lines).
    bytes32 public constant FUNDER_ROLE = keccak256("FUNDER_ROLE");
    /// @notice Most items in one order: the width of the delivered and released bitmaps.
    uint256 public constant MAX_ITEMS = 32;

    uint16 private constant _BPS = 10_000;

    IProductRegistry private immutable _registry;
    mapping(bytes32 orderId => Order) private _orders;
    mapping(bytes32 orderId => Offer) private _offers;
    mapping(address account => mapping(address token => uint256 amount)) private _credits;
    uint256 private _saleEventCount;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants the other roles.
    /// @param registry The product registry that records sales.
    /// @param recipient Who is credited the platform fee.
    constructor(address admin, IProductRegistry registry, address recipient) EscrowConfig(admin, recipient) {
        if (address(registry) == address(0)) revert EscrowZeroAddress();
        _registry = registry;
    }

    // ------------------------------------------------------------------ opening

    /// @inheritdoc IOrderEscrow
    function open(OrderTerms calldata terms) external payable nonReentrant whenNotPaused returns (bytes32 orderId) {
        orderId = _idOf(terms);
        if (msg.sender != terms.buyer || terms.payer != msg.sender) revert EscrowNotBuyer(orderId, msg.sender);
        _open(orderId, terms);
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
        if (terms.payer != msg.sender) revert EscrowPayerMismatch(terms.payer, msg.sender);
        if (terms.buyer == address(0)) revert EscrowZeroAddress();
        orderId = _idOf(terms);
        _open(orderId, terms);
    }

    // ------------------------------------------------------------------ shipping and delivery

    /// @inheritdoc IOrderEscrow
    function ship(OrderTerms calldata terms, bytes32 trackingHash) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (msg.sender != terms.merchant) revert EscrowNotMerchant(orderId, msg.sender);
        _ship(orderId, order, trackingHash);
    }

    /// @inheritdoc IOrderEscrow
    function reportLogistics(LogisticsUpdate[] calldata updates) external onlyRole(ORACLE_ROLE) {
        if (updates.length == 0) revert EscrowEmptyBatch();
        for (uint256 i; i < updates.length; ++i) {
            LogisticsUpdate calldata update = updates[i];
            bytes32 orderId = update.orderId;
            Order storage order = _orders[orderId];
            if (order.status == OrderStatus.None) revert EscrowOrderNotFound(orderId);
            if (update.kind == LogisticsKind.Delivered) {
                _deliver(orderId, order, update.items, update.evidenceHash);
            } else if (update.kind == LogisticsKind.Shipped) {
                _ship(orderId, order, update.evidenceHash);
            } else {
                _openDispute(orderId, order, update.evidenceHash);
            }
        }
    }

    // ------------------------------------------------------------------ release

    /// @inheritdoc IOrderEscrow
    function confirmReceipt(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (msg.sender != terms.buyer) revert EscrowNotBuyer(orderId, msg.sender);
        _requireUndisputed(orderId, order);
        _release(orderId, order, terms, _mask(order.itemCount) & ~order.releasedItems);
    }

    /// @inheritdoc IOrderEscrow
    function release(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        OrderStatus status = order.status;
        if (status != OrderStatus.Shipped && status != OrderStatus.Delivered) {
            revert EscrowInvalidStatus(orderId, status);
        }
        uint256 releasableAt = _releasableAt(order, terms);
        if (block.timestamp < releasableAt) revert EscrowReleaseTooEarly(orderId, releasableAt);
        _release(orderId, order, terms, _mask(order.itemCount) & ~order.releasedItems);
    }

    /// @inheritdoc IOrderEscrow
    function releaseItems(OrderTerms calldata terms, uint32 items) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireUndisputed(orderId, order);
        if (items == 0 || items & ~_mask(order.itemCount) != 0 || items & order.releasedItems != 0) {
            revert EscrowInvalidItems(orderId, items);
        }
        if (msg.sender != terms.buyer) {
            if (items & ~order.deliveredItems != 0) revert EscrowItemsNotDelivered(orderId, items);
            uint256 releasableAt = uint256(order.deliveredAt) + terms.disputeWindow;
            if (block.timestamp < releasableAt) revert EscrowReleaseTooEarly(orderId, releasableAt);
        }
        _release(orderId, order, terms, items);
    }

    // ------------------------------------------------------------------ refunds

    /// @inheritdoc IOrderEscrow
    function cancel(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        _refund(orderId, order, terms, _cancelReason(orderId, order, terms));
    }

    /// @inheritdoc IOrderEscrow
    function refundRecalled(OrderTerms calldata terms, uint256 itemIndex) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (msg.sender != terms.buyer) revert EscrowNotBuyer(orderId, msg.sender);
        _requireOpen(orderId, order);
        if (itemIndex >= terms.itemIds.length) revert EscrowItemIndexOutOfRange(orderId, itemIndex);
        bytes32 itemId = terms.itemIds[itemIndex];
        IProductRegistry.Verdict verdict = _registry.verify(itemId);
        if (verdict != IProductRegistry.Verdict.Recalled && verdict != IProductRegistry.Verdict.Flagged) {
            revert EscrowItemNotRecalled(orderId, itemId, uint8(verdict));
        }
        _refund(orderId, order, terms, RefundReason.ItemRecalled);
    }

    // ------------------------------------------------------------------ settlements and disputes

    /// @inheritdoc IOrderEscrow
    function offerSettlement(OrderTerms calldata terms, uint16 buyerBps) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        _requireOpen(orderId, order);
        if (buyerBps > _BPS) revert EscrowInvalidSplit(buyerBps);
        _offers[orderId] = Offer({buyerBps: buyerBps, byMerchant: _isMerchant(orderId, terms), exists: true});
        emit SettlementOffered(orderId, msg.sender, buyerBps);
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
        delete _offers[orderId];
        _settle(orderId, order, terms, buyerBps, SettlementKind.Agreement);
    }

    /// @inheritdoc IOrderEscrow
    function dispute(OrderTerms calldata terms, bytes32 evidenceHash) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (msg.sender != terms.buyer) revert EscrowNotBuyer(orderId, msg.sender);
        OrderStatus status = order.status;
        if (status != OrderStatus.Shipped && status != OrderStatus.Delivered) {
            revert EscrowInvalidStatus(orderId, status);
        }
        uint256 closesAt = _releasableAt(order, terms);
        if (block.timestamp >= closesAt) revert EscrowDisputeWindowClosed(orderId, closesAt);
        _openDispute(orderId, order, evidenceHash);
    }

    /// @inheritdoc IOrderEscrow
    function submitEvidence(OrderTerms calldata terms, bytes32 evidenceHash) external {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (order.status != OrderStatus.Disputed) revert EscrowInvalidStatus(orderId, order.status);
        if (_isMerchant(orderId, terms)) order.merchantAnswered = true;
        emit EvidenceSubmitted(orderId, msg.sender, evidenceHash);
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
        emit DisputeRuled(orderId, msg.sender, rulingHash);
    }

    /// @inheritdoc IOrderEscrow
    function resolveExpiredDispute(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, Order storage order) = _load(terms);
        if (order.status != OrderStatus.Disputed) revert EscrowInvalidStatus(orderId, order.status);
        if (block.timestamp < order.disputeDeadline) {
            revert EscrowArbitrationPending(orderId, order.disputeDeadline);
        }
        uint16 buyerBps = order.merchantAnswered ? _BPS / 2 : _BPS;
        _settle(orderId, order, terms, buyerBps, SettlementKind.ArbitrationTimeout);
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc IOrderEscrow
    function withdraw(address token) external nonReentrant {
        _withdraw(token, payable(msg.sender));
    }

    /// @inheritdoc IOrderEscrow
    function withdrawTo(address token, address payable to) external nonReentrant {
        if (to == address(0)) revert EscrowZeroAddress();
        _withdraw(token, to);
    }

    // ------------------------------------------------------------------ views

    /// @notice The product registry that records sales.
    /// @return The registry.
    function registry() external view returns (IProductRegistry) {
        return _registry;
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
        return _remainder(terms, order);
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

    function _open(bytes32 orderId, OrderTerms calldata terms) private {
        if (terms.merchant == address(0)) revert EscrowZeroAddress();
        if (terms.buyer == terms.merchant) revert EscrowBuyerIsMerchant(terms.buyer);
        uint256 itemCount = terms.itemIds.length;
        if (itemCount > MAX_ITEMS) revert EscrowTooManyItems(itemCount, MAX_ITEMS);
        if (itemCount == 0) {
            if (terms.orderRef == bytes32(0)) revert EscrowMissingOrderRef();
            itemCount = 1;
        }
        if (terms.amount < itemCount) revert EscrowInvalidAmount(terms.amount, itemCount);
        if (terms.shipBy <= block.timestamp || terms.deliverBy < terms.shipBy) {
            revert EscrowInvalidDeadlines(terms.shipBy, terms.deliverBy, block.timestamp);
        }
        _checkSettings(terms);
        _checkPayment(terms);
        Order storage order = _orders[orderId];
        if (order.status != OrderStatus.None) revert EscrowOrderExists(orderId);
        order.status = OrderStatus.Funded;
        order.itemCount = uint8(itemCount);
        order.shipBy = terms.shipBy;
        emit OrderOpened(orderId, terms.buyer, terms.merchant, terms);
        if (terms.token != address(0)) _pull(IERC20(terms.token), terms.amount);
    }

    function _ship(bytes32 orderId, Order storage order, bytes32 trackingHash) private {
        if (order.status != OrderStatus.Funded) revert EscrowInvalidStatus(orderId, order.status);
        if (block.timestamp > order.shipBy) revert EscrowShipByPassed(orderId, order.shipBy);
        order.status = OrderStatus.Shipped;
        emit OrderShipped(orderId, msg.sender, trackingHash);
    }

    function _deliver(bytes32 orderId, Order storage order, uint32 items, bytes32 proofHash) private {
        if (order.status != OrderStatus.Shipped) revert EscrowInvalidStatus(orderId, order.status);
        uint32 all = _mask(order.itemCount);
        uint32 delivered = order.deliveredItems;
        if (items == 0) {
            items = all & ~delivered;
        } else if (items & ~all != 0 || items & delivered != 0) {
            revert EscrowInvalidItems(orderId, items);
        }
        delivered |= items;
        order.deliveredItems = delivered;
        order.deliveredAt = uint40(block.timestamp);
        // Items the buyer already confirmed need no delivery report to complete the order.
        // A bitmap compared with a bitmap, not a balance or a time (slither taints the whole struct).
        // slither-disable-next-line incorrect-equality
        if (delivered | order.releasedItems == all) order.status = OrderStatus.Delivered;
        emit OrderDelivered(orderId, msg.sender, items, proofHash);
    }

    function _openDispute(bytes32 orderId, Order storage order, bytes32 evidenceHash) private {
        OrderStatus status = order.status;
        if (status != OrderStatus.Shipped && status != OrderStatus.Delivered) {
            revert EscrowInvalidStatus(orderId, status);
        }
        uint40 deadline = uint40(block.timestamp) + _currentArbitrationPeriod();
        order.status = OrderStatus.Disputed;
        order.disputeDeadline = deadline;
        emit DisputeOpened(orderId, msg.sender, evidenceHash, deadline);
    }

    /// @dev Pays `items` (unreleased, non-empty) to the merchant; the last ones take the remainder.
    function _release(bytes32 orderId, Order storage order, OrderTerms calldata terms, uint32 items) private {
        uint32 released = order.releasedItems | items;
        uint256 gross;
        if (released == _mask(order.itemCount)) {
            gross = _remainder(terms, order);
            order.status = OrderStatus.Released;
        } else {
            // By design: each item's share is floor(amount / itemCount); the last release takes the rest.
            // slither-disable-next-line divide-before-multiply
            gross = (terms.amount / order.itemCount) * _popcount(items);
        }
        order.releasedItems = released;
        (uint256 merchantAmount, uint256 feeAmount) = _creditMerchant(terms, gross);
        emit OrderReleased(orderId, msg.sender, items, merchantAmount, feeAmount);
        if (terms.itemIds.length != 0) _recordSale(orderId, terms, items);
    }

    function _refund(bytes32 orderId, Order storage order, OrderTerms calldata terms, RefundReason reason) private {
        uint256 amount = _remainder(terms, order);
        order.status = OrderStatus.Refunded;
        _credits[terms.payer][terms.token] += amount;
        emit OrderRefunded(orderId, msg.sender, reason, amount);
    }

    function _settle(
        bytes32 orderId,
        Order storage order,
        OrderTerms calldata terms,
        uint16 buyerBps,
        SettlementKind kind
    ) private {
        uint256 remainder = _remainder(terms, order);
        uint256 payerAmount = (remainder * buyerBps) / _BPS;
        order.status = OrderStatus.Settled;
        order.buyerBps = buyerBps;
        if (payerAmount != 0) _credits[terms.payer][terms.token] += payerAmount;
        (uint256 merchantAmount, uint256 feeAmount) = _creditMerchant(terms, remainder - payerAmount);
        emit OrderSettled(orderId, msg.sender, kind, buyerBps, payerAmount, merchantAmount, feeAmount);
    }

    function _creditMerchant(OrderTerms calldata terms, uint256 gross)
        private
        returns (uint256 merchantAmount, uint256 feeAmount)
    {
        if (gross == 0) return (0, 0);
        feeAmount = (gross * terms.feeBps) / _BPS;
        // feeBps <= MAX_FEE_BPS < 10_000, so the fee is below the gross.
        unchecked {
            merchantAmount = gross - feeAmount;
        }
        _credits[terms.merchant][terms.token] += merchantAmount;
        if (feeAmount != 0) _credits[_currentFeeRecipient()][terms.token] += feeAmount;
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
        try _registry.recordCustody(sales) {
            emit SaleRecorded(orderId, firstEventId, count);
        } catch (bytes memory reason) {
            // A call starved of gas by the caller leaves under 1/64 behind: refuse rather than skip the record.
            if (gasleft() <= gasBefore / 63) revert EscrowInsufficientGas();
            // Rolls back the ids of a refused record. The callee is the immutable registry set at
            // construction, which calls nothing back, and every path here holds the nonReentrant lock.
            // slither-disable-next-line reentrancy-no-eth
            _saleEventCount = firstEventId;
            emit SaleNotRecorded(orderId, reason);
        }
    }

    function _withdraw(address token, address payable to) private {
        uint256 amount = _credits[msg.sender][token];
        if (amount == 0) revert EscrowNothingToWithdraw(msg.sender, token);
        _credits[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, to, amount);
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EscrowEthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ internals: checks and math

    /// @dev Why the caller may cancel: the merchant any time before the last release, anyone once Funded
    /// past `shipBy`, the buyer while Funded; anyone else reverts.
    function _cancelReason(bytes32 orderId, Order storage order, OrderTerms calldata terms)
        private
        view
        returns (RefundReason)
    {
        if (msg.sender == terms.merchant) {
            _requireOpen(orderId, order);
            return RefundReason.MerchantCancelled;
        }
        OrderStatus status = order.status;
        if (status == OrderStatus.Funded && block.timestamp > order.shipBy) return RefundReason.ShipByMissed;
        if (msg.sender != terms.buyer) revert EscrowNotParty(orderId, msg.sender);
        if (status != OrderStatus.Funded) revert EscrowInvalidStatus(orderId, status);
        return RefundReason.BuyerCancelled;
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
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 balance = token.balanceOf(address(this));
        if (balance < before + amount) {
            revert EscrowTokenDeliveredLess(address(token), amount, balance > before ? balance - before : 0);
        }
    }

    function _load(OrderTerms calldata terms) private view returns (bytes32 orderId, Order storage order) {
        orderId = _idOf(terms);
        order = _orders[orderId];
        if (order.status == OrderStatus.None) revert EscrowOrderNotFound(orderId);
    }

    /// @dev Not final: Funded, Shipped, Delivered or Disputed.
    function _requireOpen(bytes32 orderId, Order storage order) private view {
        if (uint8(order.status) >= uint8(OrderStatus.Released)) revert EscrowInvalidStatus(orderId, order.status);
    }

    /// @dev Funded, Shipped or Delivered.
    function _requireUndisputed(bytes32 orderId, Order storage order) private view {
        if (uint8(order.status) >= uint8(OrderStatus.Disputed)) revert EscrowInvalidStatus(orderId, order.status);
    }

    function _isMerchant(bytes32 orderId, OrderTerms calldata terms) private view returns (bool) {
        if (msg.sender == terms.merchant) return true;
        if (msg.sender != terms.buyer) revert EscrowNotParty(orderId, msg.sender);
        return false;
    }

    /// @dev When the dispute window closes and anyone may release: delivery (or `deliverBy` for a shipped
    /// order never reported fully delivered) plus the order's window.
    function _releasableAt(Order storage order, OrderTerms calldata terms) private view returns (uint256) {
        uint256 deliveredAt = order.deliveredAt;
        if (order.status != OrderStatus.Delivered && terms.deliverBy > deliveredAt) deliveredAt = terms.deliverBy;
        return deliveredAt + terms.disputeWindow;
    }

    /// @dev What is neither released nor refunded yet: the price less the equal shares already released.
    function _remainder(OrderTerms calldata terms, Order storage order) private view returns (uint256) {
        // By design: released items took floor(amount / itemCount) each; the remainder keeps the rounding.
        // slither-disable-next-line divide-before-multiply
        return terms.amount - (terms.amount / order.itemCount) * _popcount(order.releasedItems);
    }

    function _idOf(OrderTerms calldata terms) private pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    function _mask(uint8 itemCount) private pure returns (uint32) {
        return uint32((uint256(1) << itemCount) - 1);
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
}
