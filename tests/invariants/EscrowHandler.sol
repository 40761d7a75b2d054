// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {Cheats} from "./Cheats.sol";

/// @notice Drives the order escrow as buyers, merchants, the carrier oracle, the arbiter, the admin
/// and passers-by would, in ETH and an allow-listed stablecoin, with time jumping ahead.
/// Every action on an order measures what it credited (to the merchant, the payer, the fee
/// recipient) so the ghost books hold what each order paid out, apart from the escrow's own.
contract EscrowHandler is Cheats {
    uint256 internal constant MAX_ORDERS = 24;
    uint256 internal constant ITEMS_PER_MERCHANT = 4;

    OrderEscrow public immutable escrow;
    ProductRegistry public immutable registry;
    MockStable6 public immutable stable;
    address public immutable admin;
    address public immutable arbiter;
    address public immutable oracle;
    address public immutable feeRecipient;
    address[4] public buyers;
    address[3] public merchants;
    address public constant STRANGER = address(0xBEEF);

    struct Tracked {
        bytes32 id;
        uint256 paid; // credited to merchant + payer + fee recipient for this order, all told
        bool final_;
    }

    IOrderEscrow.OrderTerms[] internal _terms;
    Tracked[] internal _orders;
    mapping(address merchant => bytes32[]) internal _catalogue;

    /// @dev Per token (address(0) for ETH): what buyers paid in, and where it went.
    mapping(address token => uint256) public ghostDeposited;
    mapping(address token => uint256) public ghostToMerchants;
    mapping(address token => uint256) public ghostFees;
    mapping(address token => uint256) public ghostRefunds;
    mapping(address token => uint256) public ghostWithdrawn;

    uint256 public paidAfterFinal;
    uint256 public finalisations;
    uint256 internal _salt;

    constructor(
        OrderEscrow escrow_,
        ProductRegistry registry_,
        MockStable6 stable_,
        address[4] memory roles, // admin, arbiter, oracle, fee recipient
        address[4] memory buyers_,
        address[3] memory merchants_,
        bytes32[] memory catalogue
    ) {
        escrow = escrow_;
        registry = registry_;
        stable = stable_;
        (admin, arbiter, oracle, feeRecipient) = (roles[0], roles[1], roles[2], roles[3]);
        buyers = buyers_;
        merchants = merchants_;
        for (uint256 i; i < catalogue.length; ++i) {
            _catalogue[merchants_[i / ITEMS_PER_MERCHANT]].push(catalogue[i]);
        }
    }

    // ------------------------------------------------------------------ opening

    function open(uint256 buyerSeed, uint256 merchantSeed, uint256 amountSeed, uint256 shapeSeed) external {
        if (_terms.length >= MAX_ORDERS) return;
        address buyer = buyers[buyerSeed % 4];
        address merchant = merchants[merchantSeed % 3];
        address token = shapeSeed % 2 == 0 ? address(0) : address(stable);
        // 0 to 3 of the merchant's registered items; one order in eight names another merchant's
        // item, whose sale the registry refuses without holding up the payout.
        uint256 count = (shapeSeed >> 8) % 4;
        bytes32[] memory itemIds = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            address owner = (shapeSeed >> 16) % 8 == 0 ? merchants[(merchantSeed + 1) % 3] : merchant;
            itemIds[i] = _catalogue[owner][(((shapeSeed >> 24) % ITEMS_PER_MERCHANT) + i) % ITEMS_PER_MERCHANT];
        }
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
        _terms.push(terms);
        _orders.push(Tracked({id: escrow.orderIdOf(terms), paid: 0, final_: false}));
        ghostDeposited[token] += amount;
    }

    // ------------------------------------------------------------------ shipping and delivery

    function ship(uint256 orderSeed) external {
        uint256 i = _pick(orderSeed, FUNDED);
        if (i == type(uint256).max) return;
        uint256[3] memory before = _before(i);
        vm.prank(_terms[i].merchant);
        escrow.ship(_terms[i], keccak256("tracking"));
        _after(i, before);
    }

    /// @dev The carrier oracle: shipped, delivered (some or all items), or a broken condition.
    function reportLogistics(uint256 orderSeed, uint8 kind, uint32 items) external {
        uint256 i = _pick(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        IOrderEscrow.LogisticsUpdate[] memory updates = new IOrderEscrow.LogisticsUpdate[](1);
        updates[0] = IOrderEscrow.LogisticsUpdate({
            orderId: _orders[i].id,
            kind: _logisticsKind(i, kind),
            items: items % 2 == 0 ? 0 : items & _mask(i),
            evidenceHash: keccak256("evidence")
        });
        uint256[3] memory before = _before(i);
        vm.prank(oracle);
        escrow.reportLogistics(updates);
        _after(i, before);
    }

    // ------------------------------------------------------------------ release and refunds

    function confirmReceipt(uint256 orderSeed) external {
        uint256 i = _pick(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        uint256[3] memory before = _before(i);
        vm.prank(_terms[i].buyer);
        escrow.confirmReceipt(_terms[i]);
        _after(i, before);
    }

    function release(uint256 orderSeed, uint256 callerSeed) external {
        uint256 i = _pick(orderSeed, SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        // Half the time the caller waits out the dispute window first.
        if (callerSeed % 2 == 0) vm.warp(block.timestamp + _terms[i].disputeWindow + 10 days);
        uint256[3] memory before = _before(i);
        vm.prank(_anyone(callerSeed, i));
        escrow.release(_terms[i]);
        _after(i, before);
    }

    function releaseItems(uint256 orderSeed, uint32 items, bool byBuyer) external {
        uint256 i = _pick(orderSeed, FUNDED | SHIPPED | DELIVERED);
        if (i == type(uint256).max) return;
        uint32 chosen = items & _mask(i) & ~escrow.orderOf(_orders[i].id).releasedItems;
        uint256[3] memory before = _before(i);
        vm.prank(byBuyer ? _terms[i].buyer : _anyone(items, i));
        escrow.releaseItems(_terms[i], chosen);
        _after(i, before);
    }

    function cancel(uint256 orderSeed, uint8 who) external {
        uint256 i = _pick(orderSeed, who % 3 == 0 ? OPEN : FUNDED);
        if (i == type(uint256).max) return;
        address caller = who % 3 == 0 ? _terms[i].merchant : who % 3 == 1 ? _terms[i].buyer : STRANGER;
        uint256[3] memory before = _before(i);
        vm.prank(caller);
        escrow.cancel(_terms[i]);
        _after(i, before);
    }

    /// @dev The merchant recalls one of the order's items (if not already), then the buyer asks for
    /// the refund the recall entitles it to.
    function recallAndRefund(uint256 orderSeed, uint256 itemSeed) external {
        uint256 i = _pick(orderSeed, OPEN);
        if (i == type(uint256).max || _terms[i].itemIds.length == 0) return;
        uint256 index = itemSeed % _terms[i].itemIds.length;
        bytes32 itemId = _terms[i].itemIds[index];
        if (registry.itemOf(itemId).state != IProductRegistry.ItemState.Recalled) {
            vm.prank(registry.itemOf(itemId).merchant);
            registry.recallItem(itemId, keccak256("recall"));
        }
        uint256[3] memory before = _before(i);
        vm.prank(_terms[i].buyer);
        escrow.refundRecalled(_terms[i], index);
        _after(i, before);
    }

    // ------------------------------------------------------------------ settlements and disputes

    function offerSettlement(uint256 orderSeed, uint16 buyerBps, bool byMerchant) external {
        uint256 i = _pick(orderSeed, OPEN);
        if (i == type(uint256).max) return;
        vm.prank(byMerchant ? _terms[i].merchant : _terms[i].buyer);
        escrow.offerSettlement(_terms[i], uint16(_bound(buyerBps, 0, 10_000)));
    }

    /// @dev The other side accepts the pending offer (mostly at its real split).
    function acceptSettlement(uint256 orderSeed, uint16 otherBps) external {
        uint256 i = _pick(orderSeed, OPEN);
        if (i == type(uint256).max) return;
        IOrderEscrow.Offer memory offer = escrow.offerOf(_orders[i].id);
        uint16 bps = otherBps % 8 == 0 ? uint16(_bound(otherBps, 0, 10_000)) : offer.buyerBps;
        uint256[3] memory before = _before(i);
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
        uint256[3] memory before = _before(i);
        vm.prank(arbiter);
        escrow.resolveDispute(_terms[i], uint16(_bound(buyerBps, 0, 10_000)), keccak256("ruling"));
        _after(i, before);
    }

    function resolveExpiredDispute(uint256 orderSeed, uint256 callerSeed) external {
        uint256 i = _pick(orderSeed, DISPUTED);
        if (i == type(uint256).max) return;
        // Half the time the caller waits out the arbitration period first.
        uint256 deadline = escrow.orderOf(_orders[i].id).disputeDeadline;
        if (callerSeed % 2 == 0 && deadline > block.timestamp) vm.warp(deadline);
        uint256[3] memory before = _before(i);
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

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 0, 4 days));
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

    // ------------------------------------------------------------------ internals

    /// @dev Status sets, as bitmaps over OrderStatus, that the actions look for.
    uint256 internal constant FUNDED = 1 << 1;
    uint256 internal constant SHIPPED = 1 << 2;
    uint256 internal constant DELIVERED = 1 << 3;
    uint256 internal constant DISPUTED = 1 << 4;
    uint256 internal constant OPEN = FUNDED | SHIPPED | DELIVERED | DISPUTED;

    /// @dev An order to act on: mostly one whose status the action fits, so few calls are wasted;
    /// one call in eight takes any order, final ones included (acting on those must change nothing).
    function _pick(uint256 seed, uint256 statuses) private view returns (uint256) {
        uint256 n = _terms.length;
        if (n == 0) return type(uint256).max;
        if (seed % 8 == 0) return seed % n;
        for (uint256 k; k < n; ++k) {
            uint256 i = (seed + k) % n;
            if (!_orders[i].final_ && statuses & (1 << uint8(escrow.orderOf(_orders[i].id).status)) != 0) return i;
        }
        return seed % n;
    }

    /// @dev What the carrier would report next (shipped, then delivered), a broken condition one
    /// time in six, and any kind at all one time in eight.
    function _logisticsKind(uint256 i, uint8 seed) private view returns (IOrderEscrow.LogisticsKind) {
        if (seed % 8 == 0) return IOrderEscrow.LogisticsKind(seed % 3);
        if (seed % 6 == 1) return IOrderEscrow.LogisticsKind.ConditionBreached;
        IOrderEscrow.OrderStatus status = escrow.orderOf(_orders[i].id).status;
        return status == IOrderEscrow.OrderStatus.Funded
            ? IOrderEscrow.LogisticsKind.Shipped
            : IOrderEscrow.LogisticsKind.Delivered;
    }

    function _owed(uint256 i) private view returns (uint256 merchant, uint256 payer, uint256 fee) {
        IOrderEscrow.OrderTerms storage terms = _terms[i];
        merchant = escrow.creditOf(terms.merchant, terms.token);
        payer = escrow.creditOf(terms.payer, terms.token);
        fee = escrow.creditOf(feeRecipient, terms.token);
    }

    function _before(uint256 i) private view returns (uint256[3] memory) {
        (uint256 merchant, uint256 payer, uint256 fee) = _owed(i);
        return [merchant, payer, fee];
    }

    /// @dev Books what the action just credited for order `i` (merchant, payer and fee recipient
    /// are distinct accounts, so each delta is this order's alone); a final order must credit nothing.
    function _after(uint256 i, uint256[3] memory before) private {
        (uint256 merchant, uint256 payer, uint256 fee) = _owed(i);
        (uint256 toMerchant, uint256 refund, uint256 feeTaken) =
            (merchant - before[0], payer - before[1], fee - before[2]);
        uint256 credited = toMerchant + refund + feeTaken;
        Tracked storage tracked = _orders[i];
        if (tracked.final_ && credited != 0) ++paidAfterFinal;
        tracked.paid += credited;
        address token = _terms[i].token;
        ghostToMerchants[token] += toMerchant;
        ghostRefunds[token] += refund;
        ghostFees[token] += feeTaken;
        IOrderEscrow.OrderStatus status = escrow.orderOf(tracked.id).status;
        if (!tracked.final_ && uint8(status) >= uint8(IOrderEscrow.OrderStatus.Released)) {
            tracked.final_ = true;
            ++finalisations;
        }
    }

    function _anyone(uint256 seed, uint256 i) private view returns (address) {
        uint256 pick = seed % 4;
        if (pick == 0) return _terms[i].buyer;
        if (pick == 1) return _terms[i].merchant;
        if (pick == 2) return STRANGER;
        return oracle;
    }

    function _party(uint256 seed) private view returns (address) {
        uint256 i = seed % 8;
        if (i < 4) return buyers[i];
        if (i < 7) return merchants[i - 4];
        return feeRecipient;
    }

    function _mask(uint256 i) private view returns (uint32) {
        uint256 count = _terms[i].itemIds.length == 0 ? 1 : _terms[i].itemIds.length;
        return uint32((uint256(1) << count) - 1);
    }
}
