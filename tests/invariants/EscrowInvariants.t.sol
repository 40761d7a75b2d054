// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";
import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {InvariantTest} from "./Cheats.sol";
import {EscrowHandler} from "./EscrowHandler.sol";

/// @notice OrderEscrow's money invariants under random orders, parties, amounts and time.
contract EscrowInvariants is InvariantTest {
    OrderEscrow internal escrow;
    ProductRegistry internal registry;
    MockStable6 internal stable;
    EscrowHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        address admin = _actor(200);
        address verifier = _actor(201);
        // admin, arbiter, logistics oracle, fee recipient, verifier
        address[5] memory roles = [admin, _actor(202), _actor(203), _actor(204), verifier];
        // The buyers sign forwarded requests, so each is the address of a key.
        uint256[4] memory buyerKeys = [uint256(0xB210), 0xB211, 0xB212, 0xB213];
        address[4] memory buyers;
        for (uint256 b; b < 4; ++b) {
            buyers[b] = vm.addr(buyerKeys[b]);
        }
        address[3] memory merchants = [_actor(220), _actor(221), _actor(222)];

        // With the suite's forwarder, as deployed: the escrow reads a signer only on its calls.
        TrustMallForwarder forwarder = new TrustMallForwarder();
        registry = new ProductRegistry(admin, address(forwarder));
        escrow = new OrderEscrow(admin, registry, roles[3]);
        stable = new MockStable6();
        vm.startPrank(admin);
        registry.grantRole(registry.VERIFIER_ROLE(), verifier);
        registry.grantRole(registry.ESCROW_ROLE(), address(escrow));
        escrow.grantRole(escrow.ARBITER_ROLE(), roles[1]);
        escrow.grantRole(escrow.ORACLE_ROLE(), roles[2]);
        escrow.setTokenAllowed(address(stable), true);
        escrow.setFee(250);
        vm.stopPrank();
        // Each merchant is approved; the handler registers its items as its orders need them.
        for (uint256 m; m < 3; ++m) {
            vm.prank(verifier);
            registry.approveMerchant(merchants[m], "merchant", keccak256(abi.encode("identity", m)));
        }
        handler = new EscrowHandler(escrow, registry, stable, roles, buyers, merchants, forwarder, buyerKeys);

        bytes4[] memory selectors = new bytes4[](27);
        selectors[0] = handler.open.selector;
        selectors[1] = handler.ship.selector;
        selectors[2] = handler.reportLogistics.selector;
        selectors[3] = handler.confirmReceipt.selector;
        selectors[4] = handler.release.selector;
        selectors[5] = handler.releaseItems.selector;
        selectors[6] = handler.cancel.selector;
        selectors[7] = handler.recallAndRefund.selector;
        selectors[8] = handler.offerSettlement.selector;
        selectors[9] = handler.acceptSettlement.selector;
        selectors[10] = handler.dispute.selector;
        selectors[11] = handler.submitEvidence.selector;
        selectors[12] = handler.resolveDispute.selector;
        selectors[13] = handler.resolveExpiredDispute.selector;
        selectors[14] = handler.withdraw.selector;
        selectors[15] = handler.setFee.selector;
        selectors[16] = handler.warp.selector;
        selectors[17] = handler.assignCarrier.selector;
        selectors[18] = handler.withdrawOffer.selector;
        selectors[19] = handler.toggleMerchant.selector;
        // Orders are the raw material of every other action, and carriers' reports drive them on:
        // both are drawn more often.
        selectors[20] = handler.open.selector;
        selectors[21] = handler.open.selector;
        selectors[22] = handler.reportLogistics.selector;
        selectors[23] = handler.recallAndRefund.selector;
        selectors[24] = handler.reassignItem.selector;
        selectors[25] = handler.releaseDue.selector;
        selectors[26] = handler.spoofBuyer.selector;
        _target(address(handler), selectors);
    }

    /// @notice For ETH and the stablecoin alike, the escrow holds exactly what it still owes: the
    /// unreleased remainders of open orders plus every credit not yet withdrawn.
    function invariant_balanceEqualsOwed() public view {
        (uint256 ethOwed, uint256 stableOwed) = (_escrowed(address(0)), _escrowed(address(stable)));
        uint256 parties = handler.partyCount();
        for (uint256 i; i < parties; ++i) {
            address party = handler.partyAt(i);
            ethOwed += escrow.creditOf(party, address(0));
            stableOwed += escrow.creditOf(party, address(stable));
        }
        require(address(escrow).balance == ethOwed, "ETH held differs from ETH owed");
        require(stable.balanceOf(address(escrow)) == stableOwed, "stablecoin held differs from owed");
    }

    /// @notice No order pays out twice: a final order credits nothing more, an open one has paid
    /// out less than its price, and a final one exactly its price (merchant, fee and refund); a release
    /// batch leaves the decided or contested orders it lists untouched.
    function invariant_noOrderPaysTwice() public view {
        require(handler.paidAfterFinal() == 0, "a final order paid out again");
        require(handler.skipsChanged() == 0, "a release batch changed an order it had to skip");
        uint256 n = handler.orderCount();
        for (uint256 i; i < n; ++i) {
            EscrowHandler.Tracked memory order = handler.trackedAt(i);
            uint256 amount = handler.termsAt(i).amount;
            if (order.final_) require(order.paid == amount, "final order paid other than its price");
            else require(order.paid < amount, "open order already paid its price");
        }
    }

    /// @notice Per asset: deposits = payouts to merchants + fees + refunds + still escrowed, and
    /// what was credited = what was withdrawn + what is still credited.
    function invariant_payoutsPlusFeesEqualDeposits() public view {
        address[2] memory tokens = [address(0), address(stable)];
        for (uint256 t; t < 2; ++t) {
            address token = tokens[t];
            uint256 credited = handler.ghostToMerchants(token) + handler.ghostFees(token) + handler.ghostRefunds(token);
            require(handler.ghostDeposited(token) == credited + _escrowed(token), "deposits != payouts + escrowed");
            uint256 standing;
            uint256 parties = handler.partyCount();
            for (uint256 i; i < parties; ++i) {
                standing += escrow.creditOf(handler.partyAt(i), token);
            }
            require(credited == handler.ghostWithdrawn(token) + standing, "credits != withdrawn + standing");
        }
    }

    function _escrowed(address token) private view returns (uint256 total) {
        uint256 n = handler.orderCount();
        for (uint256 i; i < n; ++i) {
            IOrderEscrow.OrderTerms memory terms = handler.termsAt(i);
            if (terms.token == token) total += escrow.escrowedOf(terms);
        }
    }

    /// @notice A recall refund never exceeds the unreleased share of recalled items: at each refund the
    /// payer was credited at most the shares of the named items that read Recalled or Flagged and were
    /// neither released nor refunded; every item an order refunded that way still reads so (unless a
    /// verifier revoked its record since).
    function invariant_recallRefundsWithinRecalledShares() public view {
        require(handler.overRefunds() == 0, "a recall refund paid beyond the open shares of recalled items");
        uint256 n = handler.orderCount();
        for (uint256 i; i < n; ++i) {
            EscrowHandler.Tracked memory order = handler.trackedAt(i);
            if (order.recallRefunded == 0) continue;
            IOrderEscrow.OrderTerms memory terms = handler.termsAt(i);
            require(
                order.recallRefunded <= handler.shareOf(i, order.recallItems),
                "recall refunds above their items' shares"
            );
            for (uint256 k; k < terms.itemIds.length; ++k) {
                if (order.recallItems & (uint32(1) << k) == 0) continue;
                if (escrow.orderOf(order.id).refundedItems & (uint32(1) << k) == 0) continue;
                // A verifier's revocation wipes the record, recall included (the owner registers afresh).
                if (handler.ghostReassigned(terms.itemIds[k])) continue;
                IProductRegistry.Verdict verdict = registry.verify(terms.itemIds[k]);
                require(
                    verdict == IProductRegistry.Verdict.Recalled || verdict == IProductRegistry.Verdict.Flagged,
                    "a recall-refunded item reads neither recalled nor flagged"
                );
            }
        }
    }

    /// @notice No order lists an item of another merchant, and no item is held by two open orders: every
    /// order opened with its own merchant's Authentic items, none held elsewhere, sold or listed twice;
    /// every open item of an open order is its merchant's and held in the registry, by that order alone;
    /// and an item sold through an order (released after a hand-over) stays held.
    function invariant_ordersHoldOnlyTheirMerchantsItems() public view {
        require(handler.foreignItems() == 0, "an order opened with another merchant's or an unauthentic item");
        require(handler.doubleHolds() == 0, "an order opened with an item held elsewhere, sold or listed twice");
        uint256 n = handler.orderCount();
        bytes32[] memory held = new bytes32[](n * 32);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            EscrowHandler.Tracked memory order = handler.trackedAt(i);
            if (order.final_) continue;
            IOrderEscrow.OrderTerms memory terms = handler.termsAt(i);
            IOrderEscrow.Order memory state = escrow.orderOf(order.id);
            uint32 open = ~(state.releasedItems | state.refundedItems);
            for (uint256 k; k < terms.itemIds.length; ++k) {
                if (open & (uint32(1) << k) == 0) continue;
                bytes32 id = terms.itemIds[k];
                IProductRegistry.Item memory item = registry.itemOf(id);
                if (!handler.ghostReassigned(id)) {
                    require(item.merchant == terms.merchant, "an open order holds another merchant's item");
                }
                require(item.held, "an open order's item is not held");
                for (uint256 j; j < count; ++j) {
                    require(held[j] != id, "an item is held by two open orders");
                }
                held[count++] = id;
            }
        }
        for (uint256 m; m < 3; ++m) {
            // A catalogue may list an item twice once a verifier moved it back and forth: harmless here.
            bytes32[] memory items = handler.catalogue(handler.merchants(m));
            for (uint256 k; k < items.length; ++k) {
                if (handler.ghostSold(items[k])) require(registry.itemOf(items[k]).held, "a sold item was let go");
            }
        }
    }

    /// @notice A call acts as its sender and nobody else: a buyer's request signed and relayed through
    /// the forwarder does exactly what the buyer's own call would, and the escrow reads an address
    /// appended to the calldata only on the forwarder's calls, so an order's merchant cannot confirm
    /// receipt (and so release the payment) in its buyer's name.
    function invariant_callsActAsTheirSender() public view {
        require(handler.forwardedNotAsSigner() == 0, "a buyer's signed request did other than the buyer's own call");
        require(handler.spoofedSenders() == 0, "an address appended to a direct call was read as its caller");
    }
}
