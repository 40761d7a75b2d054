// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {InvariantTest} from "./Cheats.sol";
import {EscrowHandler} from "./EscrowHandler.sol";

/// @notice OrderEscrow's money invariants under random orders, parties, amounts and time.
contract EscrowInvariants is InvariantTest {
    OrderEscrow internal escrow;
    MockStable6 internal stable;
    EscrowHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        address admin = _actor(200);
        address verifier = _actor(201);
        address[4] memory roles = [admin, _actor(202), _actor(203), _actor(204)];
        address[4] memory buyers = [_actor(210), _actor(211), _actor(212), _actor(213)];
        address[3] memory merchants = [_actor(220), _actor(221), _actor(222)];

        ProductRegistry registry = new ProductRegistry(admin);
        escrow = new OrderEscrow(admin, registry, roles[3]);
        stable = new MockStable6();
        vm.startPrank(admin);
        registry.grantRole(registry.VERIFIER_ROLE(), verifier);
        registry.grantRole(registry.ORACLE_ROLE(), address(escrow));
        escrow.grantRole(escrow.ARBITER_ROLE(), roles[1]);
        escrow.grantRole(escrow.ORACLE_ROLE(), roles[2]);
        escrow.setTokenAllowed(address(stable), true);
        escrow.setFee(250);
        vm.stopPrank();

        // Each merchant is approved and has four registered items its orders can sell.
        bytes32[] memory catalogue = new bytes32[](12);
        for (uint256 m; m < 3; ++m) {
            vm.prank(verifier);
            registry.approveMerchant(merchants[m], "merchant", keccak256(abi.encode(m)));
            for (uint256 k; k < 4; ++k) {
                bytes32 id = keccak256(abi.encode(merchants[m], k));
                vm.prank(merchants[m]);
                registry.registerItem(id, keccak256(abi.encode("meta", id)), "ipfs://item");
                catalogue[m * 4 + k] = id;
            }
        }
        handler = new EscrowHandler(escrow, registry, stable, roles, buyers, merchants, catalogue);

        bytes4[] memory selectors = new bytes4[](18);
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
        // Orders are the raw material of every other action: draw them twice as often.
        selectors[17] = handler.open.selector;
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
    /// out less than its price, and a final one exactly its price (merchant, fee and refund).
    function invariant_noOrderPaysTwice() public view {
        require(handler.paidAfterFinal() == 0, "a final order paid out again");
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
}
