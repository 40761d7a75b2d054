// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AttestationVerifier} from "../../contracts/common/AttestationVerifier.sol";
import {CreditLines} from "../../contracts/credit/CreditLines.sol";
import {CreditVault} from "../../contracts/credit/CreditVault.sol";
import {ICreditLines} from "../../contracts/credit/ICreditLines.sol";
import {ICreditPolicies} from "../../contracts/credit/ICreditPolicies.sol";
import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {InvariantTest} from "./Cheats.sol";
import {CreditBase} from "./CreditBase.sol";
import {CreditHandler} from "./CreditHandler.sol";

/// @notice Credit lines, their vault and attestations under random borrowers, lenders, amounts,
/// attestations (fresh, stale, replayed) and months passing.
contract CreditInvariants is InvariantTest {
    uint256 internal constant USD = 1e6;

    CreditLines internal lines;
    CreditVault internal vault;
    AttestationVerifier internal verifier;
    OrderEscrow internal escrow;
    MockStable6 internal stable;
    CreditHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        address admin = _actor(300);
        address registryVerifier = _actor(302);
        CreditBase.Roles memory roles = CreditBase.Roles({risk: admin, oracle: _actor(303), arbiter: _actor(304)});
        address[4] memory borrowers = [_actor(310), _actor(311), _actor(312), _actor(313)];
        address[3] memory lenders = [_actor(320), _actor(321), _actor(322)];
        address[4] memory merchants = [_actor(330), _actor(331), _actor(332), _actor(333)];
        uint256[3] memory keys = _sortedKeys([uint256(0xA77E5701), 0xA77E5702, 0xA77E5703]);
        address[] memory attesters = new address[](3);
        for (uint256 i; i < 3; ++i) {
            attesters[i] = vm.addr(keys[i]);
        }

        stable = new MockStable6();
        ProductRegistry registry = new ProductRegistry(admin, address(0));
        escrow = new OrderEscrow(admin, registry, _actor(301));
        verifier = new AttestationVerifier(admin, attesters, 2);
        vault = new CreditVault(stable, admin);
        lines = new CreditLines(admin, verifier, vault, escrow);
        vm.startPrank(admin);
        registry.grantRole(registry.VERIFIER_ROLE(), registryVerifier);
        registry.grantRole(registry.ESCROW_ROLE(), address(escrow));
        escrow.setTokenAllowed(address(stable), true);
        escrow.setFee(250);
        escrow.grantRole(escrow.FUNDER_ROLE(), address(lines));
        escrow.grantRole(escrow.ORACLE_ROLE(), roles.oracle);
        escrow.grantRole(escrow.ARBITER_ROLE(), roles.arbiter);
        verifier.grantRole(verifier.CONSUMER_ROLE(), address(lines));
        vault.grantRole(vault.LINE_ROLE(), address(lines));
        lines.grantRole(lines.POLICY_ROLE(), admin);
        lines.grantRole(lines.RISK_ROLE(), admin);
        // Band 0 has a tier but is below the minimum; bands 1-3 are approved; band 4 has no tier.
        ICreditPolicies.Tier[] memory tiers = new ICreditPolicies.Tier[](4);
        tiers[0] = ICreditPolicies.Tier(uint96(100 * USD), 3_600, 30 days, 5 days, uint80(10 * USD));
        tiers[1] = ICreditPolicies.Tier(uint96(500 * USD), 2_400, 30 days, 5 days, uint80(15 * USD));
        tiers[2] = ICreditPolicies.Tier(uint96(2_000 * USD), 1_800, 30 days, 5 days, uint80(25 * USD));
        tiers[3] = ICreditPolicies.Tier(uint96(5_000 * USD), 1_200, 30 days, 5 days, uint80(25 * USD));
        // New credit is capped at 6,000 a day, so four lines at their limits reach the cap.
        lines.publishPolicy(ICreditPolicies.PolicyRules(1, 30 days, 60 days, true, 1 days, uint96(6_000 * USD)), tiers);
        vm.stopPrank();

        handler = new CreditHandler(lines, roles, keys, borrowers, lenders, merchants);
        // Merchants 0 and 1 are honest; merchant 2 is borrower 0's own shop (its identity); merchant 3
        // was approved and then suspended.
        for (uint256 m; m < 4; ++m) {
            bytes32 identity = m == 2 ? handler.identityOf(borrowers[0]) : keccak256(abi.encode("shop", m));
            vm.prank(registryVerifier);
            registry.approveMerchant(merchants[m], "merchant", identity);
        }
        vm.prank(registryVerifier);
        registry.suspendMerchant(merchants[3], keccak256("suspended"));

        // The pool starts with one lender's deposit.
        stable.mint(lenders[0], 10_000 * USD);
        vm.startPrank(lenders[0]);
        stable.approve(address(vault), type(uint256).max);
        vault.deposit(10_000 * USD, lenders[0]);
        vm.stopPrank();

        bytes4[] memory selectors = new bytes4[](28);
        selectors[0] = handler.applyFresh.selector;
        selectors[1] = handler.applyStale.selector;
        selectors[2] = handler.applyReplay.selector;
        selectors[3] = handler.drawToWallet.selector;
        selectors[4] = handler.drawToOrder.selector;
        selectors[5] = handler.shipOrder.selector;
        selectors[6] = handler.reportCarrier.selector;
        selectors[7] = handler.buyerConfirms.selector;
        selectors[8] = handler.releaseOrder.selector;
        selectors[9] = handler.settleOrder.selector;
        selectors[10] = handler.disputeOrder.selector;
        selectors[11] = handler.cancelOrder.selector;
        selectors[12] = handler.recallOrderItem.selector;
        selectors[13] = handler.settleRefund.selector;
        selectors[14] = handler.repay.selector;
        selectors[15] = handler.accrue.selector;
        selectors[16] = handler.writeOff.selector;
        selectors[17] = handler.deposit.selector;
        selectors[18] = handler.requestRedeem.selector;
        selectors[19] = handler.redeem.selector;
        selectors[20] = handler.warp.selector;
        // Lines must exist before anything else happens to them: applications twice as often; orders
        // need draws and carriers' reports; lenders' exits race the losses.
        selectors[21] = handler.applyFresh.selector;
        selectors[22] = handler.drawToOrder.selector;
        selectors[23] = handler.applyFresh.selector;
        selectors[24] = handler.reportCarrier.selector;
        selectors[25] = handler.shipOrder.selector;
        selectors[26] = handler.deposit.selector;
        selectors[27] = handler.redeem.selector;
        _target(address(handler), selectors);
    }

    /// @notice A line's principal never exceeds the limit in force when it last grew (a later, lower
    /// limit binds new draws only), no draw ever took it past the limit, and no window's new credit,
    /// all lines together, ever passed the policy's cap; no line drew while a newer attestation's denial
    /// held it.
    function invariant_principalWithinLimit() public view {
        require(handler.overLimitDraws() == 0, "a draw went past the limit");
        require(handler.heldDraws() == 0, "a line drew after a newer attestation was denied");
        require(handler.overCapDraws() == 0, "a window's new credit went past the cap");
        for (uint256 i; i < 4; ++i) {
            address borrower = handler.borrowers(i);
            ICreditLines.LineView memory line = lines.lineOf(borrower);
            require(line.principal <= handler.ghostDrawLimit(borrower), "principal above the limit it was drawn under");
        }
        (uint256 drawn,,) = lines.periodCredit();
        require(drawn <= lines.policyRules(lines.currentPolicyVersion()).periodCap, "window's credit above the cap");
    }

    /// @notice The vault's books: totalAssets = idle + lent - impaired - locked income, exactly (losses
    /// are set against locked income first, so the floor at zero is never needed); lent is the principal
    /// out less write-offs and matches the lines' principal (written-off lines aside); impaired is the
    /// principal of lines past due and grace as the public rule charged them, never above lent; losses
    /// are the write-offs; locked income never exceeds the last lock (less what losses absorbed since)
    /// and is gone once its unlock period ran out.
    function invariant_vaultAssetsAccounted() public view {
        uint256 out = handler.ghostPrincipalOut() - handler.ghostWriteOffs();
        uint256 impaired = handler.ghostImpaired();
        uint256 locked = vault.lockedIncome();
        uint256 idle = stable.balanceOf(address(vault));
        require(vault.lentAssets() == out, "lent != principal out - write-offs");
        require(vault.impairedAssets() == impaired, "impaired != principal of lines charged late");
        require(impaired <= out, "impaired above lent");
        require(impaired + locked <= idle + out, "impaired + locked above idle + lent");
        require(vault.totalAssets() == idle + out - impaired - locked, "assets != idle + lent - impaired - locked");
        require(vault.totalLosses() == handler.ghostWriteOffs(), "losses != write-offs");
        require(locked <= handler.ghostLockedAtLast(), "more income locked than the last lock");
        if (block.timestamp >= handler.ghostUnlockedAt()) require(locked == 0, "income still locked after unlocking");
        uint256 principal;
        for (uint256 i; i < 4; ++i) {
            ICreditLines.LineView memory line = lines.lineOf(handler.borrowers(i));
            if (line.status != ICreditLines.LineStatus.WrittenOff) principal += line.principal;
        }
        require(vault.lentAssets() == principal, "lent != lines' principal");
    }

    /// @notice No lender can take funds that are lent out, nor can a line lend cash owed to queued
    /// exits: no claim ever paid more than the idle cash, no draw took idle cash below the queue's
    /// due, withdraw offers nothing, and what a lender may claim now is worth no more than the idle cash.
    function invariant_lentFundsNotWithdrawable() public view {
        require(handler.lentWithdrawn() == 0, "a lender withdrew lent-out funds");
        require(handler.queuedCashLent() == 0, "a draw lent cash owed to queued exits");
        uint256 idle = stable.balanceOf(address(vault));
        uint256 queuedShares;
        for (uint256 i; i < 3; ++i) {
            address lender = handler.lenders(i);
            require(vault.maxWithdraw(lender) == 0, "withdraw offered beside the queue");
            (uint256 shares, uint256 assets,) = vault.redeemRequestOf(lender);
            queuedShares += shares;
            uint256 claimable = vault.maxRedeem(lender);
            if (claimable == 0) continue;
            uint256 worth = Math.min(Math.mulDiv(claimable, assets, shares), vault.convertToAssets(claimable));
            require(worth <= idle, "claimable above idle cash");
        }
        require(vault.balanceOf(address(vault)) == queuedShares, "queued shares not held by the vault");
    }

    /// @notice A stale, not-newer or replayed attestation never opens, re-bands or re-dates a line:
    /// every line stands on the last fresh attestation approved for it, and every nonce used is spent.
    /// One identity, one line: no attestation opened a line on an identity bound to another borrower.
    function invariant_staleOrReplayedNeverOpensOrRaises() public view {
        require(handler.staleAccepted() == 0, "a stale attestation moved a line");
        require(handler.replayAccepted() == 0, "a replayed attestation was accepted");
        require(handler.identityShared() == 0, "an identity bound to one line opened another");
        for (uint256 i; i < 4; ++i) {
            address borrower = handler.borrowers(i);
            ICreditLines.LineView memory line = lines.lineOf(borrower);
            require(
                (line.status != ICreditLines.LineStatus.None) == handler.ghostApproved(borrower),
                "line opened without a fresh approval"
            );
            require(line.attestedAt == handler.ghostAttestedAt(borrower), "line stands on another attestation");
            address owner = lines.borrowerOfIdentity(handler.identityOf(borrower));
            require(owner == handler.ghostIdentityOwner(handler.identityOf(borrower)), "identity bound elsewhere");
        }
        uint256 n = handler.signedCount();
        for (uint256 i; i < n; ++i) {
            require(verifier.isNonceUsed(handler.signedNonce(i)), "attestation nonce not spent");
        }
    }

    /// @notice Credit reaches only verified merchants' orders: every credit-paid order was opened for
    /// an active merchant not owned by the borrower, listing only that merchant's items; its merchant
    /// was paid only for items a carrier reported delivered (or by an arbiter's ruling), so no
    /// credit-paid order ever released an item that was not delivered.
    function invariant_creditReachesOnlyVerifiedMerchants() public view {
        require(handler.creditToUnverified() == 0, "credit paid an order of an unverified merchant");
        require(handler.paidWithoutDelivery() == 0, "a merchant was paid from credit without a delivery");
        uint256 n = handler.orderCount();
        for (uint256 i; i < n; ++i) {
            IOrderEscrow.OrderTerms memory terms = handler.orderAt(i);
            require(terms.payer == address(lines) && terms.itemIds.length != 0, "a credit order without items");
            IOrderEscrow.Order memory order = escrow.orderOf(escrow.orderIdOf(terms));
            require(order.releasedItems & ~order.deliveredItems == 0, "a credit order released an undelivered item");
        }
    }

    /// @notice A lender's redemption never beats a visible impairment: every claim paid at most the
    /// shares' value at the claim and at the request, and each queue holds what was requested.
    function invariant_redemptionNeverBeatsImpairment() public view {
        require(handler.claimsBeatingImpairment() == 0, "a claim paid more than its shares were worth");
        for (uint256 i; i < 3; ++i) {
            address lender = handler.lenders(i);
            (uint256 shares, uint256 assets,) = vault.redeemRequestOf(lender);
            require(shares == handler.ghostQueuedShares(lender), "queued shares differ from requests");
            require(assets == handler.ghostQueuedAssets(lender), "queued value differs from requests");
        }
    }

    /// @dev The verifier wants signers ascending by address.
    function _sortedKeys(uint256[3] memory keys) private pure returns (uint256[3] memory) {
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (vm.addr(keys[j]) < vm.addr(keys[i])) (keys[i], keys[j]) = (keys[j], keys[i]);
            }
        }
        return keys;
    }
}
