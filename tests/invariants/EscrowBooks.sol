// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";

import {ForwardSigning} from "./ForwardSigning.sol";

/// @notice The escrow handler's ghost books and helpers: orders as opened, what each call credited,
/// the merchants' catalogues of registry items, and the share arithmetic written out independently.
abstract contract EscrowBooks is ForwardSigning {
    using Strings for uint256;

    uint256 internal constant MAX_ORDERS = 24;
    uint256 internal constant MAX_CATALOGUE = 20;
    uint16 internal constant CARRIERS = 3;

    OrderEscrow public immutable escrow;
    ProductRegistry public immutable registry;
    MockStable6 public immutable stable;
    address public immutable admin;
    address public immutable arbiter;
    address public immutable oracle;
    address public immutable feeRecipient;
    address public immutable verifier;
    address[4] public buyers;
    address[3] public merchants;
    address public constant STRANGER = address(0xBEEF);
    TrustMallForwarder public immutable forwarder;
    uint256[4] internal _buyerKeys; // the buyers sign forwarded requests

    struct Tracked {
        bytes32 id;
        uint256 paid; // credited to merchant + payer + fee recipient for this order, all told
        uint256 recallRefunded; // credited to the payer by recall refunds
        uint32 recallItems; // items refunded by recall refunds
        bool final_;
    }

    IOrderEscrow.OrderTerms[] internal _terms;
    Tracked[] internal _orders;
    mapping(address merchant => bytes32[]) internal _catalogue;
    uint256 internal _serial;
    uint256 internal _salt;

    /// @dev Per token (address(0) for ETH): what buyers paid in, and where it went.
    mapping(address token => uint256) public ghostDeposited;
    mapping(address token => uint256) public ghostToMerchants;
    mapping(address token => uint256) public ghostFees;
    mapping(address token => uint256) public ghostRefunds;
    mapping(address token => uint256) public ghostWithdrawn;
    /// @dev Items released to a merchant after a hand-over to a carrier: sold, never to be held again.
    mapping(bytes32 itemId => bool) public ghostSold;
    /// @dev Items a verifier moved to another merchant or revoked: an order opened before keeps them.
    mapping(bytes32 itemId => bool) public ghostReassigned;
    mapping(bytes32 itemId => uint256) internal _serialOf;

    // Breaches, counted at the call that makes them.
    uint256 public paidAfterFinal;
    uint256 public spoofedSenders; // a direct call with another party's address appended acted as that party
    uint256 public forwardedNotAsSigner; // a buyer's signed request did other than the buyer's own call would
    uint256 public foreignItems; // an order opened with an item not its merchant's, or not Authentic
    uint256 public doubleHolds; // an order opened with an item another open order holds, or sold
    uint256 public overRefunds; // a recall refund paid beyond the open shares of recalled items
    uint256 public skipsChanged; // a release batch changed an order it must skip (decided or contested)

    // Coverage.
    uint256 public finalisations;
    uint256 public recallRefunds;

    /// @param roles admin, arbiter, logistics oracle, fee recipient, verifier.
    constructor(
        OrderEscrow escrow_,
        ProductRegistry registry_,
        MockStable6 stable_,
        address[5] memory roles,
        address[4] memory buyers_,
        address[3] memory merchants_,
        TrustMallForwarder forwarder_,
        uint256[4] memory buyerKeys_
    ) {
        escrow = escrow_;
        registry = registry_;
        stable = stable_;
        (admin, arbiter, oracle, feeRecipient, verifier) = (roles[0], roles[1], roles[2], roles[3], roles[4]);
        buyers = buyers_;
        merchants = merchants_;
        forwarder = forwarder_;
        _buyerKeys = buyerKeys_;
    }

    // ------------------------------------------------------------------ what the invariants read

    function orderCount() external view returns (uint256) {
        return _terms.length;
    }

    function termsAt(uint256 i) external view returns (IOrderEscrow.OrderTerms memory) {
        return _terms[i];
    }

    function trackedAt(uint256 i) external view returns (Tracked memory) {
        return _orders[i];
    }

    /// @notice Everyone the escrow may owe: buyers (the payers), merchants, the fee recipient.
    function partyCount() public pure returns (uint256) {
        return 8;
    }

    function partyAt(uint256 i) external view returns (address) {
        return _party(i);
    }

    function catalogue(address merchant) external view returns (bytes32[] memory) {
        return _catalogue[merchant];
    }

    /// @notice The price share of `items` of order `i`: amount / count each, the last one the rest.
    function shareOf(uint256 i, uint32 items) public view returns (uint256 total) {
        IOrderEscrow.OrderTerms storage terms = _terms[i];
        uint256 count = _count(i);
        uint256 each = terms.amount / count;
        for (uint256 k; k < count; ++k) {
            if (items & (uint32(1) << k) == 0) continue;
            total += k == count - 1 ? terms.amount - each * (count - 1) : each;
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev Status sets, as bitmaps over OrderStatus, that the actions look for.
    uint256 internal constant FUNDED = 1 << 1;
    uint256 internal constant SHIPPED = 1 << 2;
    uint256 internal constant DELIVERED = 1 << 3;
    uint256 internal constant DISPUTED = 1 << 4;
    uint256 internal constant OPEN = FUNDED | SHIPPED | DELIVERED | DISPUTED;

    /// @dev An order to act on: mostly one whose status the action fits, so few calls are wasted;
    /// one call in eight takes any order, final ones included (acting on those must change nothing).
    function _pick(uint256 seed, uint256 statuses) internal view returns (uint256) {
        uint256 n = _terms.length;
        if (n == 0) return type(uint256).max;
        if (seed % 8 == 0) return seed % n;
        for (uint256 k; k < n; ++k) {
            uint256 i = (seed + k) % n;
            if (!_orders[i].final_ && statuses & (1 << uint8(_order(i).status)) != 0) return i;
        }
        return seed % n;
    }

    function _order(uint256 i) internal view returns (IOrderEscrow.Order memory) {
        return escrow.orderOf(_orders[i].id);
    }

    /// @dev Items of order `i` neither released nor refunded.
    function _openItems(uint256 i) internal view returns (uint32) {
        IOrderEscrow.Order memory order = _order(i);
        return _mask(i) & ~(order.releasedItems | order.refundedItems);
    }

    /// @dev A free item of `merchant` (not held, Authentic), registering a new one when none is.
    function _freeItem(address merchant, uint256 seed, bytes32[] memory taken) internal returns (bytes32) {
        bytes32[] storage items = _catalogue[merchant];
        uint256 n = items.length;
        for (uint256 k; k < n; ++k) {
            bytes32 id = items[(seed + k) % n];
            IProductRegistry.Item memory item = registry.itemOf(id);
            if (_contains(taken, id) || item.held || item.merchant != merchant) continue;
            if (registry.verify(id) == IProductRegistry.Verdict.Authentic) return id;
        }
        return _register(merchant);
    }

    function _register(address merchant) internal returns (bytes32 id) {
        if (_catalogue[merchant].length >= MAX_CATALOGUE) return _catalogue[merchant][0];
        IProductRegistry.ItemKey memory key =
            IProductRegistry.ItemKey(IProductRegistry.IdScheme.Sku, "ITEM", (++_serial).toString());
        vm.prank(merchant);
        id = registry.registerItem(key, keccak256(abi.encode("meta", _serial)), "ipfs://item");
        _catalogue[merchant].push(id);
        _serialOf[id] = _serial;
    }

    /// @dev Whether an open order (other than `except`) still holds `itemId` as one of its open items.
    function _heldByOpenOrder(bytes32 itemId, uint256 except) internal view returns (bool) {
        for (uint256 i; i < _terms.length; ++i) {
            if (i == except || _orders[i].final_) continue;
            bytes32[] storage ids = _terms[i].itemIds;
            uint32 open = _openItems(i);
            for (uint256 k; k < ids.length; ++k) {
                if (ids[k] == itemId && open & (uint32(1) << k) != 0) return true;
            }
        }
        return false;
    }

    /// @dev An item an honest order could not list: another merchant's, one held by an open order or
    /// sold, one already in this order, or one recalled or flagged.
    function _decoy(uint256 merchantIndex, bytes32[] memory itemIds, uint256 seed) internal returns (bytes32) {
        address merchant = merchants[merchantIndex];
        bytes32[] storage own = _catalogue[merchant];
        uint256 kind = seed % 4;
        if (kind == 1 || kind == 3) {
            for (uint256 k; k < own.length; ++k) {
                bytes32 id = own[(seed + k) % own.length];
                bool bad =
                    kind == 1 ? registry.itemOf(id).held : registry.verify(id) != IProductRegistry.Verdict.Authentic;
                if (bad && !_contains(itemIds, id)) return id;
            }
        }
        if (kind == 2 && itemIds.length > 1) return itemIds[0];
        address rival = merchants[(merchantIndex + 1 + seed % 2) % 3];
        return _freeItem(rival, seed, itemIds);
    }

    /// @dev Whether `itemIds` name an item that is not `merchant`'s or not Authentic (foreign), or one
    /// an open order holds, one sold, or one twice (held), as the handler's own books see them.
    function _screen(address merchant, bytes32[] memory itemIds) internal view returns (bool foreign, bool held) {
        for (uint256 k; k < itemIds.length; ++k) {
            bytes32 id = itemIds[k];
            if (registry.itemOf(id).merchant != merchant) foreign = true;
            if (registry.verify(id) != IProductRegistry.Verdict.Authentic) foreign = true;
            if (ghostSold[id] || _heldByOpenOrder(id, type(uint256).max)) held = true;
            for (uint256 j; j < k; ++j) {
                if (itemIds[j] == id) held = true;
            }
        }
    }

    /// @dev Items of order `i` the registry reads Recalled or Flagged now.
    function _badItems(uint256 i) internal view returns (uint32 bad) {
        bytes32[] storage ids = _terms[i].itemIds;
        for (uint256 k; k < ids.length; ++k) {
            IProductRegistry.Verdict verdict = registry.verify(ids[k]);
            if (verdict == IProductRegistry.Verdict.Recalled || verdict == IProductRegistry.Verdict.Flagged) {
                bad |= uint32(1) << k;
            }
        }
    }

    function _owed(uint256 i) internal view returns (uint256 merchant, uint256 payer, uint256 fee) {
        IOrderEscrow.OrderTerms storage terms = _terms[i];
        merchant = escrow.creditOf(terms.merchant, terms.token);
        payer = escrow.creditOf(terms.payer, terms.token);
        fee = escrow.creditOf(feeRecipient, terms.token);
    }

    /// @dev What the order's parties are owed before an action, and the order's open items.
    function _before(uint256 i) internal view returns (uint256[4] memory) {
        (uint256 merchant, uint256 payer, uint256 fee) = _owed(i);
        return [merchant, payer, fee, uint256(_order(i).status == IOrderEscrow.OrderStatus.None ? 0 : _openItems(i))];
    }

    /// @dev Books what the action just credited for order `i` (merchant, payer and fee recipient
    /// are distinct accounts, so each delta is this order's alone); a final order must credit nothing.
    /// Returns the payer's part. Items that left with a carrier and were paid for are sold from now on.
    function _after(uint256 i, uint256[4] memory before) internal returns (uint256 refund) {
        (uint256 merchant, uint256 payer, uint256 fee) = _owed(i);
        refund = payer - before[1];
        _book(i, merchant - before[0], refund, fee - before[2], uint32(before[3]));
    }

    /// @dev Books a release of order `i` inside a batch, where other orders' credits mix with its own:
    /// what left its escrowed remainder went to its merchant less its fee, rounded as for one release.
    function _afterBatch(uint256 i, uint256 escrowedBefore, uint32 openBefore) internal {
        uint256 gross = escrowedBefore - escrow.escrowedOf(_terms[i]);
        uint256 fee = (gross * _terms[i].feeBps) / 10_000;
        _book(i, gross - fee, 0, fee, openBefore);
    }

    /// @dev Books what an action credited for order `i`; `openBefore` is its open items before.
    function _book(uint256 i, uint256 toMerchant, uint256 refund, uint256 feeTaken, uint32 openBefore) internal {
        uint256 credited = toMerchant + refund + feeTaken;
        Tracked storage tracked = _orders[i];
        if (tracked.final_ && credited != 0) ++paidAfterFinal;
        tracked.paid += credited;
        address token = _terms[i].token;
        ghostToMerchants[token] += toMerchant;
        ghostRefunds[token] += refund;
        ghostFees[token] += feeTaken;
        IOrderEscrow.Order memory order = _order(i);
        if (order.carrier != 0 && !tracked.final_) {
            // Released items, and a settlement's open items, that left with a carrier stay held.
            uint32 sold =
                order.status == IOrderEscrow.OrderStatus.Settled ? openBefore : openBefore & order.releasedItems;
            bytes32[] storage ids = _terms[i].itemIds;
            for (uint256 k; k < ids.length; ++k) {
                if (sold & (uint32(1) << k) != 0) ghostSold[ids[k]] = true;
            }
        }
        if (!tracked.final_ && uint8(order.status) >= uint8(IOrderEscrow.OrderStatus.Released)) {
            tracked.final_ = true;
            ++finalisations;
        }
    }

    function _anyone(uint256 seed, uint256 i) internal view returns (address) {
        uint256 pick = seed % 4;
        if (pick == 0) return _terms[i].buyer;
        if (pick == 1) return _terms[i].merchant;
        if (pick == 2) return STRANGER;
        return oracle;
    }

    function _party(uint256 seed) internal view returns (address) {
        uint256 i = seed % 8;
        if (i < 4) return buyers[i];
        if (i < 7) return merchants[i - 4];
        return feeRecipient;
    }

    function _count(uint256 i) internal view returns (uint256) {
        return _terms[i].itemIds.length == 0 ? 1 : _terms[i].itemIds.length;
    }

    function _mask(uint256 i) internal view returns (uint32) {
        return uint32((uint256(1) << _count(i)) - 1);
    }

    function _contains(bytes32[] memory ids, bytes32 id) internal pure returns (bool) {
        for (uint256 k; k < ids.length; ++k) {
            if (ids[k] == id) return true;
        }
        return false;
    }
}
