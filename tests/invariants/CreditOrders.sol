// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

import {CreditBase} from "./CreditBase.sol";

/// @notice Credit paying escrow orders: borrowers draw into orders of honest merchants, of a shop they
/// own themselves, of a suspended merchant, with another merchant's item or none (the last three
/// refused); the orders then live as carriers, buyers, merchants, the arbiter and passers-by move them.
/// Each move measures what the merchant was credited: a credit-paid order pays its merchant only for
/// items a carrier reported delivered, or by an arbiter's ruling.
abstract contract CreditOrders is CreditBase {
    using Strings for uint256;

    /// @dev What an order's merchant is owed and which items were open and released before a move.
    struct Step {
        uint256 merchantCredit;
        uint32 open;
        uint32 released;
    }

    /// @dev Pays an escrow order from the line, one time in four with a down payment from the wallet.
    function drawToOrder(uint256 borrowerSeed, uint256 amountSeed, uint256 shapeSeed) external observed {
        if (_orders.length >= MAX_ORDERS) return;
        address borrower = _drawingBorrower(borrowerSeed);
        // Hashed: the fuzzer's favourite words (0, small numbers, addresses) would pick the refused
        // shapes far more often than one time in eight.
        shapeSeed = uint256(keccak256(abi.encode(shapeSeed)));
        uint256 pick = shapeSeed % 8;
        address merchant = pick == 0 ? merchants[2] : pick == 1 ? merchants[3] : merchants[pick % 2];
        uint256 count = (shapeSeed >> 8) % 16 == 0 ? 0 : 1 + (shapeSeed >> 12) % 3;
        bytes32[] memory itemIds = new bytes32[](count);
        for (uint256 k; k < count; ++k) {
            itemIds[k] = _itemOf(merchant);
        }
        if (count != 0 && (shapeSeed >> 16) % 16 == 0) itemIds[0] = _itemOf(merchants[(pick + 1) % 2]);
        uint256 amount = _drawAmount(borrower, amountSeed, count == 0 ? 1 : count);
        uint40 shipBy = uint40(block.timestamp + _bound(shapeSeed >> 24, 1 hours, 5 days));
        IOrderEscrow.OrderTerms memory terms = IOrderEscrow.OrderTerms({
            buyer: borrower,
            merchant: merchant,
            payer: address(lines),
            token: address(stable),
            amount: amount,
            shipBy: shipBy,
            deliverBy: shipBy + 3 days,
            disputeWindow: 2 days,
            feeBps: escrow.feeBps(),
            orderRef: keccak256(abi.encode("sku", shapeSeed % 7)),
            salt: ++_salt,
            itemIds: itemIds
        });
        bool verified = _verified(borrower, merchant, itemIds);
        (uint256 idle, uint256 queued) = (_idle(), vault.queuedAssets());
        uint256 down = (shapeSeed >> 32) % 4 == 0 && amount > count ? (amount - count) / 4 : 0;
        if (down != 0) {
            stable.mint(borrower, down);
            vm.prank(borrower);
            stable.approve(address(lines), down);
            vm.prank(borrower);
            lines.drawToOrderWithDownPayment(terms, down);
        } else {
            vm.prank(borrower);
            lines.drawToOrder(terms);
        }
        if (!verified) ++creditToUnverified;
        _orders.push(terms);
        ghostPrincipalOut += amount - down;
        _checkDraw(borrower, amount - down);
        _checkLiquidity(idle, queued, amount - down);
    }

    /// @dev The merchant hands the order to the carrier: names it, or ships with it.
    function shipOrder(uint256 orderSeed, bool assignOnly) external observed {
        uint256 i = _pickOrder(orderSeed, FUNDED);
        if (i == type(uint256).max) return;
        vm.prank(_orders[i].merchant);
        if (assignOnly) escrow.assignCarrier(_orders[i], CARRIER);
        else escrow.ship(_orders[i], CARRIER, keccak256("tracking"));
    }

    /// @dev The carrier's report through the logistics oracle: pickup, delivery of some or all items,
    /// or a broken condition; one in eight comes from another carrier and is skipped.
    function reportCarrier(uint256 orderSeed, uint8 kindSeed, uint32 items) external observed {
        uint256 i = _pickOrder(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        IOrderEscrow.OrderStatus status = _state(i).status;
        IOrderEscrow.LogisticsKind kind = kindSeed % 8 == 0
            ? IOrderEscrow.LogisticsKind.ConditionBreached
            : status == IOrderEscrow.OrderStatus.Funded && kindSeed % 3 != 0
                ? IOrderEscrow.LogisticsKind.Shipped
                : IOrderEscrow.LogisticsKind.Delivered;
        IOrderEscrow.LogisticsUpdate[] memory updates = new IOrderEscrow.LogisticsUpdate[](1);
        updates[0] = IOrderEscrow.LogisticsUpdate({
            orderId: _idOf(i),
            kind: kind,
            carrier: kindSeed % 8 == 1 ? CARRIER + 1 : CARRIER,
            items: items % 2 == 0 ? 0 : items & _mask(i),
            evidenceHash: keccak256("proof of delivery")
        });
        vm.prank(oracle);
        escrow.reportLogistics(updates);
    }

    /// @dev The borrower confirms receipt at once (all, or some items): the merchant may be paid only
    /// for what a carrier reported delivered.
    function buyerConfirms(uint256 orderSeed, uint32 items, bool all) external observed {
        uint256 i = _pickOrder(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        Step memory before = _step(i);
        vm.prank(_orders[i].buyer);
        if (all) escrow.confirmReceipt(_orders[i]);
        else escrow.releaseItems(_orders[i], items & before.open);
        _paid(i, before, false);
    }

    /// @dev Anyone releases once the window after delivery ran out (half the time after waiting).
    function releaseOrder(uint256 orderSeed, uint256 callerSeed) external observed {
        uint256 i = _pickOrder(orderSeed, SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        if (callerSeed % 2 == 0) _warpTo(uint256(_orders[i].deliverBy) + _orders[i].disputeWindow + 1);
        Step memory before = _step(i);
        vm.prank(_actor(callerSeed % 4));
        escrow.release(_orders[i]);
        _paid(i, before, false);
    }

    /// @dev One side offers a split for a day, the other accepts it at once.
    function settleOrder(uint256 orderSeed, uint16 buyerBps, bool byMerchant) external observed {
        uint256 i = _pickOrder(orderSeed, OPEN);
        if (i == type(uint256).max) return;
        IOrderEscrow.OrderTerms storage terms = _orders[i];
        uint16 bps = uint16(_bound(buyerBps, 0, 10_000));
        vm.prank(byMerchant ? terms.merchant : terms.buyer);
        escrow.offerSettlement(terms, bps, uint40(block.timestamp + 1 days));
        Step memory before = _step(i);
        vm.prank(byMerchant ? terms.buyer : terms.merchant);
        escrow.acceptSettlement(terms, bps);
        _paid(i, before, false);
    }

    /// @dev The borrower disputes; the arbiter rules, or the merchant answers (or not) and the
    /// arbitration deadline passes for anyone to apply the default, or the dispute stays open.
    function disputeOrder(uint256 orderSeed, uint16 buyerBps, uint8 how) external observed {
        uint256 i = _pickOrder(orderSeed, SHIPPED | DELIVERED | DISPUTED);
        if (i == type(uint256).max) return;
        IOrderEscrow.OrderTerms storage terms = _orders[i];
        if (_state(i).status != IOrderEscrow.OrderStatus.Disputed) {
            vm.prank(terms.buyer);
            escrow.dispute(terms, keccak256("not delivered"));
        }
        if (how % 3 == 2) return;
        Step memory before = _step(i);
        if (how % 3 == 0) {
            vm.prank(arbiter);
            escrow.resolveDispute(terms, uint16(_bound(buyerBps, 0, 10_000)), keccak256("ruling"));
        } else {
            if ((how >> 2) % 2 == 0) {
                vm.prank(terms.merchant);
                escrow.submitEvidence(terms, keccak256("answer"));
            }
            _warpTo(_state(i).disputeDeadline);
            vm.prank(_actor(how % 4));
            escrow.resolveExpiredDispute(terms);
        }
        _paid(i, before, how % 3 == 0);
    }

    /// @dev The merchant cancels, the borrower cancels, or a passer-by refunds an order whose deadlines
    /// passed (half the time after waiting for them).
    function cancelOrder(uint256 orderSeed, uint8 who) external observed {
        uint256 i = _pickOrder(orderSeed, who % 3 == 0 ? OPEN : FUNDED | SHIPPED);
        if (i == type(uint256).max) return;
        IOrderEscrow.OrderTerms storage terms = _orders[i];
        if (who % 3 == 2 && (who >> 2) % 2 == 0) _warpTo(uint256(terms.deliverBy) + terms.disputeWindow + 1);
        address caller = who % 3 == 0 ? terms.merchant : who % 3 == 1 ? terms.buyer : _actor(who % 4);
        Step memory before = _step(i);
        vm.prank(caller);
        escrow.cancel(terms);
        _paid(i, before, false);
    }

    /// @dev The merchant recalls one of the order's items; anyone claims its share back for the line.
    function recallOrderItem(uint256 orderSeed, uint256 itemSeed) external observed {
        uint256 i = _pickOrder(orderSeed, OPEN);
        if (i == type(uint256).max || _orders[i].itemIds.length == 0) return;
        IOrderEscrow.OrderTerms storage terms = _orders[i];
        uint256 index = itemSeed % terms.itemIds.length;
        if (registry.verify(terms.itemIds[index]) == IProductRegistry.Verdict.Authentic) {
            vm.prank(terms.merchant);
            registry.recallItem(terms.itemIds[index], keccak256("recall"));
        }
        vm.prank(_actor(itemSeed % 4));
        escrow.refundRecalled(terms, uint32(1) << index);
    }

    /// @dev Anyone applies what an order refunded (so far) to its borrower's line.
    function settleRefund(uint256 orderSeed, uint256 callerSeed) external observed {
        if (_orders.length == 0) return;
        uint256 i = orderSeed % _orders.length;
        for (uint256 k; k < _orders.length && orderSeed % 8 != 0; ++k) {
            uint256 j = (orderSeed + k) % _orders.length;
            if (lines.refundOf(_orders[j]) != 0) {
                i = j;
                break;
            }
        }
        IOrderEscrow.OrderTerms storage terms = _orders[i];
        (uint256 principal, bool writtenOff) = _principal(terms.buyer);
        vm.prank(_actor(callerSeed % 4));
        lines.settleRefund(terms);
        _repaid(terms.buyer, principal, writtenOff);
        ++refundsSettled;
    }

    // ------------------------------------------------------------------ internals

    uint256 internal constant FUNDED = 1 << 1;
    uint256 internal constant SHIPPED = 1 << 2;
    uint256 internal constant DELIVERED = 1 << 3;
    uint256 internal constant DISPUTED = 1 << 4;
    uint256 internal constant OPEN = FUNDED | SHIPPED | DELIVERED | DISPUTED;

    /// @dev Whether credit may pay this order: an active merchant, not owned by the borrower (its
    /// identity bound to the borrower's line), and items, all the merchant's own.
    function _verified(address borrower, address merchant, bytes32[] memory itemIds) private view returns (bool) {
        (IProductRegistry.MerchantStatus status, bytes32 identity) = registry.merchantStanding(merchant);
        if (status != IProductRegistry.MerchantStatus.Active || ghostIdentityOwner[identity] == borrower) return false;
        if (itemIds.length == 0) return false;
        for (uint256 k; k < itemIds.length; ++k) {
            if (registry.itemOf(itemIds[k]).merchant != merchant) return false;
        }
        return true;
    }

    /// @dev A fresh item of an active merchant; for another, an id of its that was never registered.
    function _itemOf(address merchant) private returns (bytes32) {
        IProductRegistry.ItemKey memory key =
            IProductRegistry.ItemKey(IProductRegistry.IdScheme.Sku, "ITEM", (++_serial).toString());
        if (registry.merchantOf(merchant).status != IProductRegistry.MerchantStatus.Active) {
            return keccak256(abi.encode(merchant, key.code, key.serial));
        }
        vm.prank(merchant);
        return registry.registerItem(key, keccak256(abi.encode("meta", _serial)), "ipfs://item");
    }

    function _step(uint256 i) private view returns (Step memory) {
        IOrderEscrow.Order memory order = _state(i);
        return Step({
            merchantCredit: escrow.creditOf(_orders[i].merchant, address(stable)),
            open: _mask(i) & ~(order.releasedItems | order.refundedItems),
            released: order.releasedItems
        });
    }

    /// @dev After a move on order `i`: if its merchant was credited, other than by an arbiter's ruling,
    /// every item paid for (released now, or the open items of a settlement) was reported delivered.
    function _paid(uint256 i, Step memory before, bool ruling) private {
        uint256 credited = escrow.creditOf(_orders[i].merchant, address(stable)) - before.merchantCredit;
        if (credited == 0 || ruling) return;
        ++merchantPayments;
        IOrderEscrow.Order memory order = _state(i);
        uint32 items = order.status == IOrderEscrow.OrderStatus.Settled
            ? before.open
            : order.releasedItems & ~before.released;
        if (items == 0 || items & ~order.deliveredItems != 0) ++paidWithoutDelivery;
    }

    /// @dev Mostly an order whose status fits; one call in eight takes any order.
    function _pickOrder(uint256 seed, uint256 statuses) private view returns (uint256) {
        uint256 n = _orders.length;
        if (n == 0) return type(uint256).max;
        if (seed % 8 == 0) return seed % n;
        for (uint256 k; k < n; ++k) {
            uint256 i = (seed + k) % n;
            if (statuses & (1 << uint8(_state(i).status)) != 0) return i;
        }
        return seed % n;
    }

    function _state(uint256 i) internal view returns (IOrderEscrow.Order memory) {
        return escrow.orderOf(_idOf(i));
    }

    function _idOf(uint256 i) private view returns (bytes32) {
        return keccak256(abi.encode(_orders[i]));
    }

    function _mask(uint256 i) private view returns (uint32) {
        return uint32((uint256(1) << _orders[i].itemIds.length) - 1);
    }
}
