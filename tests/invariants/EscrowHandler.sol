// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";
import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {EscrowBooks} from "./EscrowBooks.sol";

/// @notice Drives the order escrow as buyers, merchants, carriers (through the logistics oracle), the
/// arbiter, the registry's verifier, the admin and passers-by would, in ETH and an allow-listed
/// stablecoin, with time jumping ahead. Orders list the merchant's own registry items; one in eight
/// tries a decoy (another merchant's item, one held or sold, one listed twice, one recalled).
/// Every action on an order measures what it credited (to the merchant, the payer, the fee
/// recipient) so the ghost books hold what each order paid out, apart from the escrow's own.
contract EscrowHandler is EscrowBooks {
    constructor(
        OrderEscrow escrow_,
        ProductRegistry registry_,
        MockStable6 stable_,
        address[5] memory roles, // admin, arbiter, logistics oracle, fee recipient, verifier
        address[4] memory buyers_,
        address[3] memory merchants_,
        TrustMallForwarder forwarder_,
        uint256[4] memory buyerKeys_
    ) EscrowBooks(escrow_, registry_, stable_, roles, buyers_, merchants_, forwarder_, buyerKeys_) {}

    // ------------------------------------------------------------------ opening

    function open(uint256 buyerSeed, uint256 merchantSeed, uint256 amountSeed, uint256 shapeSeed) external {
        if (_terms.length >= MAX_ORDERS) return;
        address buyer = buyers[buyerSeed % 4];
        address merchant = merchants[merchantSeed % 3];
        address token = shapeSeed % 2 == 0 ? address(0) : address(stable);
        // 0 (an off-registry SKU order) to 3 of the merchant's free items.
        uint256 count = (shapeSeed >> 8) % 4;
        bytes32[] memory itemIds = new bytes32[](count);
        for (uint256 k; k < count; ++k) {
            itemIds[k] = _freeItem(merchant, shapeSeed >> 24, itemIds);
        }
        if (count != 0 && (shapeSeed >> 16) % 8 == 0) {
            itemIds[count - 1] = _decoy(merchantSeed % 3, itemIds, shapeSeed >> 20);
        }
        (bool foreign, bool held) = _screen(merchant, itemIds);
        uint256 amount = _bound(amountSeed, count == 0 ? 1 : count, token == address(0) ? 100 ether : 1e12);
        uint40 shipBy = uint40(block.timestamp + _bound(shapeSeed >> 32, 1 hours, 7 days));
        IOrderEscrow.OrderTerms memory terms = IOrderEscrow.OrderTerms({
            buyer: buyer,
            merchant: merchant,
            payer: buyer,
            token: token,
            amount: amount,
            shipBy: shipBy,
            deliverBy: shipBy + uint40(_bound(shapeSeed >> 64, 0, 10 days)),
            disputeWindow: uint32(_bound(shapeSeed >> 96, 1 days, 30 days)),
            feeBps: escrow.feeBps(),
            orderRef: keccak256(abi.encode("sku", shapeSeed % 5)),
            salt: ++_salt,
            itemIds: itemIds
        });
        if (token == address(0)) {
            vm.deal(buyer, amount);
            vm.prank(buyer);
            escrow.open{value: amount}(terms);
        } else {
            stable.mint(buyer, amount);
            vm.prank(buyer);
            stable.approve(address(escrow), amount);
            vm.prank(buyer);
            escrow.open(terms);
        }
        if (foreign) ++foreignItems;
        if (held) ++doubleHolds;
        _terms.push(terms);
        _orders.push(Tracked({id: escrow.orderIdOf(terms), paid: 0, recallRefunded: 0, recallItems: 0, final_: false}));
        ghostDeposited[token] += amount;
    }

    // ------------------------------------------------------------------ shipping and delivery

    /// @dev The merchant names a carrier (one call in sixteen names none, which is refused).
    function assignCarrier(uint256 orderSeed, uint256 carrierSeed) external {
        uint256 i = _pick(orderSeed, FUNDED);
        if (i == type(uint256).max) return;
        vm.prank(_terms[i].merchant);
        escrow.assignCarrier(_terms[i], _carrier(carrierSeed));
    }

    function ship(uint256 orderSeed, uint256 carrierSeed) external {
        uint256 i = _pick(orderSeed, FUNDED);
        if (i == type(uint256).max) return;
        uint16 assigned = _order(i).carrier;
        uint16 carrier = assigned != 0 && carrierSeed % 4 != 0 ? assigned : _carrier(carrierSeed);
        vm.prank(_terms[i].merchant);
        escrow.ship(_terms[i], carrier, keccak256("tracking"));
    }

    /// @dev The logistics oracle relays a carrier's report: pickup, delivery (some or all items), or a
    /// broken condition. One in six names another carrier than the order's: skipped, never applied.
    function reportLogistics(uint256 orderSeed, uint8 kind, uint32 items, uint256 carrierSeed) external {
        uint256 i = _pick(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        uint16 assigned = _order(i).carrier;
        uint16 carrier = carrierSeed % 6 == 0 ? (assigned % CARRIERS) + 1 : assigned;
        IOrderEscrow.LogisticsUpdate[] memory updates = new IOrderEscrow.LogisticsUpdate[](1);
        updates[0] = IOrderEscrow.LogisticsUpdate({
            orderId: _orders[i].id,
            kind: _logisticsKind(i, kind),
            carrier: carrier,
            items: items % 2 == 0 ? 0 : items & _mask(i),
            evidenceHash: keccak256("evidence")
        });
        vm.prank(oracle);
        escrow.reportLogistics(updates);
    }

    // ------------------------------------------------------------------ release and refunds

    /// @dev The buyer confirms itself, or half the time by a signed request a stranger relays through
    /// the forwarder, which must run exactly when the buyer's own call would.
    function confirmReceipt(uint256 orderSeed, bool forwarded) external {
        uint256 i = _pick(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        uint256[4] memory before = _before(i);
        if (forwarded) {
            if (!_confirmedByForwardedRequest(i)) return;
        } else {
            vm.prank(_terms[i].buyer);
            escrow.confirmReceipt(_terms[i]);
        }
        _after(i, before);
    }

    /// @dev Whether the buyer's signed `confirmReceipt` ran; a breach when it did other than the
    /// buyer's own call would (ran when that would not, or not when that would).
    function _confirmedByForwardedRequest(uint256 i) private returns (bool ran) {
        IOrderEscrow.OrderTerms memory terms = _terms[i];
        bytes memory data = abi.encodeCall(IOrderEscrow.confirmReceipt, (terms));
        uint256 key;
        for (uint256 b; b < 4; ++b) {
            if (buyers[b] == terms.buyer) key = _buyerKeys[b];
        }
        bool direct = _directCallSucceeds(terms.buyer, address(escrow), data);
        ERC2771Forwarder.ForwardRequestData memory request =
            _signedRequest(forwarder, terms.buyer, address(escrow), data, key);
        vm.prank(STRANGER);
        try forwarder.execute(request) {
            ran = true;
        } catch {}
        if (ran != direct) ++forwardedNotAsSigner;
    }

    function release(uint256 orderSeed, uint256 callerSeed) external {
        uint256 i = _pick(orderSeed, SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        // Half the time the caller waits out the dispute window first.
        if (callerSeed % 2 == 0) vm.warp(block.timestamp + _terms[i].disputeWindow + 10 days);
        uint256[4] memory before = _before(i);
        vm.prank(_anyone(callerSeed, i));
        escrow.release(_terms[i]);
        _after(i, before);
    }

    /// @dev Anyone releases two orders with `releaseDue`, listed with an order someone already decided
    /// or contested and with the first again: those two are skipped, the contested one comes out
    /// unchanged, and each released order is booked from what left its remainder (the batch sums the
    /// credits of orders sharing merchant and token, so the escrow's books must still match). Half the
    /// time the caller waits out the windows first (an order not yet due reverts the whole batch).
    function releaseDue(uint256 orderSeed, uint256 otherSeed, uint256 callerSeed) external {
        uint256 i = _pick(orderSeed, SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        if (callerSeed % 2 == 0) vm.warp(block.timestamp + _terms[i].disputeWindow + 10 days);
        // The second order is another one due now (so that most batches release two, often of two
        // merchants or tokens), else the first again.
        uint256 k = _dueOther(otherSeed >> 8, i);
        uint256 j = _decided(otherSeed, i);
        IOrderEscrow.OrderTerms[] memory batch = new IOrderEscrow.OrderTerms[](4);
        (batch[0], batch[1], batch[2], batch[3]) = otherSeed % 2 == 0
            ? (_terms[j], _terms[i], _terms[k], _terms[i])
            : (_terms[i], _terms[k], _terms[i], _terms[j]);
        bytes32 skipped = keccak256(abi.encode(_order(j)));
        uint256[2] memory escrowed = [escrow.escrowedOf(_terms[i]), escrow.escrowedOf(_terms[k])];
        uint32[2] memory open = [_openOrNone(i), _openOrNone(k)];
        vm.prank(_anyone(callerSeed, i));
        escrow.releaseDue(batch);
        _afterBatch(i, escrowed[0], open[0]);
        if (k != i) _afterBatch(k, escrowed[1], open[1]);
        if (j != i && j != k && keccak256(abi.encode(_order(j))) != skipped) ++skipsChanged;
    }

    function releaseItems(uint256 orderSeed, uint32 items, bool byBuyer) external {
        uint256 i = _pick(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        uint32 chosen = items & _openItems(i);
        uint256[4] memory before = _before(i);
        vm.prank(byBuyer ? _terms[i].buyer : _anyone(items, i));
        escrow.releaseItems(_terms[i], chosen);
        _after(i, before);
    }

    /// @dev The merchant, the buyer or a stranger cancels; one call in three first lets the order's
    /// deadlines pass (the paths anyone may take).
    function cancel(uint256 orderSeed, uint8 who) external {
        uint256 i = _pick(orderSeed, who % 3 == 0 ? OPEN : FUNDED | SHIPPED);
        if (i == type(uint256).max) return;
        if ((who >> 2) % 3 == 0) _warpTo(uint256(_terms[i].deliverBy) + _terms[i].disputeWindow + 1);
        address caller = who % 3 == 0 ? _terms[i].merchant : who % 3 == 1 ? _terms[i].buyer : STRANGER;
        uint256[4] memory before = _before(i);
        vm.prank(caller);
        escrow.cancel(_terms[i]);
        _after(i, before);
    }

    /// @dev The order's merchant calls `confirmReceipt` itself, its buyer's address appended as the
    /// forwarder appends a signer's: the escrow must read the merchant, who may not confirm, and refuse.
    function spoofBuyer(uint256 orderSeed) external {
        uint256 i = _pick(orderSeed, SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        IOrderEscrow.OrderTerms memory terms = _terms[i];
        bytes memory call = abi.encodePacked(abi.encodeCall(IOrderEscrow.confirmReceipt, (terms)), terms.buyer);
        vm.prank(terms.merchant);
        (bool ok,) = address(escrow).call(call);
        if (ok) ++spoofedSenders;
    }

    /// @dev One of an order's items goes bad (its merchant recalls it, or a verifier confirms a report
    /// against it), then anyone asks for the recall refund, one time in four naming a second item that
    /// may be fine or already settled. The payer may get the open shares of recalled items, no more.
    function recallAndRefund(uint256 orderSeed, uint256 itemSeed, uint256 how) external {
        uint256 i = _pick(orderSeed, OPEN);
        if (i == type(uint256).max || _terms[i].itemIds.length == 0) return;
        bytes32[] storage ids = _terms[i].itemIds;
        uint256 index = _openIndex(i, itemSeed);
        bytes32 itemId = ids[index];
        if (how % 3 != 2 && registry.verify(itemId) == IProductRegistry.Verdict.Authentic) {
            if (how % 3 == 0) {
                vm.prank(_terms[i].merchant);
                registry.recallItem(itemId, keccak256("recall"));
            } else {
                vm.prank(STRANGER);
                uint256 reportId =
                    registry.fileReport(itemId, IProductRegistry.ReportKind.Counterfeit, keccak256("evidence"));
                vm.prank(verifier);
                registry.confirmReport(reportId, keccak256("finding"));
            }
        }
        uint32 items = uint32(1) << index;
        if ((how >> 2) % 4 == 0) items |= uint32(1) << ((how >> 4) % ids.length);
        uint256 allowed = shareOf(i, items & _openItems(i) & _badItems(i));
        uint256[4] memory before = _before(i);
        vm.prank(_anyone(how >> 8, i));
        escrow.refundRecalled(_terms[i], items);
        uint256 refund = _after(i, before);
        if (refund > allowed) ++overRefunds;
        _orders[i].recallRefunded += refund;
        _orders[i].recallItems |= items;
        ++recallRefunds;
    }

    // ------------------------------------------------------------------ settlements and disputes

    /// @dev A split offered for one hour to three days (one in sixteen expiring now: refused).
    function offerSettlement(uint256 orderSeed, uint16 buyerBps, bool byMerchant, uint32 ttl) external {
        uint256 i = _pick(orderSeed, OPEN);
        if (i == type(uint256).max) return;
        uint40 expiresAt = uint40(block.timestamp + (ttl % 16 == 0 ? 0 : _bound(ttl, 1 hours, 3 days)));
        vm.prank(byMerchant ? _terms[i].merchant : _terms[i].buyer);
        escrow.offerSettlement(_terms[i], uint16(_bound(buyerBps, 0, 10_000)), expiresAt);
    }

    /// @dev The maker withdraws its offer (one in four: the other side tries to, and is refused).
    function withdrawOffer(uint256 orderSeed, uint8 who) external {
        uint256 i = _pickOffer(orderSeed);
        if (i == type(uint256).max) return;
        bool byMerchant = escrow.offerOf(_orders[i].id).byMerchant != (who % 4 == 0);
        vm.prank(byMerchant ? _terms[i].merchant : _terms[i].buyer);
        escrow.withdrawOffer(_terms[i]);
    }

    /// @dev The other side accepts the pending offer (mostly at its real split, one in six too late).
    function acceptSettlement(uint256 orderSeed, uint16 otherBps) external {
        uint256 i = _pickOffer(orderSeed);
        if (i == type(uint256).max) return;
        IOrderEscrow.Offer memory offer = escrow.offerOf(_orders[i].id);
        uint16 bps = otherBps % 8 == 0 ? uint16(_bound(otherBps, 0, 10_000)) : offer.buyerBps;
        if (otherBps % 6 == 1 && offer.expiresAt > block.timestamp) vm.warp(offer.expiresAt);
        uint256[4] memory before = _before(i);
        vm.prank(offer.byMerchant ? _terms[i].buyer : _terms[i].merchant);
        escrow.acceptSettlement(_terms[i], bps);
        _after(i, before);
    }

    function dispute(uint256 orderSeed) external {
        uint256 i = _pick(orderSeed, SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        vm.prank(_terms[i].buyer);
        escrow.dispute(_terms[i], keccak256("not as described"));
    }

    function submitEvidence(uint256 orderSeed, bool byMerchant) external {
        uint256 i = _pick(orderSeed, DISPUTED);
        if (i == type(uint256).max) return;
        vm.prank(byMerchant ? _terms[i].merchant : _terms[i].buyer);
        escrow.submitEvidence(_terms[i], keccak256("evidence"));
    }

    function resolveDispute(uint256 orderSeed, uint16 buyerBps) external {
        uint256 i = _pick(orderSeed, DISPUTED);
        if (i == type(uint256).max) return;
        uint256[4] memory before = _before(i);
        vm.prank(arbiter);
        escrow.resolveDispute(_terms[i], uint16(_bound(buyerBps, 0, 10_000)), keccak256("ruling"));
        _after(i, before);
    }

    function resolveExpiredDispute(uint256 orderSeed, uint256 callerSeed) external {
        uint256 i = _pick(orderSeed, DISPUTED);
        if (i == type(uint256).max) return;
        // Half the time the caller waits out the arbitration period first.
        uint256 deadline = _order(i).disputeDeadline;
        if (callerSeed % 2 == 0 && deadline > block.timestamp) vm.warp(deadline);
        uint256[4] memory before = _before(i);
        vm.prank(_anyone(callerSeed, i));
        escrow.resolveExpiredDispute(_terms[i]);
        _after(i, before);
    }

    // ------------------------------------------------------------------ money out, admin, time

    function withdraw(uint256 accountSeed, bool eth) external {
        address token = eth ? address(0) : address(stable);
        address account = _party(accountSeed);
        // Mostly someone the escrow owes; one call in eight may find nothing owed.
        for (uint256 k; k < 8 && accountSeed % 8 != 0 && escrow.creditOf(account, token) == 0; ++k) {
            account = _party(accountSeed + k);
        }
        uint256 owed = escrow.creditOf(account, token);
        vm.prank(account);
        escrow.withdraw(token);
        ghostWithdrawn[token] += owed;
    }

    /// @dev New orders must quote the new fee; open orders keep the fee they were opened at.
    function setFee(uint8 choice) external {
        uint16[4] memory fees = [uint16(0), 100, 250, 1_000];
        vm.prank(admin);
        escrow.setFee(fees[choice % 4]);
    }

    /// @dev The registry's verifier suspends a merchant (its items stop reading Authentic, so no new
    /// order may hold them) or reinstates it; orders already open go on.
    function toggleMerchant(uint256 merchantSeed) external {
        address merchant = merchants[merchantSeed % 3];
        bool active = registry.merchantOf(merchant).status == IProductRegistry.MerchantStatus.Active;
        vm.prank(verifier);
        if (active) {
            registry.suspendMerchant(merchant, keccak256("suspended"));
        } else {
            registry.reinstateMerchant(merchant);
        }
    }

    /// @dev The registry's verifier moves an item (often one an open order holds) to another merchant,
    /// or revokes it, and its owner registers it afresh: an order holding it keeps holding it, so no
    /// second order may hold it until the first lets go.
    function reassignItem(uint256 itemSeed, uint256 toSeed) external {
        address owner = merchants[itemSeed % 3];
        bytes32[] storage items = _catalogue[owner];
        if (items.length == 0) return;
        bytes32 itemId = items[(itemSeed >> 8) % items.length];
        for (uint256 k; k < items.length && itemSeed % 4 != 0; ++k) {
            bytes32 candidate = items[((itemSeed >> 8) + k) % items.length];
            if (_heldByOpenOrder(candidate, type(uint256).max)) {
                itemId = candidate;
                break;
            }
        }
        address to = toSeed % 3 == 0 ? address(0) : merchants[(itemSeed + 1 + toSeed % 2) % 3];
        vm.prank(verifier);
        registry.reassignItem(itemId, to, keccak256("finding"));
        ghostReassigned[itemId] = true;
        if (to != address(0)) {
            _catalogue[to].push(itemId);
        } else if (registry.merchantOf(owner).status == IProductRegistry.MerchantStatus.Active) {
            // A SKU id derives from its merchant: only the same merchant can register it again.
            IProductRegistry.ItemKey memory key =
                IProductRegistry.ItemKey(IProductRegistry.IdScheme.Sku, "ITEM", Strings.toString(_serialOf[itemId]));
            vm.prank(owner);
            registry.registerItem(key, keccak256(abi.encode("meta", _serialOf[itemId])), "ipfs://item");
        }
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 0, 4 days));
    }

    // ------------------------------------------------------------------ internals

    /// @dev What the carrier would report next (shipped, then delivered), a broken condition one
    /// time in six, and any kind at all one time in eight.
    /// @dev An order other than `i` that `release` would pay now, or `i` when there is none.
    function _dueOther(uint256 seed, uint256 i) private view returns (uint256) {
        uint256 n = _terms.length;
        for (uint256 k; k < n; ++k) {
            uint256 j = (seed + k) % n;
            if (j != i && _due(j)) return j;
        }
        return i;
    }

    /// @dev Whether `release` would pay order `i` now: shipped or delivered, its window run out.
    function _due(uint256 i) private view returns (bool) {
        IOrderEscrow.Order memory order = _order(i);
        bool delivered = order.status == IOrderEscrow.OrderStatus.Delivered;
        if (!delivered && order.status != IOrderEscrow.OrderStatus.Shipped) return false;
        uint256 since = order.deliveredAt;
        if (!delivered && _terms[i].deliverBy > since) since = _terms[i].deliverBy;
        return block.timestamp >= since + _terms[i].disputeWindow;
    }

    function _openOrNone(uint256 i) private view returns (uint32) {
        return _order(i).status == IOrderEscrow.OrderStatus.None ? 0 : _openItems(i);
    }

    /// @dev An order other than `i` that someone decided or contested (Disputed, Released, Refunded,
    /// Settled), or `i` itself when there is none.
    function _decided(uint256 seed, uint256 i) private view returns (uint256) {
        uint256 n = _terms.length;
        for (uint256 k; k < n; ++k) {
            uint256 j = (seed + k) % n;
            if (j != i && uint8(_order(j).status) >= uint8(IOrderEscrow.OrderStatus.Disputed)) return j;
        }
        return i;
    }

    function _logisticsKind(uint256 i, uint8 seed) private view returns (IOrderEscrow.LogisticsKind) {
        if (seed % 8 == 0) return IOrderEscrow.LogisticsKind(seed % 3);
        if (seed % 6 == 1) return IOrderEscrow.LogisticsKind.ConditionBreached;
        return _order(i).status == IOrderEscrow.OrderStatus.Funded
            ? IOrderEscrow.LogisticsKind.Shipped
            : IOrderEscrow.LogisticsKind.Delivered;
    }

    function _carrier(uint256 seed) private pure returns (uint16) {
        return seed % 16 == 0 ? 0 : uint16(1 + seed % CARRIERS);
    }

    /// @dev Mostly an open order with a pending offer.
    function _pickOffer(uint256 seed) private view returns (uint256) {
        uint256 n = _terms.length;
        for (uint256 k; k < n && seed % 8 != 0; ++k) {
            uint256 i = (seed + k) % n;
            if (!_orders[i].final_ && escrow.offerOf(_orders[i].id).exists) return i;
        }
        return _pick(seed, OPEN);
    }

    /// @dev Mostly an open item of order `i`.
    function _openIndex(uint256 i, uint256 seed) private view returns (uint256) {
        uint256 n = _terms[i].itemIds.length;
        uint32 open = _openItems(i);
        for (uint256 k; k < n && seed % 8 != 0; ++k) {
            uint256 index = (seed + k) % n;
            if (open & (uint32(1) << index) != 0) return index;
        }
        return seed % n;
    }
}
